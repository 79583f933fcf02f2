/**
 * The exactly-once rules of DESIGN.md, stated once. The planner, tracker, supervisor and
 * worker call these instead of re-deriving them. Every state change of a range is one
 * conditional ZooKeeper write (a version-checked setData, or a multi-op that also checks the
 * leader's epoch); these functions decide whether the change is allowed and what it writes.
 *
 *  1. A range `[start, end)` is the unit of work; a partition's ranges tile its offset line
 *     with no gap and no overlap ({@link checkTiling}).
 *  2. Plan once: a range node, once created, is never re-planned differently; requeues bump
 *     its attempt ({@link requeue}); a result of an older attempt is refused ({@link checkAttempt}).
 *  3. Output is a pure function of the range and its output snapshot (object-key.ts).
 *  4. A completed range is never rewritten: a worker checks the commit record first and
 *     records every key before uploading it ({@link recordKeys}); done is terminal
 *     ({@link complete}).
 *  5. The committed offset is the end of the contiguous run of done ranges from the current
 *     committed offset, and only moves forward ({@link advanceCommitted}).
 *  7. A range whose worker is gone, or that made no progress for the stall timeout, is
 *     requeued ({@link isStalled}).
 */
import { ErrorCodes, SluiceError } from './errors.ts';
import type { RangeRecord, RangeResult } from './records.ts';

export interface StartSpan {
  start: bigint;
  end: bigint;
}

/** Invariant 1: sorted, contiguous, non-empty spans from `from`. Returns the end of the tiling. */
export function checkTiling(from: bigint, spans: StartSpan[]): bigint {
  let at = from;
  for (const s of [...spans].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))) {
    if (s.end <= s.start) throw new Error(`empty or reversed range [${s.start}, ${s.end})`);
    if (s.start !== at) {
      throw new Error(
        s.start > at
          ? `gap in planned ranges: [${at}, ${s.start})`
          : `overlapping range [${s.start}, ${s.end}) before ${at}`,
      );
    }
    at = s.end;
  }
  return at;
}

/** Invariant 2: only the range's current attempt may act on it. */
export function checkAttempt(record: RangeRecord, attempt: number): void {
  if (record.attempt !== attempt) {
    throw new SluiceError(
      ErrorCodes.STALE_ATTEMPT,
      `attempt ${attempt} of range ${record.topic}-${record.partition}-${record.start}-${record.end} is stale: the current attempt is ${record.attempt}`,
      { retryable: false, details: { current: record.attempt, attempt } },
    );
  }
}

function now(): string {
  return new Date().toISOString();
}

/** The worker starts (or takes over) the current attempt. Done ranges never restart. */
export function start(record: RangeRecord, attempt: number, worker: string): RangeRecord {
  checkAttempt(record, attempt);
  if (record.state === 'done') {
    throw new SluiceError(ErrorCodes.RANGE_STATE, 'range is already done', { retryable: false });
  }
  const t = now();
  return {
    ...record,
    state: 'active',
    worker,
    startedAt: t,
    progressAt: t,
    updatedAt: t,
    progressOffset: record.start,
  };
}

/** Progress heartbeat of the current attempt. */
export function progress(record: RangeRecord, attempt: number, nextOffset: bigint): RangeRecord {
  checkAttempt(record, attempt);
  if (record.state !== 'active') {
    throw new SluiceError(ErrorCodes.RANGE_STATE, `range is ${record.state}, not active`, {
      retryable: false,
    });
  }
  const t = now();
  return { ...record, progressAt: t, updatedAt: t, progressOffset: nextOffset.toString() };
}

/** Invariant 4: record data keys before their upload starts. Returns the record unchanged if all are known. */
export function recordKeys(record: RangeRecord, attempt: number, keys: string[]): RangeRecord {
  checkAttempt(record, attempt);
  if (record.state === 'done') {
    throw new SluiceError(ErrorCodes.RANGE_STATE, 'range is already done; its objects are final', {
      retryable: false,
    });
  }
  const known = new Set(record.keys);
  const added = keys.filter((k) => !known.has(k));
  if (added.length === 0) return record;
  const t = now();
  return { ...record, keys: [...record.keys, ...added], progressAt: t, updatedAt: t };
}

/** Invariant 4/5: the current attempt completes the range. Done is terminal. */
export function complete(record: RangeRecord, attempt: number, result: RangeResult): RangeRecord {
  checkAttempt(record, attempt);
  if (record.state === 'done') {
    throw new SluiceError(ErrorCodes.RANGE_STATE, 'range is already done', { retryable: false });
  }
  return { ...record, state: 'done', result, error: null, updatedAt: now() };
}

/** The current attempt gave up (after its own retries); the leader requeues it after a backoff. */
export function fail(record: RangeRecord, attempt: number, error: string): RangeRecord {
  checkAttempt(record, attempt);
  if (record.state === 'done') {
    throw new SluiceError(ErrorCodes.RANGE_STATE, 'range is already done', { retryable: false });
  }
  return { ...record, state: 'failed', failures: record.failures + 1, error, updatedAt: now() };
}

/** Invariant 2/7: a new attempt of a range that is not done. */
export function requeue(record: RangeRecord, reason: string): RangeRecord {
  if (record.state === 'done') {
    throw new SluiceError(ErrorCodes.RANGE_STATE, 'a done range is never requeued', { retryable: false });
  }
  return {
    ...record,
    attempt: record.attempt + 1,
    state: 'planned',
    worker: null,
    startedAt: null,
    progressAt: null,
    progressOffset: null,
    requeueReason: reason,
    updatedAt: now(),
  };
}

/** Backoff before the leader requeues a failed range: 5 s doubling to 5 min. */
export function failedRetryDelayMs(failures: number): number {
  return Math.min(5_000 * 2 ** Math.max(0, failures - 1), 300_000);
}

/** Invariant 7: an active range that showed no progress for the stall timeout. */
export function isStalled(record: RangeRecord, stallTimeoutMs: number, nowMs = Date.now()): boolean {
  if (record.state !== 'active' || !record.progressAt) return false;
  return nowMs - Date.parse(record.progressAt) > stallTimeoutMs;
}

/**
 * Invariant 5: from the committed offset, the contiguous run of done ranges. Returns the new
 * committed offset and the ranges it covers (to prune), in order. Never moves backward.
 */
export function advanceCommitted<T extends StartSpan & { done: boolean }>(
  committed: bigint,
  ranges: T[],
): { committed: bigint; covered: T[] } {
  const sorted = [...ranges].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  let at = committed;
  const covered: T[] = [];
  for (const r of sorted) {
    if (r.end <= at) continue;
    if (r.start !== at || !r.done) break;
    at = r.end;
    covered.push(r);
  }
  return { committed: at, covered };
}

// ---------------------------------------------------------------------------------------------
// The worker's side: what one attempt does with its job (docs/range-lifecycle.md, "Working").
// Pure decisions; the worker reads the node and the commit record, these say what follows.
// ---------------------------------------------------------------------------------------------

/**
 * What a worker does with a job, given the range node it finds (invariant 2 and 4):
 *  - `gone`: no node: the range was committed and pruned; nothing to do.
 *  - `stale`: the node's attempt is not the job's: a requeue superseded this job.
 *  - `done`: the job's attempt already completed the range (done is terminal).
 *  - `act`: the job's attempt is current and not done: look for a commit record, then work.
 */
export type JobDecision = 'act' | 'stale' | 'done' | 'gone';

export function decideJob(
  record: Pick<RangeRecord, 'attempt' | 'state'> | null,
  attempt: number,
): JobDecision {
  if (record === null) return 'gone';
  if (record.attempt !== attempt) return 'stale';
  if (record.state === 'done') return 'done';
  return 'act';
}

/**
 * Invariant 4: the objects an attempt removes once this range's commit record stands: every
 * key recorded by an attempt of the range (earlier ones' and this one's) that the standing
 * record does not list, each once, in the order recorded. Never call it before the commit
 * record stands: a superseded attempt may still be alive and about to write a commit record
 * that lists an earlier key, and removing that key first loses its records.
 */
export function keysToRemove(recorded: Iterable<string>, standing: Pick<RangeResult, 'objects'>): string[] {
  const listed = new Set(standing.objects.map((o) => o.key));
  return [...new Set(recorded)].filter((k) => !listed.has(k));
}
