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
 *  - queue-lost: every reconcile interval, a `planned` or `active` range whose job is not in
 *    BullMQ (Redis lost its data, or a job vanished) is requeued. The worker of the new
 *    attempt recognises a range that was in fact finished by its commit record in S3.
 *
 * A requeue is `requeue(record, reason)` written by a fenced multi that sets the range node
 * at the version read, THEN the new attempt's job is enqueued. The older attempt's worker
 * meets STALE_ATTEMPT at its next write and stops.
 *
 * It also aborts incomplete multipart uploads under each registered topic's folder that are
 * older than `abandonedUploadAgeMs`, which a killed worker leaves behind.
 */
import {
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  decodeJson,
  ErrorCodes,
  encodeJson,
  isBadVersion,
  isNoNode,
  isSluiceError,
  jobId,
  jobRequeueReason,
  type Logger,
  parseRangeId,
  type RangeRecord,
  type RangeState,
  RETRIES_PATH,
  type RequeueReason,
  rangeLabel,
  rangePath,
  requeue,
  requeueReason,
  requeueStillDue,
  type SupervisionFacts,
  topicRoot,
  WORKERS_PATH,
  type WorkerRegistration,
  workerPath,
} from '@sluice/shared';
import type { FencedWriter } from '../leadership/fenced-writer.ts';
import type { MasterMetrics } from '../status/metrics.ts';
import type { PartitionCache, Span } from './partition-cache.ts';
import type { RegisteredTopic } from './planning-loop.ts';
import type { RangeEnqueuer, RangeQueue } from './range-enqueuer.ts';

/** How far a worker's clock may be behind ZooKeeper's before a healthy range looks orphaned. */
const CLOCK_SKEW_ALLOWANCE_MS = 2_000;

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

interface ReadRange {
  span: Span & { topic: string; partition: number };
  record: RangeRecord;
  version: number;
}

export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  #stopped = false;
  /** Keys recorded by ranges in flight at the last sweep: their uploads may still be live. */
  #liveKeys = new Set<string>();
  /** Workers registered at the last sweep: one gone since may have held jobs of planned ranges. */
  #knownWorkers: Set<string> | null = null;

  constructor(opts: SupervisorOptions) {
    this.#o = opts;
    this.#log = opts.log;
    this.#now = opts.now ?? Date.now;
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

  /** Reads every range in flight. Ranges that vanished meanwhile are left out. */
  async #readAll(): Promise<ReadRange[]> {
    const zk = this.#o.writer.zk;
    const out: ReadRange[] = [];
    for (const entry of this.#o.cache.all()) {
      for (const s of entry.ranges) {
        const span = { topic: entry.topic, partition: entry.partition, start: s.start, end: s.end };
        const path = rangePath(span);
        const node = await zk.get(path);
        if (!node) continue;
        out.push({ span, record: decodeJson<RangeRecord>(node.data, path), version: node.version });
      }
    }
    return out;
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
  async #workers(ranges: ReadRange[]): Promise<Map<string, number | null>> {
    const zk = this.#o.writer.zk;
    const live = new Set(await zk.children(WORKERS_PATH));
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

  /** One supervision pass: worker-lost, stalled and failed ranges; the ranges gauge. */
  async sweep(): Promise<void> {
    if (this.#stopped) return;
    const ranges = await this.#readAll();
    const workers = await this.#workers(ranges);
    const counts: Record<RangeState, number> = { planned: 0, active: 0, done: 0, failed: 0 };
    const liveKeys = new Set<string>();
    const nowMs = this.#now();
    for (const r of ranges) {
      counts[r.record.state]++;
      if (r.record.state !== 'done') for (const k of r.record.keys) liveKeys.add(k);
    }
    this.#liveKeys = liveKeys;
    if (this.#o.metrics)
      for (const [state, n] of Object.entries(counts)) this.#o.metrics.ranges.set({ state }, n);

    for (const r of ranges) {
      if (this.#stopped) return;
      const rec = r.record;
      const facts: SupervisionFacts = { nowMs, stallTimeoutMs: this.#o.stallTimeoutMs };
      if (rec.worker && workers.has(rec.worker)) facts.workerSince = workers.get(rec.worker) ?? null;
      const reason = requeueReason(rec, facts);
      if (reason) await this.#requeue(r, reason);
    }

    // A worker that took a job and died before starting its range leaves the range planned
    // and the job active in BullMQ until BullMQ's stalled check (30 s and more) gives it back.
    const live = new Set(await this.#o.writer.zk.children(WORKERS_PATH));
    const someoneLeft = this.#knownWorkers !== null && [...this.#knownWorkers].some((w) => !live.has(w));
    this.#knownWorkers = live;
    if (!someoneLeft) return;
    for (const r of ranges) {
      if (this.#stopped) return;
      if (r.record.state !== 'planned') continue;
      let job: unknown;
      try {
        job = await this.#o.queue.getJob(jobId(r.span, r.record.attempt));
      } catch (err) {
        this.#log.warn({ err }, 'cannot reach the queue; jobs of lost workers not checked');
        return;
      }
      const reason = jobRequeueReason(r.record, { heldByGoneWorker: await heldByGoneWorker(job, live) });
      if (reason) await this.#requeue(r, reason);
    }
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
        const path = rangePath(range);
        const node = await zk.get(path);
        if (!node) {
          this.#log.info({ range: name }, 'retry request for a range not in flight; dropped');
        } else {
          await this.#requeue(
            { span: range, record: decodeJson<RangeRecord>(node.data, path), version: node.version },
            'operator',
          );
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
    const live = new Set(await this.#o.writer.zk.children(WORKERS_PATH));
    for (const r of await this.#readAll()) {
      if (this.#stopped) return;
      if (r.record.state !== 'planned' && r.record.state !== 'active') continue;
      const id = jobId(r.span, r.record.attempt);
      if (this.#o.enqueuer.isPending(id)) continue;
      let job: unknown;
      try {
        job = await this.#o.queue.getJob(id);
      } catch (err) {
        this.#log.warn({ err }, 'cannot reach the queue; reconcile skipped');
        return;
      }
      // Asking whether a departed worker holds the job costs a queue call: only for planned ranges.
      const held = Boolean(job) && r.record.state === 'planned' && (await heldByGoneWorker(job, live));
      const reason = jobRequeueReason(r.record, { exists: Boolean(job), heldByGoneWorker: held });
      if (reason) await this.#requeue(r, reason);
    }
  }

  /**
   * A new attempt of one range: re-reads it, requeues it unless it is done (or changed since
   * `r` was read, for the automatic reasons), writes it fenced at the version read, then
   * enqueues the new attempt.
   */
  async #requeue(r: ReadRange, reason: RequeueReason): Promise<void> {
    const zk = this.#o.writer.zk;
    const path = rangePath(r.span);
    const node = await zk.get(path);
    if (!node) return;
    const rec = decodeJson<RangeRecord>(node.data, path);
    if (!requeueStillDue(r, { record: rec, version: node.version }, reason)) return;
    const next = requeue(rec, reason);
    try {
      await this.#o.writer.multi([{ op: 'set', path, data: encodeJson(next), version: node.version }]);
    } catch (err) {
      if (isBadVersion(err) || isNoNode(err)) return; // changed meanwhile: the next pass decides
      throw err;
    }
    this.#o.enqueuer.forget(jobId(r.span, rec.attempt));
    this.#o.metrics?.requeues.inc({ reason });
    this.#log.warn(
      {
        topic: rec.topic,
        partition: rec.partition,
        range: rangeLabel(rec),
        attempt: next.attempt,
        reason,
        worker: rec.worker,
        state: rec.state,
      },
      'range requeued',
    );
    await this.#o.enqueuer.enqueue(next);
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
      const folder = topicRoot(prefix, t.record.topic);
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      try {
        for (;;) {
          const page: ListMultipartUploadsCommandOutput = await s3.send(
            new ListMultipartUploadsCommand({
              Bucket: bucket,
              Prefix: folder,
              KeyMarker: keyMarker,
              UploadIdMarker: uploadIdMarker,
            }),
          );
          for (const u of page.Uploads ?? []) {
            if (!u.Key || !u.UploadId || !u.Initiated) continue;
            if (u.Initiated.getTime() > cutoff || this.#liveKeys.has(u.Key)) continue;
            await s3.send(
              new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }),
            );
            aborted++;
            this.#log.info(
              { topic: t.record.topic, bucket, key: u.Key, initiated: u.Initiated.toISOString() },
              'aborted abandoned upload',
            );
          }
          if (!page.IsTruncated || !page.NextKeyMarker) break;
          keyMarker = page.NextKeyMarker;
          uploadIdMarker = page.NextUploadIdMarker;
        }
      } catch (err) {
        this.#log.warn({ err, topic: t.record.topic, bucket }, 'cannot list or abort multipart uploads');
      }
    }
    return aborted;
  }
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
