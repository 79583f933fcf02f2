/**
 * Defense in depth for answers that carry text from elsewhere (error messages of Kafka, Redis,
 * ZooKeeper, workers): any configured secret that shows up in them is replaced by `***`
 * before the answer leaves. Secrets are not supposed to reach those texts at all; this
 * makes sure an unexpected error message cannot carry one to the status page.
 */
import type { CommonConfig } from '@sluice/shared';

/** Shorter strings are not treated as secrets (they would mask ordinary words). */
const MIN_SECRET_LENGTH = 4;

/** The secrets in the settings: Redis password, Kafka SASL password, ZooKeeper digest, API tokens. */
export function configuredSecrets(
  cfg: Pick<CommonConfig, 'redisUrl' | 'kafkaSasl' | 'zookeeperDigest' | 'apiTokens'>,
): string[] {
  const out: string[] = [];
  const userinfo = /^[a-z]+:\/\/([^@/]*)@/i.exec(cfg.redisUrl)?.[1];
  if (userinfo) {
    out.push(userinfo);
    const password = userinfo.slice(userinfo.indexOf(':') + 1);
    out.push(password);
    try {
      out.push(decodeURIComponent(password));
    } catch {
      // not URL-encoded
    }
  }
  if (cfg.kafkaSasl?.password) out.push(cfg.kafkaSasl.password);
  if (cfg.zookeeperDigest) {
    out.push(cfg.zookeeperDigest);
    out.push(cfg.zookeeperDigest.slice(cfg.zookeeperDigest.indexOf(':') + 1));
  }
  out.push(...cfg.apiTokens);
  return [...new Set(out.filter((s) => s.length >= MIN_SECRET_LENGTH))].sort((a, b) => b.length - a.length);
}

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
