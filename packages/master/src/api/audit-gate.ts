/**
 * What an audit on request may cost the master. Every audit downloads commit records (and a
 * deep one every object) from S3, so: one audit per topic runs at a time on this master (a
 * second gets 429 with `Retry-After`, never a second copy of the work); an answer is reused for
 * SLUICE_AUDIT_CACHE_MS while the topic's committed offsets and record are unchanged (the
 * answer says `cached: true`, and `checkedAt` is when it was computed), and a change through
 * this API forgets every answer; a window wider than SLUICE_AUDIT_MAX_OFFSETS is refused with
 * how to narrow it.
 */
import { ErrorCodes, SluiceError, ValidationError } from '@sluice/shared';
import type { AuditPartition } from '../integrity/audit.ts';
import type { AuditWindow } from '../integrity/audit-runner.ts';

/** Answers kept at most (the oldest goes first). */
const MAX_CACHED = 256;
/** The wait suggested when no audit of the topic has finished on this master yet. */
const DEFAULT_RETRY_S = 5;

interface Cached<T> {
  answer: T;
  at: number;
  fingerprint: string;
}

export class AuditGate<T> {
  readonly #cacheMs: number;
  readonly #now: () => number;
  readonly #running = new Map<string, number>();
  readonly #lastMs = new Map<string, number>();
  readonly #cache = new Map<string, Cached<T>>();

  constructor(cacheMs: number, now: () => number = Date.now) {
    this.#cacheMs = cacheMs;
    this.#now = now;
  }

  /**
   * The answer of an earlier audit of the same topic, window and depth, if it is younger than
   * the cache time and was computed from the same state (`fingerprint`).
   */
  cached(key: string, fingerprint: string): T | null {
    const hit = this.#cache.get(key);
    if (!hit) return null;
    if (this.#now() - hit.at >= this.#cacheMs || hit.fingerprint !== fingerprint) {
      this.#cache.delete(key);
      return null;
    }
    return hit.answer;
  }

  /** Runs `work` as the topic's one audit; BUSY (429) when one is already running. */
  async run(topic: string, key: string, fingerprint: string, work: () => Promise<T>): Promise<T> {
    const started = this.#running.get(topic);
    if (started !== undefined) {
      const last = this.#lastMs.get(topic);
      const wait =
        last === undefined
          ? DEFAULT_RETRY_S
          : Math.max(1, Math.ceil((last - (this.#now() - started)) / 1000));
      throw new SluiceError(
        ErrorCodes.BUSY,
        `an audit of topic ${topic} is already running on this master (one at a time per topic); try again in ${wait} s, when its answer is cached`,
        { details: { retryAfterSeconds: wait } },
      );
    }
    const at = this.#now();
    this.#running.set(topic, at);
    try {
      const answer = await work();
      this.#lastMs.set(topic, this.#now() - at);
      if (this.#cacheMs > 0) {
        if (this.#cache.size >= MAX_CACHED) this.#cache.delete(this.#cache.keys().next().value!);
        this.#cache.set(key, { answer, at, fingerprint });
      }
      return answer;
    } finally {
      this.#running.delete(topic);
    }
  }

  /** Forgets every cached answer (a change was made through the API). */
  clear(): void {
    this.#cache.clear();
  }
}

/** How many offsets an audit of `window` checks: per partition, the window cut to what is committed. */
export function windowOffsets(partitions: readonly AuditPartition[], window: AuditWindow): bigint {
  let n = 0n;
  for (const p of partitions) {
    if (window.partition !== undefined && p.partition !== window.partition) continue;
    if (p.committedOffset === null) continue;
    const lo = [window.from ?? 0n, p.startOffset ?? 0n].reduce((a, b) => (a > b ? a : b));
    const hi = window.to !== undefined && window.to < p.committedOffset ? window.to : p.committedOffset;
    if (hi > lo) n += hi - lo;
  }
  return n;
}

/** Refuses (400) an audit window that would check more than `max` offsets, saying how to narrow it. */
export function checkWindowSize(
  partitions: readonly AuditPartition[],
  window: AuditWindow,
  max: number,
): void {
  const n = windowOffsets(partitions, window);
  if (n <= BigInt(max)) return;
  const example = partitions.find(
    (p) => p.committedOffset !== null && (window.partition ?? p.partition) === p.partition,
  );
  const from = window.from ?? example?.startOffset ?? 0n;
  const hint = example
    ? ` (for example partition=${example.partition}&fromOffset=${from}&toOffset=${from + BigInt(max)}; with the CLI: sluice audit --partition ${example.partition} --from-offset ${from} --to-offset ${from + BigInt(max)})`
    : '';
  throw new ValidationError([
    {
      path: 'querystring',
      message: `this audit would check ${n} offsets, more than the ${max} one audit may check (SLUICE_AUDIT_MAX_OFFSETS); narrow it with partition, fromOffset and toOffset${hint}, or raise SLUICE_AUDIT_MAX_OFFSETS on the master`,
    },
  ]);
}
