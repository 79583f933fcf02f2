/** Sluice's version, reported by workers and masters. */
export const SLUICE_VERSION = '0.1.0';
