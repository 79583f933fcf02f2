/**
 * The CLI's version, read from its own package.json: the one `npm pack` put in the tarball,
 * so `sluice --version` tells which CLI is installed. The file sits one folder above the
 * source (src/) and three above the build (dist/cli/src/): the nearest package.json named
 * @sluice/cli above this module is it.
 */
import { readFileSync } from 'node:fs';

export function cliVersion(): string {
  for (let up = 1; up <= 4; up++) {
    try {
      const pkg = JSON.parse(
        readFileSync(new URL(`${'../'.repeat(up)}package.json`, import.meta.url), 'utf8'),
      );
      if (pkg?.name === '@sluice/cli' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no package.json at this level: look further up
    }
  }
  return 'unknown';
}
