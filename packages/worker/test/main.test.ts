import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertBundleStartsFromCompileCache } from '@sluice/test-kit';

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
