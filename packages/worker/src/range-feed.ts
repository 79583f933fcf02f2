/**
 * Feeds one range's records from Kafka to a range writer: the loop shared by an upload and by
 * verify-on-retry (which re-reads a committed range into hashing sinks). It clips what a fetch
 * returns to [start, end), notes the gaps where records were deleted before they were read,
 * and fails when the reader stops short of the end, so a range is never committed partially.
 */
import { ErrorCodes, type Gap, type Logger, type RangeRecord, SluiceError } from '@sluice/shared';
import { throwIfAborted } from './range-abort.ts';
import type { FetchedRecord, RangeReader, ReadBatch } from './range-reader.ts';
import type { RangeWriter } from './range-writer.ts';
import type { WorkerMetrics } from './worker-metrics.ts';

export interface FeedRangeOptions {
  reader: RangeReader;
  writer: RangeWriter;
  signal: AbortSignal;
  log: Logger;
  metrics?: WorkerMetrics;
  /** Called after each batch with the next offset to read. */
  onProgress?: (nextOffset: bigint) => void;
}

/** Feeds the range's records to `writer`; returns the gaps met. */
export async function feedRange(rec: RangeRecord, opts: FeedRangeOptions): Promise<Gap[]> {
  const { reader, writer, signal, log, metrics } = opts;
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
      opts.onProgress?.(next);
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

/** Records inside [start, end): a fetch may begin before the requested offset. */
function clip(records: FetchedRecord[], start: bigint, end: bigint): FetchedRecord[] {
  const n = records.length;
  if (n === 0 || (records[0]!.offset >= start && records[n - 1]!.offset < end)) return records;
  return records.filter((r) => r.offset >= start && r.offset < end);
}

/** The range of a node's record, with bigint offsets (what the key grammar takes). */
export function rangeOfRecord(rec: RangeRecord): {
  topic: string;
  partition: number;
  start: bigint;
  end: bigint;
} {
  return { topic: rec.topic, partition: rec.partition, start: BigInt(rec.start), end: BigInt(rec.end) };
}
