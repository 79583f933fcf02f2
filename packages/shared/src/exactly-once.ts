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
 *     requeued ({@link requeueReason}, {@link jobRequeueReason}, {@link isStalled}).
 *
 * Creation ({@link newRanges}, {@link newPartitionState}) and commit arithmetic
 * ({@link commitTotals}) live here too, so that a topic's ranges and a replay's are made and
 * counted by one rule. A write that would break an invariant is refused with
 * `SLUICE_ERR_INVARIANT`, never retried. Log lines name a range by {@link rangeLabel}.
 */
import { ErrorCodes, SluiceError } from './errors.ts';
import type { PartitionState, RangeRecord, RangeResult } from './records.ts';
import type { OutputSpec } from './topic-config.ts';

export interface StartSpan {
  start: bigint;
  end: bigint;
}

/**
 * How every log line names a range (its `range` field): `{topic}-{partition}-{start}-{end}`,
 * the range id of the API and CLI, so that a log line can be pasted into `sluice range`.
 */
export function rangeLabel(r: {
  topic: string;
  partition: number;
  start: bigint | string;
  end: bigint | string;
}): string {
  return `${r.topic}-${r.partition}-${r.start}-${r.end}`;
}

/**
 * A write refused because it would break an invariant. Nothing was written, and retrying
 * cannot help: it is a bug or a hand-edited ZooKeeper node.
 */
function invariantBroken(what: string, details: Record<string, unknown>): SluiceError {
  return new SluiceError(
    ErrorCodes.INVARIANT,
    `${what}: an exactly-once invariant would break, so nothing was written. This is a bug or a hand-edited ZooKeeper node; report it with the master's log and do not edit range or partition nodes by hand`,
    { retryable: false, details },
  );
}

/** Invariant 1: sorted, contiguous, non-empty spans from `from`. Returns the end of the tiling. */
export function checkTiling(from: bigint, spans: readonly StartSpan[]): bigint {
  let at = from;
  for (const s of [...spans].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))) {
    const span = { start: s.start.toString(), end: s.end.toString() };
    if (s.end <= s.start) throw invariantBroken(`empty or reversed range [${s.start}, ${s.end})`, span);
    if (s.start !== at) {
      throw invariantBroken(
        s.start > at
          ? `gap in planned ranges: [${at}, ${s.start})`
          : `overlapping range [${s.start}, ${s.end}) before ${at}`,
        { ...span, expectedStart: at.toString() },
      );
    }
    at = s.end;
  }
  return at;
}

/** What a new range inherits from its line: the topic as planned and the output snapshot (invariant 3). */
export interface RangeOrigin {
  topic: string;
  topicId: string;
  partition: number;
  output: OutputSpec;
}

/** Invariant 2: a range as first planned, attempt 1. */
export function newRange(origin: RangeOrigin, span: StartSpan, nowIso: string): RangeRecord {
  return {
    v: 1,
    topic: origin.topic,
    topicId: origin.topicId,
    partition: origin.partition,
    start: span.start.toString(),
    end: span.end.toString(),
    attempt: 1,
    state: 'planned',
    output: origin.output,
    plannedAt: nowIso,
    updatedAt: nowIso,
    worker: null,
    startedAt: null,
    progressAt: null,
    progressOffset: null,
    keys: [],
    failures: 0,
    error: null,
    requeueReason: null,
    result: null,
  };
}

/**
 * Invariants 1 and 2: the new ranges of a line whose planned offset is `from`. Refused with
 * `SLUICE_ERR_INVARIANT` unless they tile the line onward from `from`.
 */
export function newRanges(
  origin: RangeOrigin,
  from: bigint,
  spans: readonly StartSpan[],
  nowIso: string,
): RangeRecord[] {
  checkTiling(from, spans);
  return spans.map((s) => newRange(origin, s, nowIso));
}

/** A topic partition's state when Sluice first sees it: nothing committed, the line starts at `start`. */
export function newPartitionState(start: bigint, nowIso: string): PartitionState {
  return {
    v: 1,
    committedOffset: start.toString(),
    committedRecords: 0,
    committedBytes: 0,
    committedRanges: 0,
    eventTimeFallbacks: 0,
    gapOffsets: '0',
    bytesPerOffset: 0,
    committedMaxTimestamp: null,
    updatedAt: nowIso,
    startOffset: start.toString(),
  };
}

/** Invariant 2: only the range's current attempt may act on it. */
export function checkAttempt(record: RangeRecord, attempt: number): void {
  if (record.attempt !== attempt) {
    throw new SluiceError(
      ErrorCodes.STALE_ATTEMPT,
      `attempt ${attempt} of range ${rangeLabel(record)} is stale: the current attempt is ${record.attempt}`,
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

/**
 * The current attempt gave up. `range` (after its own retries): the range's failures grow and
 * the leader requeues it after {@link failedRetryDelayMs}. `worker`: the worker's own setup
 * failed it (attempt-fault.ts: its credentials, an endpoint it cannot reach); the failures do
 * not grow and the leader requeues it at once, for another worker to take.
 */
export function fail(
  record: RangeRecord,
  attempt: number,
  error: string,
  fault: 'range' | 'worker' = 'range',
): RangeRecord {
  checkAttempt(record, attempt);
  if (record.state === 'done') {
    throw new SluiceError(ErrorCodes.RANGE_STATE, 'range is already done', { retryable: false });
  }
  if (fault === 'worker') return { ...record, state: 'failed', workerFault: true, error, updatedAt: now() };
  const { workerFault: _, ...rest } = record;
  return { ...rest, state: 'failed', failures: record.failures + 1, error, updatedAt: now() };
}

/** Invariant 2/7: a new attempt of a range that is not done. */
export function requeue(record: RangeRecord, reason: string): RangeRecord {
  if (record.state === 'done') {
    throw new SluiceError(ErrorCodes.RANGE_STATE, 'a done range is never requeued', { retryable: false });
  }
  const { workerFault: _, ...rest } = record;
  return {
    ...rest,
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

/** Why a new attempt of a range exists (`RangeRecord.requeueReason`). */
export type RequeueReason =
  | 'worker-lost'
  | 'stalled'
  | 'failed'
  | 'worker-fault'
  | 'operator'
  | 'queue-lost'
  | 'destination-changed';

/**
 * Invariants 3 and 4 after a topic's output changed (issue 15: a range planned for a bucket
 * that is gone must not hold the in-flight limit for ever): may the range drop its snapshot
 * and take `current` under a new attempt? Only when no attempt can have written anything
 * under the old snapshot, nor can still write:
 *  - not `done` (a done range's objects and commit record are final);
 *  - not `active`: a worker is working the current attempt now, and a range without data
 *    objects (a retention gap) writes its commit record without recording a key first;
 *  - no key recorded: every attempt records a data key in the node BEFORE the first byte of
 *    it is uploaded, and the version-checked write of the new attempt makes every later
 *    `recordKeys` of an older attempt fail, so no data object of the range exists or can
 *    appear under the old snapshot;
 *  - the destination (bucket or prefix) of its snapshot differs from `current`'s. A change of
 *    format, compression or the like alone applies to ranges planned afterwards, as a PATCH
 *    says; a new destination is the way out of one that stopped working, so the ranges follow
 *    it, taking the whole current output with it.
 * Keys of a range that may have written stay what they were: such a range keeps its snapshot.
 */
export function mayFollowOutput(
  record: Pick<RangeRecord, 'state' | 'keys' | 'output'>,
  current: OutputSpec,
): boolean {
  if (record.state !== 'planned' && record.state !== 'failed') return false;
  if (record.keys.length > 0) return false;
  const from = record.output.destination;
  return from.bucket !== current.destination.bucket || from.prefix !== current.destination.prefix;
}

/**
 * The new attempt of a range that follows the topic's changed output ({@link mayFollowOutput}):
 * the new snapshot, planned afresh. Its failures are forgotten, since they were the old
 * destination's: the backoff of the new attempt starts over.
 */
export function followOutput(record: RangeRecord, current: OutputSpec): RangeRecord {
  if (!mayFollowOutput(record, current)) {
    throw new SluiceError(
      ErrorCodes.RANGE_STATE,
      `range ${rangeLabel(record)} may have written under its snapshot (state ${record.state}, ${record.keys.length} keys recorded): it keeps it`,
      { retryable: false },
    );
  }
  return {
    ...requeue(record, 'destination-changed'),
    output: current,
    failures: 0,
    error: null,
  };
}

/** What the leader knows about a range in flight when it supervises it. */
export interface SupervisionFacts {
  nowMs: number;
  stallTimeoutMs: number;
  /**
   * For an active range: since when (ms) its worker's current registration holds, or null
   * when the worker is not registered. Absent when not looked up.
   */
  workerSince?: number | null;
}

/**
 * Invariant 7, from the range node alone (and its worker's registration):
 *  - worker-lost: `active` on a worker that is gone, or that registered again after it
 *    started the range (it lost its session and stopped that work);
 *  - stalled: `active` without progress for the stall timeout;
 *  - worker-fault: `failed` by its worker's own fault ({@link fail}): at once, no backoff;
 *  - failed: `failed` for longer than {@link failedRetryDelayMs} of its failures.
 */
export function requeueReason(record: RangeRecord, facts: SupervisionFacts): RequeueReason | null {
  if (record.state === 'active' && record.worker && facts.workerSince !== undefined) {
    if (facts.workerSince === null) return 'worker-lost';
    const startedAt = record.startedAt ? Date.parse(record.startedAt) : Number.NaN;
    if (Number.isFinite(facts.workerSince) && Number.isFinite(startedAt) && startedAt < facts.workerSince) {
      return 'worker-lost';
    }
  }
  if (isStalled(record, facts.stallTimeoutMs, facts.nowMs)) return 'stalled';
  if (record.state === 'failed' && record.workerFault === true) return 'worker-fault';
  if (
    record.state === 'failed' &&
    facts.nowMs - Date.parse(record.updatedAt) >= failedRetryDelayMs(record.failures)
  ) {
    return 'failed';
  }
  return null;
}

/** What the queue says about the job of a range's current attempt. */
export interface JobFacts {
  /** The job is in the queue; absent when this pass did not look. */
  exists?: boolean;
  /** A worker that is no longer registered took the job and still holds it. */
  heldByGoneWorker: boolean;
}

/**
 * Invariant 7, from the queue: a `planned` or `active` range whose job is not in the queue
 * (Redis lost it) is `queue-lost`; a `planned` range whose job a departed worker holds is
 * `worker-lost` (the queue would give it back only after its own stalled check).
 */
export function jobRequeueReason(record: RangeRecord, job: JobFacts): RequeueReason | null {
  if (record.state !== 'planned' && record.state !== 'active') return null;
  if (job.exists === false) return 'queue-lost';
  if (record.state === 'planned' && job.heldByGoneWorker) return 'worker-lost';
  return null;
}

/**
 * Whether a requeue decided on an earlier read still applies to the node as it is now: never
 * for a done range; for an automatic reason only when nothing changed since (an operator's
 * request applies to whatever attempt is current).
 */
export function requeueStillDue(
  read: { record: RangeRecord; version: number },
  now: { record: RangeRecord; version: number },
  reason: RequeueReason,
): boolean {
  if (now.record.state === 'done') return false;
  if (reason === 'operator') return true;
  return now.version === read.version && now.record.attempt === read.record.attempt;
}

/**
 * What an operator's retry of a range does (POST /api/v1/ranges/{id}/retry), from its node:
 *  - `done`: nothing to retry (refused);
 *  - `already-queued`: a new attempt is waiting in the queue and no worker started it yet
 *    (state `planned` after a requeue): another would only replace it, so the request is a
 *    no-op that says so;
 *  - `request`: a request naming the current attempt is recorded for the leader.
 */
export function operatorRetry(record: RangeRecord): 'done' | 'already-queued' | 'request' {
  if (record.state === 'done') return 'done';
  if (record.state === 'planned' && record.attempt > 1) return 'already-queued';
  return 'request';
}

/**
 * Whether the leader acts on an operator's retry request: the range is not done and is still
 * at the attempt the request was made for (`requestedAttempt`; requests of older releases name
 * none). Requests made together name the same attempt, so they make one new attempt, not one
 * each.
 */
export function operatorRetryDue(record: RangeRecord, requestedAttempt: number | undefined): boolean {
  if (record.state === 'done') return false;
  return requestedAttempt === undefined || record.attempt === requestedAttempt;
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

/** Offsets of a range that retention deleted before it was read. */
export function gapOffsetsOf(result: RangeResult | null): bigint {
  let n = 0n;
  for (const g of result?.gaps ?? []) n += BigInt(g.end) - BigInt(g.start);
  return n;
}

/** The commit counters of a line's state node (a topic partition's, a replay partition's). */
export interface CommitTotals {
  committedOffset: string;
  committedRecords: number;
  committedBytes: number;
  committedRanges: number;
  /** Absent in states written before it was counted (see PartitionState). */
  eventTimeFallbacks?: number;
  /** Records in rejected-records objects; absent in states written before it was counted. */
  rejectedRecords?: number;
  gapOffsets: string;
}

/**
 * Invariant 5: the counters after committing `covered` (done ranges in offset order,
 * contiguous from the committed offset, as {@link advanceCommitted} returns them) up to
 * `committed`. Refused with `SLUICE_ERR_INVARIANT` if the committed offset would move backward.
 */
export function commitTotals(
  totals: CommitTotals,
  committed: bigint,
  covered: readonly RangeRecord[],
): CommitTotals {
  if (committed < BigInt(totals.committedOffset)) {
    throw invariantBroken(`committed offset would move backward: ${totals.committedOffset} -> ${committed}`, {
      committedOffset: totals.committedOffset,
      next: committed.toString(),
    });
  }
  let records = totals.committedRecords;
  let bytes = totals.committedBytes;
  let gaps = BigInt(totals.gapOffsets);
  let fallbacks = totals.eventTimeFallbacks ?? 0;
  let rejected = totals.rejectedRecords ?? 0;
  for (const r of covered) {
    rejected += r.result?.rejected?.records ?? 0;
    records += r.result?.records ?? 0;
    fallbacks += r.result?.eventTimeFallbacks ?? 0;
    bytes += r.result?.objectBytes ?? 0;
    gaps += gapOffsetsOf(r.result);
  }
  return {
    committedOffset: committed.toString(),
    committedRecords: records,
    committedBytes: bytes,
    committedRanges: totals.committedRanges + covered.length,
    eventTimeFallbacks: fallbacks,
    ...(rejected > 0 || totals.rejectedRecords !== undefined ? { rejectedRecords: rejected } : {}),
    gapOffsets: gaps.toString(),
  };
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
export function keysToRemove(
  recorded: Iterable<string>,
  standing: Pick<RangeResult, 'objects' | 'rejected'>,
): string[] {
  const listed = new Set(standing.objects.map((o) => o.key));
  // The rejected-records object is the range's too.
  if (standing.rejected) listed.add(standing.rejected.key);
  return [...new Set(recorded)].filter((k) => !listed.has(k));
}
