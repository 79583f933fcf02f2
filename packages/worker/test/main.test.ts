import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertBundleStartsFromCompileCache, binNodeFlags, programNodeFlags } from '@sluice/test-kit';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.ts');

test('invalid settings: every problem is printed and the exit code is 2; unknown names are warned about first', () => {
  const res = spawnSync(process.execPath, ['--conditions=source', MAIN], {
    env: {
      PATH: process.env.PATH,
      SLUICE_WORKER_CONCURRENCY: 'many',
      SLUICE_REDIS_URL: 'http://x',
      // a typo, the local stack's name, the master's setting: only the typo is reported
      SLUICE_WORKER_CONCURENCY: '4',
      SLUICE_STACK_KAFKA_PORT: '19092',
      SLUICE_PLAN_INTERVAL_MS: '500',
    },
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(res.status, 2, res.stderr);
  assert.match(res.stderr, /sluice-worker cannot start/);
  assert.match(res.stderr, /SLUICE_KAFKA_BROKERS is required/);
  assert.match(res.stderr, /SLUICE_WORKER_CONCURRENCY must be a whole number/);
  assert.match(res.stderr, /SLUICE_REDIS_URL must start with redis:\/\//);
  assert.match(
    res.stderr,
    /^sluice-worker: warning: SLUICE_WORKER_CONCURENCY is not a setting; did you mean SLUICE_WORKER_CONCURRENCY\?$/m,
  );
  assert.doesNotMatch(res.stderr, /SLUICE_STACK_KAFKA_PORT|SLUICE_PLAN_INTERVAL_MS/);
});

test("the bundle's files compiled at a start are kept in Node's compile cache, and a start from that cache answers the same", async () => {
  await assertBundleStartsFromCompileCache('worker', 'start-worker');
});

test("the bin caps V8's young generation on its first line, and the image's ENTRYPOINT passes the same flags", () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const flags = programNodeFlags('worker');
  assert.deepEqual(flags, ['--max-semi-space-size=8']);
  const dockerfile = readFileSync(join(root, 'deploy', 'docker', 'Dockerfile.worker'), 'utf8');
  const entry = /^ENTRYPOINT\s+(\[.*\])$/m.exec(dockerfile)?.[1];
  assert.deepEqual(JSON.parse(entry ?? '[]'), [
    'node',
    ...flags,
    '/app/packages/worker/bin/sluice-worker.js',
  ]);
  // Run as a program (its first line), the bin starts the worker with those flags.
  const bundle = join(root, 'packages', 'worker', 'dist', 'bundle', 'main.js');
  assert.ok(existsSync(bundle), `${bundle} is missing: npm run build first (npm test does)`);
  const res = spawnSync(join(root, 'packages', 'worker', 'bin', 'sluice-worker.js'), [], {
    env: { PATH: `${dirname(process.execPath)}:${process.env.PATH}`, NODE_DEBUG: '' },
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(res.status, 2, res.stderr);
  assert.match(res.stderr, /sluice-worker cannot start/);
});

test('binNodeFlags reads the flags of an env -S shebang and nothing else', () => {
  assert.deepEqual(binNodeFlags('#!/usr/bin/env -S node --a=1 --b\nimport x;'), ['--a=1', '--b']);
  assert.deepEqual(binNodeFlags('#!/usr/bin/env node\n'), []);
  assert.deepEqual(binNodeFlags('// no shebang\n'), []);
});
