/**
 * Node's module compile cache for the programs' entries (issue 14, start-up). Turned on before
 * anything else loads (each main.ts imports this file alone statically, the rest
 * dynamically), in the OS temp dir or NODE_COMPILE_CACHE, as Node decides.
 *
 * An image carries a cache made at its build (`compile-cache/` beside the bundle, written by a
 * start as the image's user, uid 1000). The image's files are read-only and Node writes its
 * cache where it reads it, so the baked files are copied into the cache directory, never over
 * a file already there: a new pod's first start is then as warm as a container restarted in its
 * pod. Node names a cache by its version and the user's uid, so under another uid or another
 * Node the copied files are simply not used, and Node fills the cache as it would have.
 * Imports nothing but Node's own modules: it runs before the compile cache is on.
 */
import { cpSync, existsSync } from 'node:fs';
import { constants, enableCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Turns the compile cache on; when `baked` (a directory) exists, copies what it holds into the
 * cache directory first. Returns the cache directory, or undefined when Node could not use one
 * (it then goes on without).
 */
export function startCompileCache(baked?: URL): string | undefined {
  const { status, directory } = enableCompileCache();
  if (
    status !== constants.compileCacheStatus.ENABLED &&
    status !== constants.compileCacheStatus.ALREADY_ENABLED
  )
    return undefined;
  if (baked !== undefined && directory !== undefined && existsSync(baked)) {
    try {
      // Node reads a module's entry when that module compiles, so files copied now are used.
      cpSync(fileURLToPath(baked), directory, { recursive: true, force: false, errorOnExist: false });
    } catch {
      // A cache is a saving, never a condition to start: a full /tmp only costs the saving.
    }
  }
  return directory;
}
