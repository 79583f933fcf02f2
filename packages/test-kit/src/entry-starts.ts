/**
 * For the entry tests of `sluice-master` and `sluice-worker`: two starts of an entry with bad
 * settings (so it exits 2 at once) in a temp dir of their own, to check that the first leaves
 * Node's compile cache behind (main.ts turns it on; issue 14, start-up) and the second, from
 * that cache, answers the same.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Asserts both starts exit 2, the first leaving >100 cached modules, the second saying the same. */
export function assertStartsFromCompileCache(main: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-compile-cache-'));
  try {
    const start = () =>
      spawnSync(process.execPath, ['--conditions=source', main], {
        // No NODE_COMPILE_CACHE (that alone would turn the cache on): main.ts does, in the temp dir.
        env: { PATH: process.env.PATH, TMPDIR: dir, SLUICE_REDIS_URL: 'http://x' },
        encoding: 'utf8',
        timeout: 20_000,
      });
    const cold = start();
    assert.equal(cold.status, 2, cold.stderr);
    const cached = readdirSync(join(dir, 'node-compile-cache'), { recursive: true }).length;
    assert.ok(cached > 100, `the compile cache holds the modules loaded (${cached} files)`);
    const warm = start();
    assert.equal(warm.status, 2, warm.stderr);
    assert.equal(warm.stderr, cold.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
