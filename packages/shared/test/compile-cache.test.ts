/** startCompileCache: an image's baked cache is copied into Node's cache directory, never over it. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

const MODULE = pathToFileURL(join(import.meta.dirname, '..', 'src', 'compile-cache.ts')).href;

/** Runs startCompileCache(baked) in a process of its own (the cache is per process). */
function start(tmp: string, baked: string): string {
  const script = `import { startCompileCache } from ${JSON.stringify(MODULE)};
process.stdout.write(String(startCompileCache(new URL(${JSON.stringify(pathToFileURL(baked).href + '/')}))));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, TMPDIR: tmp },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('the baked files are copied into the cache directory, and a file already there is kept', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cc-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const baked = join(dir, 'baked');
  mkdirSync(join(baked, 'v24-x64-abc-1000'), { recursive: true });
  writeFileSync(join(baked, 'v24-x64-abc-1000', 'a1'), 'baked a1');
  writeFileSync(join(baked, 'v24-x64-abc-1000', 'b2'), 'baked b2');
  const tmp = join(dir, 'tmp');
  const cache = join(tmp, 'node-compile-cache');
  mkdirSync(join(cache, 'v24-x64-abc-1000'), { recursive: true });
  writeFileSync(join(cache, 'v24-x64-abc-1000', 'b2'), 'written by a start');

  assert.equal(start(tmp, baked), cache);
  assert.equal(readFileSync(join(cache, 'v24-x64-abc-1000', 'a1'), 'utf8'), 'baked a1');
  assert.equal(readFileSync(join(cache, 'v24-x64-abc-1000', 'b2'), 'utf8'), 'written by a start');
});

test('without a baked cache the cache is on and nothing is copied', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cc-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(start(dir, join(dir, 'absent')), join(dir, 'node-compile-cache'));
});
