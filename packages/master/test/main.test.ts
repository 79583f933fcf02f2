/** `sluice-master` at start: bad settings exit 2 with every problem; unknown names are warned about. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertBundleStartsFromCompileCache } from '@sluice/test-kit';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.ts');

test('an unknown SLUICE_ name is a warning with the closest setting, printed also when the settings then fail', () => {
  const res = spawnSync(process.execPath, ['--conditions=source', MAIN], {
    env: {
      PATH: process.env.PATH,
      SLUICE_STALL_TIMOUT_MS: '5000',
      SLUICE_STACK_ZK_PORT: '12181',
      SLUICE_WORKER_CONCURRENCY: '4',
      SLUICE_REDIS_URL: 'http://x',
    },
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(res.status, 2, res.stderr);
  assert.match(
    res.stderr,
    /^sluice-master: warning: SLUICE_STALL_TIMOUT_MS is not a setting; did you mean SLUICE_STALL_TIMEOUT_MS\?$/m,
  );
  // The local stack's names and the worker's settings are not mistakes.
  assert.doesNotMatch(res.stderr, /SLUICE_STACK_ZK_PORT|SLUICE_WORKER_CONCURRENCY/);
  assert.match(res.stderr, /sluice-master cannot start/);
  assert.match(res.stderr, /SLUICE_KAFKA_BROKERS is required/);
  assert.match(res.stderr, /SLUICE_REDIS_URL must start with redis:\/\//);
});

test("the bundle's files compiled at a start are kept in Node's compile cache, and a start from that cache answers the same", async () => {
  await assertBundleStartsFromCompileCache('master', 'master');
});
