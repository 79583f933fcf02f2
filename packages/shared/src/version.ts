/** Sluice's version, reported by workers and masters. */
export const SLUICE_VERSION = '0.1.0';

/**
 * `sluice_build_info`, the same metric on masters and workers (one name, one meaning): its
 * definition for prom-client's Gauge, and its labels, which release runs on which Node.js.
 */
export const BUILD_INFO = {
  name: 'sluice_build_info',
  help: 'Always 1; labels: the Sluice release and the Node.js version running it.',
  labelNames: ['version', 'node'] as const,
};

export function buildInfoLabels(): { version: string; node: string } {
  return { version: SLUICE_VERSION, node: process.version };
}
