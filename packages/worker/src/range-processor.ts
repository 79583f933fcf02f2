/**
 * One attempt of one range: the "Working" protocol of docs/range-lifecycle.md, steps 1-7.
 *
 *  1. Read the range node: gone → finish; another attempt → stale, finish; done → finish.
 *  2. Commit record in S3 already → record `done` from it (conditionally) and finish.
 *  3. `start` the attempt (version-checked).
 *  4. Keys earlier attempts recorded are left alone for now: a superseded attempt may still be
 *     alive and write a commit record that lists them.
 *  5. Read [start, end) from Kafka; encode, bucket, compress, upload, one object per bucket;
 *     each object's key is recorded (`recordKeys`) before its first byte goes up (a key an
 *     earlier attempt recorded is overwritten, with the same bytes); progress is written every
 *     `progressIntervalMs`.
 *  6. Write the commit record with `If-None-Match: *`; if one exists, the other writer's stands.
 *     Then remove the recorded keys that the standing record does not list.
 *  7. `complete` the node (version-checked).
 *
 * Every node change is a rule from exactly-once.ts applied by {@link RangeNode}. A stale
 * attempt or a pruned node at any step ends the job quietly: someone else owns the range.
 */
import {
  type CommitRecord,
  commitRecordKey,
  complete,
  ErrorCodes,
  encodeJson,
  errorText,
  fail,
  type Gap,
  isNodeExists,
  isNoNode,
  isSluiceError,
  type Logger,
  type ObjectEntry,
  type OutputSpec,
  progress,
  type RangeJobData,
  type RangeRecord,
  type RangeResult,
  rangeId,
  rangeJobNodePath,
  rangeOfJob,
  recordKeys,
  SluiceError,
  start,
  type VerifyMismatch,
  verifyMismatchPath,
  type ZkSession,
} from '@sluice/shared';
import { createHashingSink } from './hashing-sink.ts';
import type { ObjectSink, ObjectStore } from './object-writer.ts';
import { RangeNode } from './range-node.ts';
import type { FetchedRecord, RangeReader, ReadBatch } from './range-reader.ts';
import { RangeWriter } from './range-writer.ts';
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
}

/** The fields of a commit record that make up the range's result. */
export function resultOfCommit(c: CommitRecord): RangeResult {
  return {
    attempt: c.attempt,
    worker: c.worker,
    records: c.records,
    rawBytes: c.rawBytes,
    objectBytes: c.objectBytes,
    objects: c.objects,
    minTimestamp: c.minTimestamp,
    maxTimestamp: c.maxTimestamp,
    gaps: c.gaps,
    eventTimeFallbacks: c.eventTimeFallbacks,
    tombstones: c.tombstones,
    binaryValues: c.binaryValues,
    completedAt: c.completedAt,
  };
}

function endsJobQuietly(err: unknown): 'stale' | 'gone' | null {
  if (isSluiceError(err, ErrorCodes.STALE_ATTEMPT)) return 'stale';
  if (isSluiceError(err, ErrorCodes.RANGE_NOT_FOUND)) return 'gone';
  return null;
}

/** The signal's reason as an Error (BullMQ aborts with a plain string). */
function abortReason(signal: AbortSignal): unknown {
  const r = signal.reason;
  if (r instanceof Error) return r;
  return new SluiceError(
    ErrorCodes.SHUTTING_DOWN,
    `range processing was aborted${r === undefined ? '' : `: ${String(r)}`}`,
    { retryable: true },
  );
}

/** One AbortController that also follows an outer signal. */
function linkedController(outer?: AbortSignal): { ac: AbortController; unlink: () => void } {
  const ac = new AbortController();
  if (!outer) return { ac, unlink: () => {} };
  const follow = () => ac.abort(abortReason(outer));
  if (outer.aborted) follow();
  else outer.addEventListener('abort', follow, { once: true });
  return { ac, unlink: () => outer.removeEventListener('abort', follow) };
}

interface ReadSummary {
  objects: ObjectEntry[];
  gaps: Gap[];
  writer: RangeWriter;
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
    const range = rangeOfJob(job);
    const log = this.#deps.log.child({
      topic: job.topic,
      partition: job.partition,
      range: rangeId(range),
      attempt: job.attempt,
    });
    // A replay's range lives below its replay, a topic's below its partition.
    const node = new RangeNode(this.#deps.zk, rangeJobNodePath(job));
    try {
      return await this.#process(job, node, log, signal);
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
   * Marks the job's attempt failed in ZooKeeper (its last BullMQ attempt failed); the leader
   * requeues it after a backoff. A stale attempt or a pruned node is left alone.
   */
  async recordFailure(job: RangeJobData, error: unknown): Promise<void> {
    const node = new RangeNode(this.#deps.zk, rangeJobNodePath(job));
    try {
      await node.update((r) => fail(r, job.attempt, errorText(error)));
    } catch (err) {
      if (endsJobQuietly(err) !== null || isSluiceError(err, ErrorCodes.RANGE_STATE)) return;
      throw err;
    }
  }

  async #process(
    job: RangeJobData,
    node: RangeNode,
    log: Logger,
    signal?: AbortSignal,
  ): Promise<RangeOutcome> {
    const { store, settings } = this.#deps;
    const range = rangeOfJob(job);

    // 1. The node decides whether this attempt may act.
    const rec = await node.read();
    if (rec === null) {
      log.info('range gone');
      return { outcome: 'gone' };
    }
    if (rec.attempt !== job.attempt) {
      log.info({ current: rec.attempt }, 'attempt superseded');
      return { outcome: 'stale' };
    }
    if (rec.state === 'done') return { outcome: 'already-done' };
    // The node's snapshot is the truth; the job carries a copy of it.
    const spec: OutputSpec = rec.output;
    const bucket = spec.destination.bucket;
    const commitKey = commitRecordKey(spec.destination.prefix, range);

    // 2. A commit record means an earlier attempt finished writing: done.
    const existing = await store.getCommitRecord(bucket, commitKey, signal);
    if (existing !== null) {
      if (settings.verifyOnRetry) await this.#verify(rec, existing, log, signal, job.replay);
      await this.#removeUnlisted(bucket, rec.keys, existing, log, signal);
      const result = resultOfCommit(existing);
      await this.#complete(node, job.attempt, result, log);
      log.info({ records: result.records, objects: result.objects.length }, 'range already committed');
      return { outcome: 'committed-earlier', result };
    }
    throwIfAborted(signal);

    // 3. Take the attempt.
    const started = await node.update((r) => start(r, job.attempt, settings.workerId));

    // 4. What earlier attempts left (recorded before they uploaded) stays until this range's
    // commit record stands: a superseded attempt may still be alive and about to write a
    // commit record that lists it, and removing it now would lose those records if this
    // attempt died before writing them again (invariant 4). Keys written again here are
    // overwritten with the same bytes; the rest are removed after step 6.
    const earlier = new Set(started.keys);

    // 5. Read, encode, upload.
    const { objects, gaps, writer } = await this.#readAndWrite(
      rec,
      spec,
      node,
      job.attempt,
      earlier,
      log,
      signal,
    );
    const stats = writer.stats();
    const objectBytes = objects.reduce((n, o) => n + o.bytes, 0);
    let result: RangeResult = {
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
      tombstones: stats.tombstones,
      binaryValues: stats.binaryValues,
      completedAt: new Date().toISOString(),
    };

    // 6. The commit record, after every data object.
    const commit: CommitRecord = {
      v: 1,
      topic: rec.topic,
      topicId: rec.topicId,
      partition: rec.partition,
      start: rec.start,
      end: rec.end,
      output: spec,
      ...result,
    };
    const written = await store.putCommitRecord(spec, commitKey, commit, signal);
    if (!written) {
      const other = await store.getCommitRecord(bucket, commitKey, signal);
      if (other === null) {
        throw new SluiceError(
          ErrorCodes.S3_WRITE_CONFLICT,
          `commit record ${commitKey} was refused as existing but cannot be read`,
          { retryable: true },
        );
      }
      log.warn(
        { other: { attempt: other.attempt, worker: other.worker, records: other.records } },
        'another commit record stands',
      );
      result = resultOfCommit(other);
      // Same range, same records: same bytes. Unless Kafka deleted records between the two
      // attempts, and this one replaced an object the standing record describes with less.
      const mine = new Map(objects.map((o) => [o.key, o.sha256]));
      const replaced = other.objects.filter((o) => mine.has(o.key) && mine.get(o.key) !== o.sha256);
      if (replaced.length > 0) {
        this.#deps.metrics?.errors.inc({ kind: 'replaced-committed-object' });
        log.error(
          { keys: replaced.map((o) => o.key), other: { attempt: other.attempt, worker: other.worker } },
          'an object the standing commit record lists was replaced with other bytes',
        );
      }
    }
    // Whichever commit record stands, what it does not list is no one's: remove it now, before
    // the range is done (a done range is never visited again).
    await this.#removeUnlisted(bucket, [...earlier, ...objects.map((o) => o.key)], result, log, signal);

    // 7. Done.
    await this.#complete(node, job.attempt, result, log);
    const m = this.#deps.metrics;
    m?.records.inc(stats.records);
    m?.bytes.inc({ kind: 'raw' }, stats.rawBytes);
    m?.bytes.inc({ kind: 'stored' }, objectBytes);
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
    return { outcome: written ? 'written' : 'committed-earlier', result };
  }

  async #recordMismatch(
    rec: RangeRecord,
    replay: string | undefined,
    cause: VerifyMismatch['cause'],
    differences: string[],
    log: Logger,
  ): Promise<void> {
    try {
      await recordMismatch(this.#deps.zk(), rec, replay, this.#deps.settings.workerId, cause, differences);
    } catch (err) {
      log.warn({ err: errorText(err) }, 'could not record the verify difference in ZooKeeper');
    }
  }

  /** Removes the `keys` (recorded by attempts of the range) that the standing commit record does not list. */
  async #removeUnlisted(
    bucket: string,
    keys: readonly string[],
    standing: Pick<RangeResult, 'objects'>,
    log: Logger,
    signal?: AbortSignal,
  ): Promise<void> {
    const listed = new Set(standing.objects.map((o) => o.key));
    const unlisted = [...new Set(keys)].filter((k) => !listed.has(k));
    if (unlisted.length === 0) return;
    log.info({ keys: unlisted.length }, 'removing objects no commit record lists');
    await this.#deps.store.deleteObjects(bucket, unlisted, signal);
  }

  async #complete(node: RangeNode, attempt: number, result: RangeResult, log: Logger): Promise<void> {
    try {
      await node.update((r) => complete(r, attempt, result));
    } catch (err) {
      // Done is terminal: if it is done already (our own write whose answer was lost), fine.
      if (isSluiceError(err, ErrorCodes.RANGE_STATE) && node.record?.state === 'done') {
        log.debug('range was already marked done');
        return;
      }
      throw err;
    }
  }

  /** Step 5: reads the range and writes its objects, with progress heartbeats. */
  async #readAndWrite(
    rec: RangeRecord,
    spec: OutputSpec,
    node: RangeNode,
    attempt: number,
    earlier: ReadonlySet<string>,
    log: Logger,
    signal?: AbortSignal,
  ): Promise<ReadSummary> {
    const { store, settings, metrics } = this.#deps;
    const { ac, unlink } = linkedController(signal);
    let nextOffset = BigInt(rec.start);
    let moved = false;
    let beating = false;
    const heartbeat = setInterval(() => {
      // Only real movement counts as progress: a hung read or upload must look stalled.
      if (!moved || beating || ac.signal.aborted) return;
      moved = false;
      beating = true;
      node
        .update((r) => progress(r, attempt, nextOffset))
        .catch((err) => ac.abort(err))
        .finally(() => {
          beating = false;
        });
    }, settings.progressIntervalMs);
    heartbeat.unref();

    const writer = new RangeWriter({
      spec,
      range: rangeOfRecord(rec),
      beforeOpen: async (keys) => {
        await node.update((r) => recordKeys(r, attempt, keys));
        log.debug({ keys }, 'keys recorded');
      },
      openSink: (key) => {
        const sink = store.openObject(spec, key, ac.signal, { overwrite: earlier.has(key) });
        return timed(sink, metrics, () => {
          moved = true;
        });
      },
    });
    writer.onFailure = (err) => ac.abort(err);
    try {
      const gaps = await this.#read(rec, writer, ac.signal, log, (offset) => {
        nextOffset = offset;
        moved = true;
      });
      const objects = await writer.finish();
      return { objects, gaps, writer };
    } catch (err) {
      const reason = ac.signal.aborted ? abortReason(ac.signal) : err;
      writer.abort(reason);
      throw reason;
    } finally {
      clearInterval(heartbeat);
      unlink();
    }
  }

  /** Feeds the range's records to `writer`; returns the gaps met. */
  async #read(
    rec: RangeRecord,
    writer: RangeWriter,
    signal: AbortSignal,
    log: Logger,
    onProgress: (nextOffset: bigint) => void,
  ): Promise<Gap[]> {
    const { reader, metrics } = this.#deps;
    const start = BigInt(rec.start);
    const end = BigInt(rec.end);
    const gaps: Gap[] = [];
    let next = start;
    const iterator = reader
      .read({ topic: rec.topic, topicId: rec.topicId, partition: rec.partition, start, end }, signal)
      [Symbol.asyncIterator]();
    try {
      for (;;) {
        const t0 = performance.now();
        const step: IteratorResult<ReadBatch> = await iterator.next();
        metrics?.fetchSeconds.observe((performance.now() - t0) / 1000);
        throwIfAborted(signal);
        if (step.done) break;
        const batch = step.value;
        if (batch.gap) {
          const gap: Gap = {
            start: batch.gap.start.toString(),
            end: batch.gap.end.toString(),
            cause: batch.gap.cause,
          };
          gaps.push(gap);
          metrics?.gaps.inc();
          log.warn({ gap }, 'offsets deleted before they were read');
        }
        await writer.write(clip(batch.records, start, end));
        throwIfAborted(signal);
        if (batch.nextOffset > next) next = batch.nextOffset;
        onProgress(next);
        if (next >= end) break;
      }
    } finally {
      // Lets the reader release its fetch (also after an early break).
      await iterator.return?.();
    }
    if (next < end) {
      throw new SluiceError(
        ErrorCodes.KAFKA,
        `the Kafka reader stopped at offset ${next} before the range's end ${end}`,
        { retryable: true },
      );
    }
    return gaps;
  }

  /**
   * `SLUICE_VERIFY_ON_RETRY`: re-reads a committed range without storing anything and
   * compares it with its commit record. Differences are logged loudly; they do not fail the
   * job (the commit record stands: invariant 4).
   */
  async #verify(
    rec: RangeRecord,
    commit: CommitRecord,
    log: Logger,
    signal?: AbortSignal,
    replay?: string,
  ): Promise<void> {
    const { ac, unlink } = linkedController(signal);
    const writer = new RangeWriter({
      spec: commit.output,
      range: rangeOfRecord(rec),
      beforeOpen: async () => {},
      openSink: (key) => createHashingSink(key),
    });
    writer.onFailure = (err) => ac.abort(err);
    try {
      const gaps = await this.#read(rec, writer, ac.signal, log, () => {});
      const objects = await writer.finish();
      const records = writer.stats().records;
      const mine = new Map(objects.map((o) => [o.key, o]));
      const differences: string[] = [];
      if (records !== commit.records) differences.push(`records ${records} now, ${commit.records} committed`);
      for (const o of commit.objects) {
        const now = mine.get(o.key);
        if (!now) differences.push(`${o.key} would not be written now`);
        else if (now.records !== o.records || now.sha256 !== o.sha256) {
          differences.push(
            `${o.key}: ${now.records} records sha256 ${now.sha256} now, ${o.records} records sha256 ${o.sha256} committed`,
          );
        }
      }
      for (const o of objects) {
        if (!commit.objects.some((c) => c.key === o.key))
          differences.push(`${o.key} would be written now but is not committed`);
      }
      if (differences.length === 0) {
        log.info({ records, objects: objects.length }, 'verified committed range');
        return;
      }
      const movedPast = gaps.some((g) => BigInt(g.start) <= BigInt(rec.start)) || records < commit.records;
      log.error(
        {
          differences,
          gaps,
          cause: movedPast
            ? 'retention/compaction moved past the range'
            : 'the re-read differs from the commit record; the committed objects stand',
        },
        'verify found a difference',
      );
      this.#deps.metrics?.errors.inc({ kind: 'verify-mismatch' });
      this.#deps.metrics?.verifyMismatches.inc({ cause: movedPast ? 'retention' : 'nondeterministic' });
      await this.#recordMismatch(rec, replay, movedPast ? 'retention' : 'nondeterministic', differences, log);
    } catch (err) {
      writer.abort(err);
      if (signal?.aborted) throw abortReason(signal);
      log.warn({ err: errorText(err) }, 'verify failed');
    } finally {
      unlink();
    }
  }
}

/**
 * A verify difference, kept for the operator in ZooKeeper (`/sluice/topics/{t}/verify/…`, shown
 * by the status): one node per range, the newest check wins. Never fails the job.
 */
async function recordMismatch(
  zk: ZkSession,
  rec: RangeRecord,
  replay: string | undefined,
  worker: string,
  cause: VerifyMismatch['cause'],
  differences: string[],
): Promise<void> {
  const path = verifyMismatchPath(rangeOfRecord(rec), replay);
  const data = encodeJson({
    v: 1,
    topic: rec.topic,
    partition: rec.partition,
    start: rec.start,
    end: rec.end,
    replay: replay ?? null,
    worker,
    checkedAt: new Date().toISOString(),
    cause,
    differences: differences.slice(0, 20),
  } satisfies VerifyMismatch);
  try {
    await zk.create(path, data);
  } catch (err) {
    if (isNodeExists(err)) {
      await zk.set(path, data, -1);
    } else if (isNoNode(err)) {
      // Only below a topic that is still registered (never re-create a removed topic's node).
      try {
        await zk.create(path.slice(0, path.lastIndexOf('/')));
      } catch (e) {
        if (!isNodeExists(e)) throw e;
      }
      await zk.create(path, data);
    } else {
      throw err;
    }
  }
}

function rangeOfRecord(rec: RangeRecord): { topic: string; partition: number; start: bigint; end: bigint } {
  return { topic: rec.topic, partition: rec.partition, start: BigInt(rec.start), end: BigInt(rec.end) };
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortReason(signal);
}

/** Records inside [start, end): a fetch may begin before the requested offset. */
function clip(records: FetchedRecord[], start: bigint, end: bigint): FetchedRecord[] {
  const n = records.length;
  if (n === 0 || (records[0]!.offset >= start && records[n - 1]!.offset < end)) return records;
  return records.filter((r) => r.offset >= start && r.offset < end);
}

/** Observes upload time per object and marks progress as bytes go up. */
function timed(sink: ObjectSink, metrics: WorkerMetrics | undefined, onBytes: () => void): ObjectSink {
  const t0 = performance.now();
  sink.on('drain', onBytes);
  sink.result.then(
    () => {
      onBytes();
      metrics?.uploadSeconds.observe((performance.now() - t0) / 1000);
    },
    () => {},
  );
  return sink;
}
