/**
 * Defense in depth for answers that carry text from elsewhere (error messages of Kafka, Redis,
 * ZooKeeper, workers): any configured secret that shows up in them is replaced by `***`
 * before the answer leaves. Secrets are not supposed to reach those texts at all; this
 * makes sure an unexpected error message cannot carry one to the status page.
 */
// Which settings are secret, and which parts of their values to hide, is said by the settings
// table of @sluice/shared; this file only applies it.
export { configuredSecrets } from '@sluice/shared';

/** A copy of `value` whose strings have every secret replaced by `***` (longest first). */
export function scrubSecrets<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      let s = v;
      for (const secret of secrets) if (s.includes(secret)) s = s.split(secret).join('***');
      return s;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x);
      return out;
    }
    return v;
  };
  return walk(value) as T;
}
