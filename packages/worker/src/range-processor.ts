/**
 * One attempt of one range, as a story: job → read → write → commit record → done. This is
 * the "Working" protocol of docs/range-lifecycle.md, steps 1-7; each step's detail lives in a
 * file of its own:
 *
 *  1. Read the range node and decide: gone, stale or done → finish (range-attempt.ts and the
 *     rule `decideJob` of exactly-once.ts).
 *  2. A commit record in S3 already → optionally verify it (verify-on-retry.ts), remove what it
 *     does not list, record `done` from it and finish.
 *  3. Take the attempt (version-checked).
 *  4. Keys earlier attempts recorded are left alone for now: a superseded attempt may still be
 *     alive and write a commit record that lists them.
 *  5. Read [start, end) from Kafka and upload one object per time bucket, each key recorded
 *     before its first byte goes up, under a progress heartbeat (range-upload.ts).
 *  6. Write the commit record with `If-None-Match: *`; if one exists, the other writer's
 *     stands. Then remove the recorded keys that the standing record does not list
 *     (range-commit.ts and the rule `keysToRemove`).
 *  7. `complete` the node (version-checked).
 *
 * A stale attempt or a pruned node at any step ends the job quietly: someone else owns the
 * range. An aborted job rejects with the signal's reason (range-abort.ts).
 */
import {
  commitRecordKey,
  errorText,
  type Logger,
  type RangeJobData,
  type RangeResult,
  rangeId,
  rangeOfJob,
  type SchemaRegistryClient,
  type ZkSession,
} from '@sluice/shared';
import type { ObjectStore } from './object-writer.ts';
import { abortReason, throwIfAborted } from './range-abort.ts';
import { endsJobQuietly, RangeAttempt } from './range-attempt.ts';
import { removeUnlisted, resultOfCommit, writeCommitRecord } from './range-commit.ts';
import type { RangeReader } from './range-reader.ts';
import { uploadRange } from './range-upload.ts';
import { verifyCommitted } from './verify-on-retry.ts';
import type { WorkerMetrics } from './worker-metrics.ts';

export type RangeOutcome =
  /** This attempt wrote the range and completed it. */
  | { outcome: 'written'; result: RangeResult }
  /** A commit record existed (an earlier attempt finished writing); the range is now done. */
  | { outcome: 'committed-earlier'; result: RangeResult }
  /** The range node was already done. */
  | { outcome: 'already-done' }
  /** The job's attempt is not the range's current attempt. */
  | { outcome: 'stale' }
  /** The range node is gone (committed and pruned). */
  | { outcome: 'gone' };

export interface RangeProcessorSettings {
  /** This worker's id, written into the range node and the result. */
  workerId: string;
  progressIntervalMs: number;
  /** SLUICE_PARQUET_ROW_GROUP_BYTES; absent: the writer's default. */
  parquetRowGroupBytes?: number;
  verifyOnRetry: boolean;
}

export interface RangeProcessorDeps {
  /** The current ZooKeeper session. */
  zk: () => ZkSession;
  store: ObjectStore;
  reader: RangeReader;
  settings: RangeProcessorSettings;
  log: Logger;
  metrics?: WorkerMetrics;
  /** The Schema Registry's client when SLUICE_SCHEMA_REGISTRY_URL is set. */
  schemas?: SchemaRegistryClient | undefined;
}

export class RangeProcessor {
  readonly #deps: RangeProcessorDeps;

  constructor(deps: RangeProcessorDeps) {
    this.#deps = deps;
  }

  /**
   * Works one job. Resolves with what happened; a stale attempt or a pruned node resolves
   * too (the job ends without error). Rejects with the error otherwise, or with the signal's
   * reason when aborted.
   */
  async process(job: RangeJobData, signal?: AbortSignal): Promise<RangeOutcome> {
    const log = this.#deps.log.child({
      topic: job.topic,
      partition: job.partition,
      range: rangeId(rangeOfJob(job)),
      attempt: job.attempt,
    });
    try {
      return await this.#process(job, new RangeAttempt(this.#deps.zk, job), log, signal);
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      const quiet = endsJobQuietly(err);
      if (quiet !== null) {
        log.info({ reason: errorText(err) }, quiet === 'stale' ? 'attempt superseded' : 'range gone');
        return { outcome: quiet };
      }
      throw err;
    }
  }

  /**
   * Marks the job's attempt failed in ZooKeeper: by the range (its last BullMQ attempt failed;
   * the leader requeues it after a backoff) or by this worker's own fault (requeued at once,
   * the range's failures unchanged). A stale attempt or a pruned node is left alone.
   */
  async recordFailure(job: RangeJobData, error: unknown, fault: 'range' | 'worker' = 'range'): Promise<void> {
    await new RangeAttempt(this.#deps.zk, job).fail(error, fault);
  }

  async #process(
    job: RangeJobData,
    attempt: RangeAttempt,
    log: Logger,
    signal?: AbortSignal,
  ): Promise<RangeOutcome> {
    const { store, reader, settings, metrics } = this.#deps;
    const commitDeps = { store, log, metrics, signal };

    // 1. The node decides whether this attempt may act.
    const { decision, record: rec } = await attempt.decide();
    if (rec === null || decision === 'gone') {
      log.info('range gone');
      return { outcome: 'gone' };
    }
    if (decision === 'stale') {
      log.info({ current: rec.attempt }, 'attempt superseded');
      return { outcome: 'stale' };
    }
    if (decision === 'done') return { outcome: 'already-done' };
    // The node's snapshot is the truth; the job carries a copy of it.
    const spec = rec.output;
    const bucket = spec.destination.bucket;
    const commitKey = commitRecordKey(spec.destination.prefix, rangeOfJob(job));

    // 2. A commit record means an earlier attempt finished writing: done.
    const existing = await store.getCommitRecord(bucket, commitKey, signal);
    if (existing !== null) {
      if (settings.verifyOnRetry) {
        const verifyDeps = {
          zk: this.#deps.zk,
          reader,
          workerId: settings.workerId,
          log,
          metrics,
          schemas: this.#deps.schemas,
        };
        await verifyCommitted(rec, existing, job.replay, verifyDeps, signal);
      }
      await removeUnlisted(bucket, rec.keys, existing, commitDeps);
      const result = resultOfCommit(existing);
      await attempt.complete(result, log);
      log.info({ records: result.records, objects: result.objects.length }, 'range already committed');
      return { outcome: 'committed-earlier', result };
    }
    throwIfAborted(signal);

    // 3. Take the attempt.
    const started = await attempt.take(settings.workerId);

    // 4. What earlier attempts left (recorded before they uploaded) stays until this range's
    // commit record stands: a superseded attempt may still be alive and about to write a
    // commit record that lists it, and removing it now would lose those records if this
    // attempt died before writing them again (invariant 4). Keys written again here are
    // overwritten with the same bytes; the rest are removed after step 6.
    const earlier = new Set(started.keys);

    // 5. Read, encode, upload.
    const { objects, gaps, stats } = await uploadRange(rec, spec, {
      attempt,
      store,
      reader,
      earlier,
      progressIntervalMs: settings.progressIntervalMs,
      ...(settings.parquetRowGroupBytes ? { parquetRowGroupBytes: settings.parquetRowGroupBytes } : {}),
      log,
      metrics,
      signal,
      schemas: this.#deps.schemas,
    });
    const objectBytes = objects.reduce((n, o) => n + o.bytes, 0);
    const mine: RangeResult = {
      attempt: job.attempt,
      worker: settings.workerId,
      records: stats.records,
      rawBytes: stats.rawBytes,
      objectBytes,
      objects,
      minTimestamp: stats.minTimestamp,
      maxTimestamp: stats.maxTimestamp,
      gaps,
      eventTimeFallbacks: stats.eventTimeFallbacks,
      ...(stats.fieldFallbacks !== null ? { fieldFallbacks: stats.fieldFallbacks } : {}),
      tombstones: stats.tombstones,
      binaryValues: stats.binaryValues,
      ...(stats.rejected ? { rejected: stats.rejected } : {}),
      completedAt: new Date().toISOString(),
    };

    // 6. The commit record, after every data object; then what no standing record lists goes.
    const { written, standing } = await writeCommitRecord(rec, spec, commitKey, mine, commitDeps);
    await removeUnlisted(bucket, [...earlier, ...objects.map((o) => o.key)], standing, commitDeps);

    // 7. Done.
    await attempt.complete(standing, log);
    metrics?.records.inc(stats.records);
    metrics?.bytes.inc({ kind: 'raw' }, stats.rawBytes);
    metrics?.bytes.inc({ kind: 'stored' }, objectBytes);
    log.info(
      {
        records: stats.records,
        objects: objects.length,
        rawBytes: stats.rawBytes,
        objectBytes,
        gaps: gaps.length,
      },
      'range written',
    );
    return { outcome: written ? 'written' : 'committed-earlier', result: standing };
  }
}
