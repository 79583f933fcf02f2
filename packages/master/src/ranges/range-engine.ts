/**
 * The range engine (leader only): what happens to the ranges of a line (range-line.ts) once
 * the rules of exactly-once.ts decided it, written once for a topic partition's line and a
 * replay's. Every write is fenced by the leader's epoch (fenced-writer.ts).
 *
 *  - read: the range nodes of a line, with the versions their next write is checked against;
 *  - create: new ranges, tiling the line from its planned offset, in one fenced multi
 *    (invariant 2: the caller enqueues them only after it);
 *  - commit: the contiguous run of done ranges from the committed offset (invariant 5): the
 *    state node set at its version and the covered range nodes removed at theirs, in ONE
 *    fenced multi;
 *  - supervise ({@link RangeSupervision}, invariant 7): worker lost (gone, or registered
 *    again since it started the range), stalled, failed past its backoff, a planned range
 *    whose job a departed worker holds, a range whose job the queue lost; each requeue is a
 *    fenced write of `requeue(record, reason)` at the version read, then the superseded job
 *    leaves the queue (unless a worker holds it) and the new attempt's job is added.
 *  - follow (`followOutputOf`): a topic range that never wrote takes a changed destination
 *    under a new attempt (`followOutput`), the superseded job removed.
 *
 * Callers own the rest: which lines exist and when passes run (planning-loop.ts, tracker.ts,
 * supervisor.ts for topics; replay-runner.ts for replays).
 */
import {
  advanceCommitted,
  decodeJson,
  encodeJson,
  followOutput,
  isBadVersion,
  isNoNode,
  jobRequeueReason,
  type Logger,
  mayFollowOutput,
  newRanges,
  type OutputSpec,
  parseRangeNodeName,
  type RangeOrigin,
  type RangeRecord,
  type RequeueReason,
  rangeLabel,
  requeue,
  requeueReason,
  requeueStillDue,
  type StartSpan,
  type SupervisionFacts,
  WORKERS_PATH,
  type WorkerRegistration,
  workerPath,
  type ZkOp,
} from '@sluice/shared';
import type { FencedWriter } from '../leadership/fenced-writer.ts';
import type { RangeEnqueuer, RangeQueue } from './range-enqueuer.ts';
import { lineJobId, lineRangePath, type RangeLine } from './range-line.ts';

/** How far a worker's clock may be behind ZooKeeper's before a healthy range looks orphaned. */
const CLOCK_SKEW_ALLOWANCE_MS = 2_000;

/** One range node of a line as read. */
export interface LineRange {
  line: RangeLine;
  start: bigint;
  end: bigint;
  path: string;
  record: RangeRecord;
  /** Version of the node as read: the next write is checked against it. */
  version: number;
}

type Zk = FencedWriter['zk'];

/** The range node of `span` on `line`, or null when it is gone. */
export async function readRange(zk: Zk, line: RangeLine, span: StartSpan): Promise<LineRange | null> {
  const path = lineRangePath(line, span);
  const node = await zk.get(path);
  if (!node) return null;
  return {
    line,
    start: span.start,
    end: span.end,
    path,
    record: decodeJson<RangeRecord>(node.data, path),
    version: node.version,
  };
}

/** Every range node of a line, in offset order; nodes that vanish meanwhile are left out. */
export async function readLine(zk: Zk, line: RangeLine): Promise<LineRange[]> {
  const out: LineRange[] = [];
  for (const name of await zk.children(line.statePath)) {
    let span: StartSpan;
    try {
      span = parseRangeNodeName(name);
    } catch {
      continue; // not a range node
    }
    const r = await readRange(zk, line, span);
    if (r) out.push(r);
  }
  return out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/**
 * Creates the new ranges of a line in one fenced multi. They must tile the line from its
 * planned offset `from` (`newRanges` refuses anything else with SLUICE_ERR_INVARIANT, and
 * nothing is written). The caller enqueues the returned records after this resolves.
 */
export async function createRanges(
  writer: FencedWriter,
  line: RangeLine,
  origin: RangeOrigin,
  from: bigint,
  spans: readonly StartSpan[],
  nowIso: string,
): Promise<RangeRecord[]> {
  const records = newRanges(origin, from, spans, nowIso);
  if (records.length === 0) return records;
  await writer.multiBatched(
    spans.map((s, i) => ({ op: 'create', path: lineRangePath(line, s), data: encodeJson(records[i]) })),
  );
  return records;
}

export interface LineCommit<S, R> {
  state: S;
  committed: bigint;
  covered: R[];
}

/**
 * Commits the contiguous run of done ranges of a line from `committed` (invariant 5):
 * `stateAfter` gives the state node's next content, written at `version` together with the
 * removal of every covered range node at its version, in one fenced multi. Returns null when
 * nothing is done at the committed offset, `'raced'` when a node changed meanwhile (nothing
 * was written; the next pass reads again).
 */
export async function commitLine<S, R extends StartSpan & { record: RangeRecord; version: number }>(
  writer: FencedWriter,
  line: RangeLine,
  committed: bigint,
  version: number,
  ranges: readonly R[],
  stateAfter: (committed: bigint, covered: RangeRecord[]) => S,
): Promise<LineCommit<S, R> | 'raced' | null> {
  const run = advanceCommitted(
    committed,
    ranges.map((r) => ({ start: r.start, end: r.end, done: r.record.state === 'done', r })),
  );
  if (run.covered.length === 0) return null;
  const covered = run.covered.map((c) => c.r);
  const state = stateAfter(
    run.committed,
    covered.map((c) => c.record),
  );
  const ops: ZkOp[] = [
    { op: 'set', path: line.statePath, data: encodeJson(state), version },
    ...covered.map((c): ZkOp => ({ op: 'remove', path: lineRangePath(line, c), version: c.version })),
  ];
  try {
    await writer.multiBatched(ops);
  } catch (err) {
    if (isBadVersion(err) || isNoNode(err)) return 'raced';
    throw err;
  }
  return { state, committed: run.committed, covered };
}

export interface RangeSupervisionOptions {
  writer: FencedWriter;
  queue: RangeQueue;
  enqueuer: RangeEnqueuer;
  stallTimeoutMs: number;
  log: Logger;
  /** Told of every requeue written, with the range's topic (metrics). */
  onRequeue?: (reason: RequeueReason, topic: string) => void;
  now?: () => number;
}

/** Invariant 7 for the ranges of any line: decides with exactly-once.ts, writes, enqueues. */
export class RangeSupervision {
  readonly #o: RangeSupervisionOptions;
  readonly #now: () => number;
  /** Workers registered at the last look: one gone since may have held jobs of planned ranges. */
  #knownWorkers: Set<string> | null = null;

  constructor(opts: RangeSupervisionOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** The ids of the workers registered now. */
  async liveWorkers(): Promise<Set<string>> {
    return new Set(await this.#o.writer.zk.children(WORKERS_PATH));
  }

  /**
   * For each worker named by an active range: since when its current registration holds
   * (ms), or null when it is gone. Read AFTER the ranges: a worker named in a range
   * registered before it started that range, so its absence now means it left.
   *
   * A worker that lost its session stopped its work and registered again, possibly before
   * this pass looked: its node is then newer than the ranges it had started. The node's
   * creation time is the server's clock, so it is trusted only beyond a clock-skew
   * allowance; the registration's own `startedAt` (a restarted process, same clock as the
   * range's `startedAt`) needs none.
   */
  async workers(ranges: readonly LineRange[]): Promise<Map<string, number | null>> {
    const zk = this.#o.writer.zk;
    const live = await this.liveWorkers();
    const out = new Map<string, number | null>();
    for (const r of ranges) {
      const w = r.record.worker;
      if (r.record.state !== 'active' || !w || out.has(w)) continue;
      if (!live.has(w)) {
        out.set(w, null);
        continue;
      }
      const node = await zk.get(workerPath(w));
      if (!node) {
        out.set(w, null);
        continue;
      }
      let since = node.ctimeMs > 0 ? node.ctimeMs - CLOCK_SKEW_ALLOWANCE_MS : Number.NaN;
      try {
        const started = Date.parse(decodeJson<WorkerRegistration>(node.data, workerPath(w)).startedAt);
        if (Number.isFinite(started) && !(since >= started)) since = started;
      } catch {
        // unreadable registration: its node's age is all we know
      }
      out.set(w, since);
    }
    return out;
  }

  /** Requeues worker-lost, stalled and failed ranges (`requeueReason`). */
  async supervise(ranges: readonly LineRange[], stopped: () => boolean = () => false): Promise<void> {
    const workers = await this.workers(ranges);
    const nowMs = this.#now();
    for (const r of ranges) {
      if (stopped()) return;
      const facts: SupervisionFacts = { nowMs, stallTimeoutMs: this.#o.stallTimeoutMs };
      const w = r.record.worker;
      if (w && workers.has(w)) facts.workerSince = workers.get(w) ?? null;
      const reason = requeueReason(r.record, facts);
      if (reason) await this.requeue(r, reason);
    }
  }

  /**
   * The workers registered now, when one that was registered at the last call has left
   * since; null otherwise (and at the first call). Call once per pass, before {@link heldJobs}.
   */
  async workersLeft(): Promise<Set<string> | null> {
    const live = await this.liveWorkers();
    const someoneLeft = this.#knownWorkers !== null && [...this.#knownWorkers].some((w) => !live.has(w));
    this.#knownWorkers = live;
    return someoneLeft ? live : null;
  }

  /** How many workers {@link workersLeft} found registered at its last call (0 before it). */
  get workersSeen(): number {
    return this.#knownWorkers?.size ?? 0;
  }

  /**
   * A worker that took a job and died before starting its range leaves the range planned
   * and the job active in BullMQ until BullMQ's stalled check (30 s and more) gives it back:
   * requeues the planned ranges whose job a worker not in `live` holds.
   */
  async heldJobs(
    ranges: readonly LineRange[],
    live: ReadonlySet<string>,
    stopped: () => boolean = () => false,
  ): Promise<void> {
    for (const r of ranges) {
      if (stopped()) return;
      if (r.record.state !== 'planned') continue;
      let job: unknown;
      try {
        job = await this.#o.queue.getJob(lineJobId(r.line, r.record));
      } catch (err) {
        this.#o.log.warn({ err }, 'cannot reach the queue; jobs of lost workers not checked');
        return;
      }
      const reason = jobRequeueReason(r.record, { heldByGoneWorker: await heldByGoneWorker(job, live) });
      if (reason) await this.requeue(r, reason);
    }
  }

  /**
   * Requeues `planned`/`active` ranges whose job is not in BullMQ (`queue-lost`), and planned
   * ranges whose job a worker that is gone had taken (`worker-lost`). A job whose add is
   * still pending in the enqueuer is not lost.
   */
  async reconcile(ranges: readonly LineRange[], stopped: () => boolean = () => false): Promise<void> {
    const live = await this.liveWorkers();
    for (const r of ranges) {
      if (stopped()) return;
      if (r.record.state !== 'planned' && r.record.state !== 'active') continue;
      const id = lineJobId(r.line, r.record);
      if (this.#o.enqueuer.isPending(id)) continue;
      let job: unknown;
      try {
        job = await this.#o.queue.getJob(id);
      } catch (err) {
        this.#o.log.warn({ err }, 'cannot reach the queue; reconcile skipped');
        return;
      }
      // Asking whether a departed worker holds the job costs a queue call: only for planned ranges.
      const held = Boolean(job) && r.record.state === 'planned' && (await heldByGoneWorker(job, live));
      const reason = jobRequeueReason(r.record, { exists: Boolean(job), heldByGoneWorker: held });
      if (reason) await this.requeue(r, reason);
    }
  }

  /**
   * The range's next record, written fenced at the version read. False when the node changed
   * or went meanwhile: nothing was written, the next pass decides again.
   */
  async #setAt(now: LineRange, next: RangeRecord): Promise<boolean> {
    try {
      await this.#o.writer.multi([
        { op: 'set', path: now.path, data: encodeJson(next), version: now.version },
      ]);
      return true;
    } catch (err) {
      if (isBadVersion(err) || isNoNode(err)) return false;
      throw err;
    }
  }

  /**
   * The range takes `output` under a new attempt when it still may (re-read: nothing written,
   * `mayFollowOutput`), written fenced at the version read; then the old job goes and the new
   * attempt's is enqueued. False when it may not, or changed meanwhile.
   */
  async follow(r: LineRange, output: OutputSpec): Promise<boolean> {
    const now = await readRange(this.#o.writer.zk, r.line, r);
    if (!now || !mayFollowOutput(now.record, output)) return false;
    const rec = now.record;
    const next = followOutput(rec, output);
    if (!(await this.#setAt(now, next))) return false;
    await this.#o.enqueuer.removeSuperseded(lineJobId(r.line, rec));
    this.#o.onRequeue?.('destination-changed', rec.topic);
    this.#o.log.info(
      {
        topic: rec.topic,
        partition: rec.partition,
        range: rangeLabel(rec),
        attempt: next.attempt,
        from: `${rec.output.destination.bucket}/${rec.output.destination.prefix}`,
        to: `${output.destination.bucket}/${output.destination.prefix}`,
      },
      'range follows the changed output',
    );
    await this.#o.enqueuer.enqueue(next, r.line);
    return true;
  }

  /**
   * A new attempt of one range: re-reads it, requeues it unless it is done (or changed since
   * `r` was read, for the automatic reasons), writes it fenced at the version read, then
   * enqueues the new attempt.
   */
  async requeue(r: LineRange, reason: RequeueReason): Promise<void> {
    const now = await readRange(this.#o.writer.zk, r.line, r);
    if (!now || !requeueStillDue(r, now, reason)) return;
    const rec = now.record;
    const next = requeue(rec, reason);
    if (!(await this.#setAt(now, next))) return;
    await this.#o.enqueuer.removeSuperseded(lineJobId(r.line, rec));
    this.#o.onRequeue?.(reason, rec.topic);
    this.#o.log.warn(
      {
        ...(r.line.replay === null ? {} : { replay: r.line.replay }),
        topic: rec.topic,
        partition: rec.partition,
        range: rangeLabel(rec),
        attempt: next.attempt,
        reason,
        worker: rec.worker,
        state: rec.state,
      },
      r.line.replay === null ? 'range requeued' : 'replay range requeued',
    );
    await this.#o.enqueuer.enqueue(next, r.line);
  }
}

/**
 * Issue 15: ranges of a topic line that never wrote a byte take the topic's current output
 * (`mayFollowOutput`: planned or failed, no key recorded, another destination) under a new
 * attempt, so a changed destination frees the ranges planned for the old one. Each is
 * re-read and written fenced at the version read; the old attempt's job is removed, the new
 * one enqueued. Returns how many followed.
 */
export async function followOutputOf(
  engine: RangeSupervision,
  ranges: readonly LineRange[],
  current: (topic: string) => OutputSpec | null,
  stopped: () => boolean = () => false,
): Promise<number> {
  let n = 0;
  for (const r of ranges) {
    if (stopped()) break;
    const output = current(r.record.topic);
    if (r.line.replay !== null || !output || !mayFollowOutput(r.record, output)) continue;
    if (await engine.follow(r, output)) n++;
  }
  return n;
}

/**
 * A BullMQ job that a worker took (workers name themselves with their id: BullMQ keeps it as
 * `processedBy`) and still holds, while that worker is no longer registered.
 */
async function heldByGoneWorker(job: unknown, live: ReadonlySet<string>): Promise<boolean> {
  const j = job as { processedBy?: string; isActive?: () => Promise<boolean> } | null | undefined;
  if (!j?.processedBy || live.has(j.processedBy)) return false;
  try {
    return j.isActive ? await j.isActive() : false;
  } catch {
    return false;
  }
}
