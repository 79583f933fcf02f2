/** Sluice's version, reported by workers and masters. */
export const SLUICE_VERSION = '0.1.0';

/** `sluice_build_info`'s help, the same on masters and workers (one metric, one meaning). */
export const BUILD_INFO_HELP = 'Always 1; labels: the Sluice release and the Node.js version running it.';

/** The labels of `sluice_build_info`: which release runs, on which Node.js. */
export function buildInfoLabels(): { version: string; node: string } {
  return { version: SLUICE_VERSION, node: process.version };
}
