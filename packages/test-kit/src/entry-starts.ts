/**
 * For the entry tests of `sluice-master` and `sluice-worker`: the program's bundle, as
 * `npm run build` makes it (scripts/bundle.ts), written to a temp dir in its dist and started twice with
 * bad settings (so it exits 2 once its modules are loaded), to check that the first start
 * leaves Node's compile cache behind (main.ts turns it on; issue 14, start-up) and that the
 * second is served from it for every file of the bundle it loads, and answers the same.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Asserts both starts of the program's bundle exit 2 with the same message; the second, with
 * Node's compile-cache diagnostics on, has the cached code of every bundle file it loads
 * accepted (none compiled afresh), among them the chunk of the program's start module
 * (`startName`: `master` or `start-worker`).
 */
export async function assertBundleStartsFromCompileCache(
  program: 'master' | 'worker',
  startName: string,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-compile-cache-'));
  // Beside the real bundle, so that its external packages resolve from the repository's
  // node_modules as they do from dist/bundle.
  const dist = join(import.meta.dirname, '..', '..', program, 'dist');
  mkdirSync(dist, { recursive: true });
  const outdir = mkdtempSync(join(dist, 'entry-test-'));
  try {
    // Loaded here, not with the kit: only these tests need esbuild.
    const { bundleProgram } = await import('../../../scripts/bundle.ts');
    const { main } = await bundleProgram(program, outdir);
    const start = (debug: boolean) =>
      spawnSync(process.execPath, [main], {
        // No NODE_COMPILE_CACHE (that alone would turn the cache on): main.ts does, in the temp dir.
        env: {
          PATH: process.env.PATH,
          TMPDIR: dir,
          SLUICE_REDIS_URL: 'http://x',
          ...(debug ? { NODE_DEBUG_NATIVE: 'COMPILE_CACHE' } : {}),
        },
        encoding: 'utf8',
        timeout: 20_000,
      });
    const cold = start(false);
    assert.equal(cold.status, 2, cold.stderr);
    const warm = start(true);
    assert.equal(warm.status, 2, warm.stderr);
    const lines = warm.stderr.split('\n');
    const diagnostics = lines.filter((l) => l.startsWith('[compile cache]'));
    const said = lines.filter((l) => !l.startsWith('[compile cache]')).join('\n');
    assert.equal(said, cold.stderr);

    const prefix = pathToFileURL(outdir).href;
    const fileOf = (line: string) => new RegExp(`for ESM (${prefix}/\\S+?\\.js)`).exec(line)?.[1];
    const loaded = new Set(diagnostics.map(fileOf).filter((f) => f !== undefined));
    const accepted = new Set(
      diagnostics
        .filter((l) => l.includes('was accepted'))
        .map(fileOf)
        .filter((f) => f !== undefined),
    );
    assert.ok(loaded.size > 0, `no bundle file in the diagnostics:\n${diagnostics.join('\n')}`);
    assert.deepEqual(
      [...loaded].filter((f) => !accepted.has(f)),
      [],
      'bundle files compiled afresh at the second start',
    );
    assert.ok(
      [...accepted].some((f) => basename(f).startsWith(`${startName}-`)),
      `the chunk of ${startName}.ts came from the cache: ${[...accepted].map((f) => basename(f)).join(' ')}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(outdir, { recursive: true, force: true });
  }
}
