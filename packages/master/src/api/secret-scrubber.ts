/**
 * Defense in depth for answers that carry text from elsewhere (error messages of Kafka, Redis,
 * ZooKeeper, workers): any configured secret, and anything shaped like an AWS access key id
 * or secret key, that shows up in them is replaced by `***` before the answer leaves. Secrets are not supposed to reach those texts at all; this
 * makes sure an unexpected error message cannot carry one to the status page.
 */
// Which settings are secret, and which parts of their values to hide, is said by the settings
// table of @sluice/shared; this file only applies it.
export { configuredSecrets } from '@sluice/shared';

/**
 * AWS credentials are not Sluice settings (the AWS SDK reads them from the environment, a
 * profile or the pod's role), so they are not in the list of configured secrets; an S3 or SDK
 * error that quotes one is caught by its shape instead:
 * - access key ids: `AKIA` (long-term) or `ASIA` (temporary) and 16 capitals or digits;
 * - secret access keys: 40 characters of base64 (letters, digits, `/`, `+`) standing alone.
 *   A run of 40 such characters with capitals, small letters and digits is hardly anything
 *   else (hex digests have no capitals; paths and names have `-`, `.` or `_`).
 */
const AWS_ACCESS_KEY_ID = /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])/g;
const AWS_SECRET_KEY_LIKE = /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;
const looksLikeSecretKey = (s: string) => /[A-Z]/.test(s) && /[a-z]/.test(s) && /\d/.test(s);

/** `s` with every configured secret (longest first) and every AWS key replaced by `***`. */
function scrubText(text: string, secrets: readonly string[]): string {
  let s = text;
  for (const secret of secrets) if (s.includes(secret)) s = s.split(secret).join('***');
  return s
    .replace(AWS_ACCESS_KEY_ID, '***')
    .replace(AWS_SECRET_KEY_LIKE, (m) => (looksLikeSecretKey(m) ? '***' : m));
}

/** A copy of `value` whose strings have every secret replaced by `***`. */
export function scrubSecrets<T>(value: T, secrets: readonly string[]): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return scrubText(v, secrets);
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
