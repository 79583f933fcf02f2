/**
 * Replays on the leader: what is a replay's own. Each replay partition is a line of ranges
 * (range-line.ts: a fixed window under the replay's node, its own job ids and a priority
 * below every topic range), and the range engine (range-engine.ts) commits, supervises and
 * creates its ranges exactly as it does a topic partition's, so that a fix to either applies
 * to both. This file resolves a replay into its lines, plans them toward their fixed end, and
 * marks the replay done; the topic's own ingestion goes on untouched.
 *
 * Per replay and partition, every pass (`planIntervalMs`):
 *
 *  - commit: the contiguous run of done ranges from the committed offset (`commitLine`);
 *  - supervise: worker lost (gone, or registered again since), stalled, failed past its
 *    backoff; when a worker left since the last pass, planned ranges whose job it holds; every
 *    `reconcileIntervalMs`, ranges whose job is not in BullMQ (`RangeSupervision`);
 *  - plan: toward the partition's fixed end, ranges of the replay's size (at most
 *    `maxInFlightPerPartition` in flight), written before they are enqueued (invariant 2);
 *    an enqueue that fails is retried at the next pass (range-enqueuer.ts).
 *
 * A replay whose partitions all reached their end is marked `done`. A `cancelled` replay gets
 * no new ranges; its ranges that are not being worked on by a live worker are removed (a
 * worker holding one finds it gone and stops); objects of unfinished ranges may stay behind,
 * without commit records.
 */
import {
  commitTotals,
  decodeJson,
  ErrorCodes,
  encodeJson,
  errorText,
  isBadVersion,
  isNoNode,
  isSluiceError,
  isStalled,
  type Logger,
  type PartitionState,
  partitionPath,
  type RangeRecord,
  REPLAYS_PATH,
  replayPartitionPath,
  replayPartitionsPath,
  replayPath,
} from '@sluice/shared';
import type { IntegrityMetrics } from '../integrity/integrity-metrics.ts';
import type { FencedWriter } from '../leadership/fenced-writer.ts';
import { planRanges } from '../ranges/planner.ts';
import {
  commitLine,
  createRanges,
  type LineRange,
  RangeSupervision,
  readLine,
} from '../ranges/range-engine.ts';
import { RangeEnqueuer, type RangeQueue } from '../ranges/range-enqueuer.ts';
import { replayLine } from '../ranges/range-line.ts';
import type { ReplayPartitionState, ReplayRecord } from './replay-record.ts';

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

/** The partition state after committing `covered` (contiguous from its committed offset). Pure. */
export function commitReplayPartition(
  state: ReplayPartitionState,
  committed: bigint,
  covered: readonly RangeRecord[],
  nowIso: string,
): ReplayPartitionState {
  return { ...state, ...commitTotals(state, committed, covered), updatedAt: nowIso };
}

/** What one pass knows about every replay it runs. */
export interface ReplayPassContext {
  /** Look for ranges whose job the queue lost (every `reconcileIntervalMs`). */
  reconcile: boolean;
  /** The workers registered now when one left since the last pass (see `workersLeft`). */
  workersLeft?: Set<string> | null;
}

export class ReplayRunner {
  readonly #o: ReplayRunnerOptions;
  readonly #now: () => number;
  readonly #enqueuer: RangeEnqueuer;
  readonly #supervision: RangeSupervision;
  #lastReconcileMs = 0;

  constructor(opts: ReplayRunnerOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
    // Replay jobs have one priority: the topic's ranges in flight do not matter to it.
    this.#enqueuer = new RangeEnqueuer(opts.queue, () => 0, opts.log, opts.jobAttempts);
    this.#supervision = new RangeSupervision({
      writer: opts.writer,
      queue: opts.queue,
      enqueuer: this.#enqueuer,
      stallTimeoutMs: opts.stallTimeoutMs,
      log: opts.log,
      now: this.#now,
    });
  }

  /** One pass over every replay that is not done. A NOT_LEADER ends it. */
  async pass(stopped: () => boolean = () => false): Promise<void> {
    const zk = this.#o.writer.zk;
    await this.#enqueuer.retryPending();
    const ids = (await zk.children(REPLAYS_PATH)).sort();
    if (ids.length === 0) return;
    const nowMs = this.#now();
    const reconcile = nowMs - this.#lastReconcileMs >= this.#o.reconcileIntervalMs;
    if (reconcile) this.#lastReconcileMs = nowMs;
    const workersLeft = await this.#supervision.workersLeft();
    for (const id of ids) {
      if (stopped()) return;
      try {
        await this.runReplay(id, { reconcile, workersLeft });
      } catch (err) {
        if (isSluiceError(err, ErrorCodes.NOT_LEADER)) throw err;
        this.#o.log.warn({ replay: id, err: errorText(err) }, 'replay pass failed');
      }
    }
  }

  /** One replay; returns its state after the pass (null when it is gone). */
  async runReplay(id: string, ctx: ReplayPassContext): Promise<ReplayRecord['state'] | null> {
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

  /** One partition's line: commit, supervise, plan. Returns the offsets not yet committed (null: unknown). */
  async #partition(
    rec: ReplayRecord,
    p: number,
    ctx: ReplayPassContext,
    log: Logger,
  ): Promise<bigint | null> {
    const zk = this.#o.writer.zk;
    const ppath = replayPartitionPath(rec.id, p);
    const pnode = await zk.get(ppath);
    if (!pnode || pnode.data.length === 0) return null;
    let state = decodeJson<ReplayPartitionState>(pnode.data, ppath);
    const line = replayLine(rec.id, rec.topic, p, BigInt(state.end));
    let ranges = await readLine(zk, line);
    const nowMs = this.#now();
    const nowIso = new Date(nowMs).toISOString();

    if (rec.state === 'cancelled') {
      await this.#dropCancelled(ranges, nowMs);
      return null;
    }

    const before = state;
    const c = await commitLine(
      this.#o.writer,
      line,
      BigInt(state.committedOffset),
      pnode.version,
      ranges,
      (committed, covered) => commitReplayPartition(before, committed, covered, nowIso),
    );
    if (c === 'raced') return null; // the next pass rereads
    if (c) {
      state = c.state;
      const gone = new Set(c.covered);
      ranges = ranges.filter((r) => !gone.has(r));
      log.debug(
        { partition: p, committed: state.committedOffset, ranges: c.covered.length },
        'replay committed',
      );
    }

    const stopped = () => false;
    await this.#supervision.supervise(ranges, stopped);
    if (ctx.reconcile) await this.#supervision.reconcile(ranges, stopped);
    else if (ctx.workersLeft) await this.#supervision.heldJobs(ranges, ctx.workersLeft, stopped);

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
        const origin = { topic: rec.topic, topicId: rec.topicId, partition: p, output: rec.output };
        const records = await createRanges(this.#o.writer, line, origin, planned, spans, nowIso);
        for (const r of records) await this.#enqueuer.enqueue(r, line);
        log.debug({ partition: p, ranges: spans.length }, 'replay planned');
      }
    }
    return end - BigInt(state.committedOffset);
  }

  /** The topic's own size estimate for the partition, so replay ranges get the topic's size in bytes. */
  async #bytesPerOffset(topic: string, p: number): Promise<number> {
    const node = await this.#o.writer.zk.get(partitionPath(topic, p));
    if (!node || node.data.length === 0) return 0;
    return decodeJson<PartitionState>(node.data, partitionPath(topic, p)).bytesPerOffset;
  }

  async #dropCancelled(ranges: readonly LineRange[], nowMs: number): Promise<void> {
    const anyActive = ranges.some((r) => r.record.state === 'active');
    const live = anyActive ? await this.#supervision.liveWorkers() : new Set<string>();
    for (const r of ranges) {
      const rec = r.record;
      const working =
        rec.state === 'active' &&
        rec.worker !== null &&
        live.has(rec.worker) &&
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
