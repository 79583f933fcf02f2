/**
 * A token bucket per client address for the requests that cost: changes (every method but GET
 * and HEAD) and routes marked `costly` (audits). A loop of retries or registrations, or a
 * stranger hammering the API, gets 429 with `Retry-After` instead of work. The bucket holds
 * SLUICE_RATE_LIMIT_PER_MINUTE requests and refills at that rate, so a burst of that many is
 * allowed and then one every 60/N seconds. Kept in this process: each master limits on its own.
 */
import { ErrorCodes, type MasterConfig, SluiceError } from '@sluice/shared';
import type { FastifyReply, FastifyRequest } from 'fastify';

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets kept before full ones (clients that went quiet) are forgotten. */
const SWEEP_AT = 10_000;

export class TokenBuckets {
  readonly #capacity: number;
  readonly #perMs: number;
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;

  constructor(perMinute: number, now: () => number = Date.now) {
    this.#capacity = perMinute;
    this.#perMs = perMinute / 60_000;
    this.#now = now;
  }

  /** Takes one token of `key`'s bucket: 0 when granted, else the seconds until one is there. */
  take(key: string): number {
    const now = this.#now();
    if (this.#buckets.size >= SWEEP_AT) this.#sweep(now);
    const b = this.#buckets.get(key) ?? { tokens: this.#capacity, at: now };
    b.tokens = Math.min(this.#capacity, b.tokens + (now - b.at) * this.#perMs);
    b.at = now;
    this.#buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.#perMs / 1000));
  }

  #sweep(now: number): void {
    for (const [k, b] of this.#buckets)
      if (b.tokens + (now - b.at) * this.#perMs >= this.#capacity) this.#buckets.delete(k);
  }
}

/** Whether a request is one the limit counts. */
export function isLimited(req: FastifyRequest): boolean {
  return !(req.method === 'GET' || req.method === 'HEAD') || req.routeOptions.config?.costly === true;
}

export function rateLimit(cfg: Pick<MasterConfig, 'http'>) {
  const buckets = new TokenBuckets(cfg.http.rateLimitPerMinute);
  return async function limit(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (!isLimited(req)) return;
    const wait = buckets.take(req.ip);
    if (wait === 0) return;
    reply.header('retry-after', String(wait));
    throw new SluiceError(
      ErrorCodes.RATE_LIMITED,
      `too many changes and audits from ${req.ip}: at most ${cfg.http.rateLimitPerMinute} a minute (SLUICE_RATE_LIMIT_PER_MINUTE); try again in ${wait} s`,
    );
  };
}
