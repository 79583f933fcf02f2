/**
 * Step 5 of an attempt: read the range from Kafka and upload its objects, one per time bucket,
 * under a progress heartbeat. Each new object's key is recorded in the range node before its
 * sink opens (invariant 4); a key an earlier attempt recorded is overwritten, with the same
 * bytes (a superseded attempt may still write a commit record listing it). A failed heartbeat,
 * upload or read aborts the rest at once.
 */
import type { Gap, Logger, ObjectEntry, OutputSpec, RangeRecord, SchemaRegistryClient } from '@sluice/shared';
import type { ObjectSink, ObjectStore } from './object-writer.ts';
import { ProgressHeartbeat } from './progress-heartbeat.ts';
import { abortReason, linkedController, throwIfAborted } from './range-abort.ts';
import type { RangeAttempt } from './range-attempt.ts';
import { feedRange, rangeOfRecord } from './range-feed.ts';
import type { RangeReader } from './range-reader.ts';
import { RangeWriter, type RangeWriterStats } from './range-writer.ts';
import type { WorkerMetrics } from './worker-metrics.ts';

export interface UploadRangeOptions {
  attempt: RangeAttempt;
  store: ObjectStore;
  reader: RangeReader;
  /** Keys earlier attempts recorded: overwritten, not refused, when written again. */
  earlier: ReadonlySet<string>;
  progressIntervalMs: number;
  parquetRowGroupBytes?: number;
  log: Logger;
  metrics?: WorkerMetrics;
  signal?: AbortSignal;
  /** Writer schemas of `schema: { source: "registry" }` topics. */
  schemas?: SchemaRegistryClient | undefined;
}

export interface UploadedRange {
  /** Every object stored, in key order. */
  objects: ObjectEntry[];
  gaps: Gap[];
  stats: RangeWriterStats;
}

export async function uploadRange(
  rec: RangeRecord,
  spec: OutputSpec,
  opts: UploadRangeOptions,
): Promise<UploadedRange> {
  const { attempt, store, log, metrics } = opts;
  const { ac, unlink } = linkedController(opts.signal);
  const heartbeat = new ProgressHeartbeat(BigInt(rec.start), {
    intervalMs: opts.progressIntervalMs,
    beat: (nextOffset) => attempt.progress(nextOffset),
    onError: (err) => ac.abort(err),
    signal: ac.signal,
  });
  const writer = new RangeWriter({
    spec,
    range: rangeOfRecord(rec),
    target: {
      openObjects: async (keys) => {
        await attempt.recordKeys(keys);
        log.debug({ keys }, 'keys recorded');
        throwIfAborted(ac.signal);
        return keys.map((key) =>
          timed(store.openObject(spec, key, ac.signal, { overwrite: opts.earlier.has(key) }), metrics, () =>
            heartbeat.moved(),
          ),
        );
      },
    },
    onFailure: (err) => ac.abort(err),
    ...(opts.schemas ? { schemas: opts.schemas } : {}),
    ...(opts.parquetRowGroupBytes ? { parquetRowGroupBytes: opts.parquetRowGroupBytes } : {}),
  });
  try {
    const gaps = await feedRange(rec, {
      reader: opts.reader,
      writer,
      signal: ac.signal,
      log,
      metrics,
      onProgress: (nextOffset) => heartbeat.moved(nextOffset),
    });
    const objects = await writer.finish();
    return { objects, gaps, stats: writer.stats() };
  } catch (err) {
    const reason = ac.signal.aborted ? abortReason(ac.signal) : err;
    writer.abort(reason);
    throw reason;
  } finally {
    heartbeat.stop();
    unlink();
  }
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
