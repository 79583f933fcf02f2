/**
 * An in-memory RangeReader: the processor tests exercise ZooKeeper and S3 for real, but
 * Kafka is not what they test. Behaves like the real reader: batches in offset order, clipped
 * to the range, a retention gap first when the log starts after the range does.
 */
import type {
  FetchedRecord,
  RangeReader,
  ReadBatch,
  ReadRange,
} from '../../packages/worker/src/range-reader.ts';

export interface FakeReaderOptions {
  /** Records per batch. @defaultValue 100 */
  batchSize?: number;
  /** First offset still in the log (earlier ones were deleted by retention). @defaultValue 0 */
  logStart?: bigint;
  /** Called before each batch is yielded (to change the world mid-read). */
  beforeBatch?: (index: number) => Promise<void> | void;
  /** Delay per batch, to give abort tests time. @defaultValue 0 */
  delayMs?: number;
  /** Thrown instead of the batch with this index. */
  failAt?: { index: number; error: Error };
}

export class FakeReader implements RangeReader {
  records: FetchedRecord[];
  readonly opts: FakeReaderOptions;
  reads = 0;

  constructor(records: FetchedRecord[], opts: FakeReaderOptions = {}) {
    this.records = records;
    this.opts = opts;
  }

  async *read(range: ReadRange, signal?: AbortSignal): AsyncIterable<ReadBatch> {
    this.reads++;
    const size = this.opts.batchSize ?? 100;
    const logStart = this.opts.logStart ?? 0n;
    let pos = range.start;
    let index = 0;
    if (logStart > pos) {
      const end = logStart < range.end ? logStart : range.end;
      yield { records: [], nextOffset: end, gap: { start: pos, end, cause: 'retention' } };
      pos = end;
    }
    const inRange = this.records.filter((r) => r.offset >= pos && r.offset < range.end);
    for (let i = 0; i < inRange.length || pos < range.end; i += size) {
      signal?.throwIfAborted();
      if (this.opts.delayMs) await new Promise((r) => setTimeout(r, this.opts.delayMs));
      signal?.throwIfAborted();
      await this.opts.beforeBatch?.(index);
      if (this.opts.failAt?.index === index) throw this.opts.failAt.error;
      const records = inRange.slice(i, i + size);
      const nextOffset = i + size >= inRange.length ? range.end : records[records.length - 1]!.offset + 1n;
      index++;
      pos = nextOffset;
      yield { records, nextOffset };
    }
  }

  async close(): Promise<void> {}
}

/** A record at `offset` with a JSON value and a timestamp. */
export function jsonRecord(offset: bigint, timestamp: number, value: unknown, key?: string): FetchedRecord {
  return {
    offset,
    timestamp: BigInt(timestamp),
    key: key === undefined ? null : Buffer.from(key),
    value: Buffer.from(JSON.stringify(value)),
    headers: [[Buffer.from('h'), Buffer.from(String(offset))]],
  };
}
