/**
 * The supervisor (leader only): no range is dropped (invariant 7, 9).
 *
 *  - worker-lost: a range `active` on a worker whose ephemeral node vanished (or that
 *    restarted since it started the range) is requeued at once; the workers' node is watched.
 *    So is a `planned` range whose job such a worker had taken but not started (BullMQ keeps
 *    the worker's id on the job), which BullMQ would only give back after its stalled check.
 *  - stalled: `active` without progress for the stall timeout.
 *  - failed: `failed` ranges after `failedRetryDelayMs(failures)` since their last update.
 *  - operator: a request under `/sluice/retries/{rangeId}` (watched); removed once handled.
 *    It names the attempt it retries: requests made together make one new attempt.
 *  - destination-changed: at each sweep, a range that never wrote (planned or failed, no key
 *    recorded) of a topic whose destination changed takes the new one (`mayFollowOutput`).
 *  - queue-lost: every reconcile interval, a `planned` or `active` range whose job is not in
 *    BullMQ (Redis lost its data, or a job vanished) is requeued. The worker of the new
 *    attempt recognises a range that was in fact finished by its commit record in S3.
 *
 * The decisions are exactly-once.ts's and the writes range-engine.ts's ({@link RangeSupervision}),
 * the same for a replay's ranges (replay-runner.ts): this file picks the topic lines and runs
 * the passes. A requeue is `requeue(record, reason)` written by a fenced multi that sets the
 * range node at the version read, THEN the new attempt's job is enqueued. The older
 * attempt's worker meets STALE_ATTEMPT at its next write and stops.
 *
 * It also aborts incomplete multipart uploads under each registered topic's folder that are
 * older than `abandonedUploadAgeMs`, which a killed worker leaves behind.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  abortUpload,
  decodeJson,
  ErrorCodes,
  isNoNode,
  isSluiceError,
  type Logger,
  listOpenUploads,
  mapLimit,
  type OutputSpec,
  operatorRetryDue,
  outputSpecOf,
  parseRangeId,
  RETRIES_PATH,
  type RetryRequest,
  topicRoot,
  WORKERS_PATH,
  type ZkSession,
} from '@sluice/shared';
import type { FencedWriter } from '../leadership/fenced-writer.ts';
import type { MasterMetrics } from '../status/metrics.ts';
import type { PartitionCache } from './partition-cache.ts';
import type { RegisteredTopic } from './planning-loop.ts';
import { followOutputOf, type LineRange, RangeSupervision, readRange } from './range-engine.ts';
import type { RangeEnqueuer, RangeQueue } from './range-enqueuer.ts';
import { topicLine } from './range-line.ts';
import { ZK_PIPELINE } from './tracker.ts';

export interface SupervisorOptions {
  writer: FencedWriter;
  cache: PartitionCache;
  queue: RangeQueue;
  enqueuer: RangeEnqueuer;
  stallTimeoutMs: number;
  abandonedUploadAgeMs: number;
  log: Logger;
  metrics?: MasterMetrics;
  /** For aborting abandoned multipart uploads; none: that chore is skipped. */
  s3?: S3Client;
  /** The registered topics as last read by the planning pass (destinations). */
  topics: () => RegisteredTopic[];
  /** Runs `fn` exclusively with the leader's other passes. */
  exclusive: <T>(fn: () => Promise<T>) => Promise<T>;
  now?: () => number;
}

export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  #stopped = false;
  readonly #engine: RangeSupervision;
  /** Keys recorded by ranges in flight at the last sweep: their uploads may still be live. */
  #liveKeys = new Set<string>();

  constructor(opts: SupervisorOptions) {
    this.#o = opts;
    this.#log = opts.log;
    this.#now = opts.now ?? Date.now;
    this.#engine = new RangeSupervision({
      writer: opts.writer,
      queue: opts.queue,
      enqueuer: opts.enqueuer,
      stallTimeoutMs: opts.stallTimeoutMs,
      log: opts.log,
      ...(opts.metrics
        ? { onRequeue: (reason, topic) => opts.metrics?.requeues.inc({ topic, reason }) }
        : {}),
      ...(opts.now ? { now: opts.now } : {}),
    });
  }

  /** Starts watching workers and operator retry requests. Passes are driven by the owner. */
  async start(): Promise<void> {
    await this.#watchWorkers();
    await this.#watchRetries();
  }

  stop(): void {
    this.#stopped = true;
  }

  async #watchWorkers(): Promise<void> {
    if (this.#stopped) return;
    await this.#o.writer.zk.children(WORKERS_PATH, () => {
      if (this.#stopped) return;
      void this.#watchWorkers()
        .then(() => this.#o.exclusive(() => this.sweep()))
        .catch((err) => this.#failed(err, 'worker sweep failed'));
    });
  }

  async #watchRetries(): Promise<void> {
    if (this.#stopped) return;
    await this.#o.writer.zk.children(RETRIES_PATH, () => {
      if (this.#stopped) return;
      void this.#watchRetries()
        .then(() => this.#o.exclusive(() => this.retries()))
        .catch((err) => this.#failed(err, 'retry requests failed'));
    });
    // requests made while no leader watched
    void this.#o.exclusive(() => this.retries()).catch((err) => this.#failed(err, 'retry requests failed'));
  }

  #failed(err: unknown, msg: string): void {
    if (this.#stopped || isSluiceError(err, ErrorCodes.NOT_LEADER)) return;
    if (isSluiceError(err, ErrorCodes.ZK_SESSION_LOST)) return;
    this.#log.warn({ err }, msg);
  }

  /**
   * Reads every topic range in flight, in offset order per partition. Ranges that vanished
   * meanwhile are left out. Unchanged ones come from the leader's watched session (no
   * request); the others are read ZK_PIPELINE at a time.
   */
  async #readAll(): Promise<LineRange[]> {
    const spans = this.#o.cache
      .all()
      .flatMap((entry) => entry.ranges.map((s) => ({ line: topicLine(entry.topic, entry.partition), s })));
    const read = await mapLimit(spans, ZK_PIPELINE, ({ line, s }) => readRange(this.#o.writer.zk, line, s));
    return read.filter((r): r is LineRange => r !== null);
  }

  /** One supervision pass: worker-lost, stalled and failed ranges; the ranges and workers gauges. */
  async sweep(): Promise<void> {
    if (this.#stopped) return;
    const ranges = await this.#readAll();
    const liveKeys = new Set<string>();
    for (const r of ranges) {
      if (r.record.state !== 'done') for (const k of r.record.keys) liveKeys.add(k);
    }
    this.#liveKeys = liveKeys;
    this.#o.metrics?.rangeStates(
      this.#o.topics().map((t) => t.record.topic),
      ranges.map((r) => r.record),
    );
    const stopped = () => this.#stopped;
    await this.#engine.supervise(ranges, stopped);
    if (this.#stopped) return;
    await this.#follow(ranges);
    if (this.#stopped) return;
    const live = await this.#engine.workersLeft();
    this.#o.metrics?.liveWorkers.set(this.#engine.workersSeen);
    if (live) await this.#engine.heldJobs(ranges, live, stopped);
  }

  /**
   * Ranges that never wrote a byte follow their topic's changed output (a PATCHed
   * destination): see `mayFollowOutput`. A deleting topic's ranges stay as they are.
   */
  async #follow(ranges: readonly LineRange[]): Promise<void> {
    const outputs = new Map<string, OutputSpec>();
    for (const t of this.#o.topics()) {
      if (t.record.state !== 'deleting') outputs.set(t.record.topic, outputSpecOf(t.record));
    }
    if (outputs.size === 0) return;
    await followOutputOf(
      this.#engine,
      ranges,
      (topic) => outputs.get(topic) ?? null,
      () => this.#stopped,
    );
  }

  /** Operator requests under /sluice/retries: requeue each range (unless done), then remove the request. */
  async retries(): Promise<void> {
    if (this.#stopped) return;
    const zk = this.#o.writer.zk;
    for (const name of await zk.children(RETRIES_PATH)) {
      if (this.#stopped) return;
      const requestPath = `${RETRIES_PATH}/${name}`;
      try {
        const range = parseRangeId(name);
        const r = await readRange(zk, topicLine(range.topic, range.partition), range);
        if (!r) {
          this.#log.info({ range: name }, 'retry request for a range not in flight; dropped');
        } else if (!operatorRetryDue(r.record, await requestedAttempt(zk, requestPath))) {
          this.#log.info(
            { range: name, attempt: r.record.attempt },
            'retry request for an attempt already superseded or done; dropped',
          );
        } else {
          await this.#engine.requeue(r, 'operator');
        }
      } catch (err) {
        if (isSluiceError(err, ErrorCodes.NOT_LEADER)) throw err;
        if (!(err instanceof RangeError)) throw err;
        this.#log.warn({ range: name, err }, 'retry request is not a range id; dropped');
      }
      try {
        await zk.remove(requestPath);
      } catch (err) {
        if (!isNoNode(err)) throw err;
      }
    }
  }

  /**
   * Requeues `planned`/`active` ranges whose job is not in BullMQ (`queue-lost`), and planned
   * ranges whose job a worker that is gone had taken (`worker-lost`).
   */
  async reconcile(): Promise<void> {
    if (this.#stopped) return;
    await this.#engine.reconcile(await this.#readAll(), () => this.#stopped);
  }

  /**
   * Aborts incomplete multipart uploads older than `abandonedUploadAgeMs` under each
   * registered topic's folder, except those of keys a range in flight recorded (a long
   * attempt may still be writing them).
   */
  async abortAbandonedUploads(): Promise<number> {
    const s3 = this.#o.s3;
    if (!s3 || this.#stopped) return 0;
    const cutoff = this.#now() - this.#o.abandonedUploadAgeMs;
    let aborted = 0;
    for (const t of this.#o.topics()) {
      const { bucket, prefix } = t.record.destination;
      try {
        for await (const u of listOpenUploads(s3, bucket, topicRoot(prefix, t.record.topic))) {
          if (u.initiated.getTime() > cutoff || this.#liveKeys.has(u.key)) continue;
          await abortUpload(s3, bucket, u.key, u.uploadId);
          aborted++;
          this.#log.info(
            { topic: t.record.topic, bucket, key: u.key, initiated: u.initiated.toISOString() },
            'aborted abandoned upload',
          );
        }
      } catch (err) {
        this.#log.warn({ err, topic: t.record.topic, bucket }, 'cannot list or abort multipart uploads');
      }
    }
    return aborted;
  }
}

/** The attempt a retry request names; undefined for requests of older releases (or unreadable). */
async function requestedAttempt(zk: Pick<ZkSession, 'get'>, path: string): Promise<number | undefined> {
  const node = await zk.get(path);
  if (!node || node.data.length === 0) return undefined;
  try {
    const attempt = decodeJson<Partial<RetryRequest>>(node.data, path).attempt;
    return typeof attempt === 'number' ? attempt : undefined;
  } catch {
    return undefined;
  }
}
