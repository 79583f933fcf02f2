/**
 * Replays on the leader: plans, commits and supervises the ranges of every running replay
 * (replay-record.ts), by the same rules as a topic's ranges (exactly-once.ts), on its own
 * nodes, so that the topic's own ingestion goes on untouched.
 *
 * Per replay and partition, every pass (`planIntervalMs`):
 *
 *  - commit: the contiguous run of done ranges from the committed offset is committed and
 *    pruned in one fenced multi (partition state set at its version, range nodes removed at
 *    theirs), as the tracker does for topics;
 *  - supervise: a range `failed` longer than its backoff, `active` on a worker whose node is
 *    gone, or stalled, is requeued (fenced, attempt + 1); every `reconcileIntervalMs` a
 *    `planned`/`active` range whose job is not in BullMQ is requeued (`queue-lost`);
 *  - plan: toward the partition's fixed end, ranges of the replay's size (at most
 *    `maxInFlightPerPartition` in flight); a range node is written (fenced) before its job is
 *    enqueued (invariant 2). Jobs carry `replay: id`, ids of their own (`rangeJobId`), and a
 *    priority below every topic's ranges: live ingestion goes first.
 *
 * A replay whose partitions all reached their end is marked `done`. A `cancelled` replay gets
 * no new ranges; its ranges that are not being worked on by a live worker are removed (a
 * worker holding one finds it gone and stops); objects of unfinished ranges may stay behind,
 * without commit records.
 */
import {
  advanceCommitted,
  decodeJson,
  ErrorCodes,
  encodeJson,
  errorText,
  failedRetryDelayMs,
  isBadVersion,
  isNoNode,
  isSluiceError,
  isStalled,
  type Logger,
  type PartitionState,
  parseRangeNodeName,
  partitionPath,
  RANGE_JOB_NAME,
  RANGE_JOB_VERSION,
  type RangeJobData,
  type RangeRecord,
  REPLAYS_PATH,
  rangeJobId,
  replayPartitionPath,
  replayPartitionsPath,
  replayPath,
  replayRangePath,
  requeue,
  WORKERS_PATH,
  type ZkOp,
} from '@sluice/shared';
import type { IntegrityMetrics } from '../integrity/integrity-metrics.ts';
import type { FencedWriter } from '../leadership/fenced-writer.ts';
import { planRanges } from '../ranges/planner.ts';
import { MAX_PRIORITY, type RangeQueue } from '../ranges/range-enqueuer.ts';
import type { ReplayPartitionState, ReplayRecord } from './replay-record.ts';

/** Replay ranges run after every topic range waiting (BullMQ: a lower number runs first). */
export const REPLAY_PRIORITY = Math.floor(MAX_PRIORITY / 2);

export interface ReplayRunnerOptions {
  writer: FencedWriter;
  queue: RangeQueue;
  log: Logger;
  metrics?: IntegrityMetrics;
  maxInFlightPerPartition: number;
  stallTimeoutMs: number;
  reconcileIntervalMs: number;
  /** BullMQ attempts of one range attempt (SLUICE_JOB_ATTEMPTS). */
  jobAttempts: number;
  now?: () => number;
}

interface ReadRange {
  start: bigint;
  end: bigint;
  path: string;
  record: RangeRecord;
  version: number;
}

/** The partition state after committing `covered` (contiguous from its committed offset). Pure. */
export function commitReplayPartition(
  state: ReplayPartitionState,
  committed: bigint,
  covered: readonly RangeRecord[],
  nowIso: string,
): ReplayPartitionState {
  let records = state.committedRecords;
  let bytes = state.committedBytes;
  let gaps = BigInt(state.gapOffsets);
  for (const r of covered) {
    records += r.result?.records ?? 0;
    bytes += r.result?.objectBytes ?? 0;
    for (const g of r.result?.gaps ?? []) gaps += BigInt(g.end) - BigInt(g.start);
  }
  return {
    ...state,
    committedOffset: committed.toString(),
    committedRecords: records,
    committedBytes: bytes,
    committedRanges: state.committedRanges + covered.length,
    gapOffsets: gaps.toString(),
    updatedAt: nowIso,
  };
}

export function replayJobData(replay: string, r: RangeRecord): RangeJobData {
  return {
    v: RANGE_JOB_VERSION,
    topic: r.topic,
    topicId: r.topicId,
    partition: r.partition,
    start: r.start,
    end: r.end,
    attempt: r.attempt,
    output: r.output,
    plannedAt: r.plannedAt,
    replay,
  };
}

export class ReplayRunner {
  readonly #o: ReplayRunnerOptions;
  readonly #now: () => number;
  #lastReconcileMs = 0;

  constructor(opts: ReplayRunnerOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** One pass over every replay that is not done. A NOT_LEADER ends it. */
  async pass(stopped: () => boolean = () => false): Promise<void> {
    const zk = this.#o.writer.zk;
    const ids = (await zk.children(REPLAYS_PATH)).sort();
    if (ids.length === 0) return;
    const nowMs = this.#now();
    const reconcile = nowMs - this.#lastReconcileMs >= this.#o.reconcileIntervalMs;
    if (reconcile) this.#lastReconcileMs = nowMs;
    let live: Set<string> | null = null;
    const workers = async () => {
      live ??= new Set(await zk.children(WORKERS_PATH));
      return live;
    };
    for (const id of ids) {
      if (stopped()) return;
      try {
        await this.runReplay(id, { reconcile, workers });
      } catch (err) {
        if (isSluiceError(err, ErrorCodes.NOT_LEADER)) throw err;
        this.#o.log.warn({ replay: id, err: errorText(err) }, 'replay pass failed');
      }
    }
  }

  /** One replay; returns its state after the pass (null when it is gone). */
  async runReplay(
    id: string,
    ctx: { reconcile: boolean; workers: () => Promise<Set<string>> },
  ): Promise<ReplayRecord['state'] | null> {
    const zk = this.#o.writer.zk;
    const node = await zk.get(replayPath(id));
    if (!node || node.data.length === 0) return null;
    const rec = decodeJson<ReplayRecord>(node.data, replayPath(id));
    if (rec.state === 'done') return 'done';
    const log = this.#o.log.child({ replay: id, topic: rec.topic });
    let finished = true;
    let remaining = 0n;
    for (const name of await zk.children(replayPartitionsPath(id))) {
      if (!/^\d{1,10}$/.test(name)) continue;
      const p = Number(name);
      const left = await this.#partition(rec, p, ctx, log);
      if (left === null || left > 0n) finished = false;
      if (left !== null) remaining += left;
    }
    if (rec.state === 'cancelled') {
      this.#o.metrics?.replayLag.remove({ replay: id, topic: rec.topic });
      return 'cancelled';
    }
    this.#o.metrics?.replayLag.set({ replay: id, topic: rec.topic }, Number(remaining));
    if (!finished) return 'running';
    const nowIso = new Date(this.#now()).toISOString();
    const done: ReplayRecord = { ...rec, state: 'done', updatedAt: nowIso, finishedAt: nowIso };
    try {
      await this.#o.writer.multi([
        { op: 'set', path: replayPath(id), data: encodeJson(done), version: node.version },
      ]);
    } catch (err) {
      if (isBadVersion(err) || isNoNode(err)) return rec.state; // cancelled meanwhile: next pass
      throw err;
    }
    this.#o.metrics?.replayLag.remove({ replay: id, topic: rec.topic });
    log.info('replay done');
    return 'done';
  }

  /** One partition: commit, supervise, plan. Returns the offsets not yet committed (null: unknown). */
  async #partition(
    rec: ReplayRecord,
    p: number,
    ctx: { reconcile: boolean; workers: () => Promise<Set<string>> },
    log: Logger,
  ): Promise<bigint | null> {
    const zk = this.#o.writer.zk;
    const ppath = replayPartitionPath(rec.id, p);
    const pnode = await zk.get(ppath);
    if (!pnode || pnode.data.length === 0) return null;
    let state = decodeJson<ReplayPartitionState>(pnode.data, ppath);
    let version = pnode.version;
    const ranges = await this.#ranges(rec.id, rec.topic, p);
    const nowMs = this.#now();
    const nowIso = new Date(nowMs).toISOString();

    if (rec.state === 'cancelled') {
      await this.#dropCancelled(ranges, ctx, nowMs);
      return null;
    }

    // Commit.
    const { committed, covered } = advanceCommitted(
      BigInt(state.committedOffset),
      ranges.map((r) => ({ ...r, done: r.record.state === 'done' })),
    );
    if (covered.length > 0) {
      const next = commitReplayPartition(
        state,
        committed,
        covered.map((c) => c.record),
        nowIso,
      );
      try {
        await this.#o.writer.multi([
          { op: 'set', path: ppath, data: encodeJson(next), version },
          ...covered.map((c): ZkOp => ({ op: 'remove', path: c.path, version: c.version })),
        ]);
      } catch (err) {
        if (isBadVersion(err) || isNoNode(err)) return null; // raced: the next pass rereads
        throw err;
      }
      state = next;
      version++;
      const gone = new Set(covered.map((c) => c.path));
      for (let i = ranges.length - 1; i >= 0; i--) if (gone.has(ranges[i]!.path)) ranges.splice(i, 1);
      log.debug(
        { partition: p, committed: state.committedOffset, ranges: covered.length },
        'replay committed',
      );
    }

    // Supervise.
    for (const r of ranges) {
      const reason = await this.#requeueReason(r, ctx, nowMs);
      if (reason) await this.#requeue(r, reason, log);
    }

    // Plan toward the fixed end.
    const end = BigInt(state.end);
    const planned = ranges.length > 0 ? ranges[ranges.length - 1]!.end : BigInt(state.committedOffset);
    if (planned < end && ranges.length < this.#o.maxInFlightPerPartition) {
      const spans = planRanges({
        planned,
        earliest: 0n,
        lastStable: end,
        policy: {
          maxRangeMessages: rec.maxRangeMessages,
          maxRangeBytes: rec.maxRangeBytes,
          flushIntervalMs: 0,
        },
        bytesPerOffset: await this.#bytesPerOffset(rec.topic, p),
        arrivals: [{ below: end, atMs: 0 }],
        nowMs,
        inFlight: ranges.length,
        maxInFlight: this.#o.maxInFlightPerPartition,
      });
      if (spans.length > 0) {
        const records = spans.map(
          (s): RangeRecord => ({
            v: 1,
            topic: rec.topic,
            topicId: rec.topicId,
            partition: p,
            start: s.start.toString(),
            end: s.end.toString(),
            attempt: 1,
            state: 'planned',
            output: rec.output,
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
          }),
        );
        await this.#o.writer.multi(
          records.map((r) => ({
            op: 'create',
            path: replayRangePath(rec.id, {
              topic: rec.topic,
              partition: p,
              start: BigInt(r.start),
              end: BigInt(r.end),
            }),
            data: encodeJson(r),
          })),
        );
        for (const r of records) await this.#enqueue(rec.id, r, log);
        log.debug({ partition: p, ranges: spans.length }, 'replay planned');
      }
    }
    return end - BigInt(state.committedOffset);
  }

  async #ranges(id: string, topic: string, p: number): Promise<ReadRange[]> {
    const zk = this.#o.writer.zk;
    const out: ReadRange[] = [];
    for (const name of await zk.children(replayPartitionPath(id, p))) {
      let span: { start: bigint; end: bigint };
      try {
        span = parseRangeNodeName(name);
      } catch {
        continue;
      }
      const path = replayRangePath(id, { topic, partition: p, ...span });
      const node = await zk.get(path);
      if (!node) continue;
      out.push({ ...span, path, record: decodeJson<RangeRecord>(node.data, path), version: node.version });
    }
    return out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  }

  /** The topic's own size estimate for the partition, so replay ranges get the topic's size in bytes. */
  async #bytesPerOffset(topic: string, p: number): Promise<number> {
    const node = await this.#o.writer.zk.get(partitionPath(topic, p));
    if (!node || node.data.length === 0) return 0;
    return decodeJson<PartitionState>(node.data, partitionPath(topic, p)).bytesPerOffset;
  }

  async #requeueReason(
    r: ReadRange,
    ctx: { reconcile: boolean; workers: () => Promise<Set<string>> },
    nowMs: number,
  ): Promise<string | null> {
    const rec = r.record;
    if (rec.state === 'done') return null;
    if (rec.state === 'failed') {
      return nowMs - Date.parse(rec.updatedAt) >= failedRetryDelayMs(rec.failures) ? 'failed' : null;
    }
    if (rec.state === 'active' && rec.worker && !(await ctx.workers()).has(rec.worker)) return 'worker-lost';
    if (isStalled(rec, this.#o.stallTimeoutMs, nowMs)) return 'stalled';
    if (ctx.reconcile) {
      let job: unknown;
      try {
        job = await this.#o.queue.getJob(rangeJobId(replayJobData(this.#replayOf(r), rec)));
      } catch {
        return null; // the queue is unreachable: nothing to decide
      }
      if (!job) return 'queue-lost';
    }
    return null;
  }

  #replayOf(r: ReadRange): string {
    // /sluice/replays/{id}/partitions/{p}/{range}
    return r.path.split('/')[3]!;
  }

  async #requeue(r: ReadRange, reason: string, log: Logger): Promise<void> {
    const next = requeue(r.record, reason);
    try {
      await this.#o.writer.multi([{ op: 'set', path: r.path, data: encodeJson(next), version: r.version }]);
    } catch (err) {
      if (isBadVersion(err) || isNoNode(err)) return; // changed meanwhile: the next pass decides
      throw err;
    }
    log.warn(
      {
        partition: next.partition,
        range: `${next.start}-${next.end}`,
        attempt: next.attempt,
        reason,
        worker: r.record.worker,
      },
      'replay range requeued',
    );
    await this.#enqueue(this.#replayOf(r), next, log);
  }

  async #enqueue(replay: string, r: RangeRecord, log: Logger): Promise<void> {
    const data = replayJobData(replay, r);
    try {
      await this.#o.queue.add(RANGE_JOB_NAME, data, {
        jobId: rangeJobId(data),
        attempts: this.#o.jobAttempts,
        backoff: { type: 'exponential', delay: 1_000 },
        removeOnComplete: true,
        removeOnFail: true,
        priority: REPLAY_PRIORITY,
      });
    } catch (err) {
      // The range node exists: the reconcile pass finds it without a job and requeues it.
      log.warn({ err: errorText(err), range: rangeJobId(data) }, 'replay enqueue failed; will retry');
    }
  }

  async #dropCancelled(
    ranges: readonly ReadRange[],
    ctx: { workers: () => Promise<Set<string>> },
    nowMs: number,
  ): Promise<void> {
    for (const r of ranges) {
      const rec = r.record;
      const working =
        rec.state === 'active' &&
        rec.worker !== null &&
        (await ctx.workers()).has(rec.worker) &&
        !isStalled(rec, this.#o.stallTimeoutMs, nowMs);
      if (working) continue;
      try {
        await this.#o.writer.multi([{ op: 'remove', path: r.path, version: r.version }]);
      } catch (err) {
        if (!isBadVersion(err) && !isNoNode(err)) throw err;
      }
    }
  }
}
