/**
 * Kafka layer, committed-records filter. Pure: the records of one read_committed Fetch answer
 * that belong to a range, and the position after them. The worker's range reader and the
 * master's samplers read through it, so no reader of Sluice shows an aborted record.
 *
 * With read_committed the broker stops at the last stable offset but still sends the records
 * of aborted transactions, plus a list of the aborted transactions (producer id, first offset)
 * that overlap the answer. Dropping them is the client's job. @platformatic/kafka 2.12 does it
 * inside `Consumer.fetch` by pairing each listed transaction with an ABORT marker found in the
 * same answer, one entry per producer id: when the marker falls in a later answer (the answer
 * was cut by maxBytes) or one producer aborted twice, aborted records get through. This file
 * follows the rule of Kafka's own Java consumer instead, which needs no marker up front:
 *
 *  - walk the batches in offset order; before each batch, every listed transaction whose first
 *    offset is at or below the batch's last offset makes its producer "aborted";
 *  - a transactional data batch of an aborted producer is dropped;
 *  - an ABORT control batch ends that producer's aborted state; every control batch is dropped;
 *  - every batch, dropped or not, moves the position past its last offset.
 *
 * A batch may start before the fetch position (the broker sends whole batches, and a
 * compressed batch cannot be cut): records below the position or at or past `end` are
 * clipped. A batch that starts at or past `end` means there is nothing more in the range
 * (compaction or transaction markers took the offsets before it), so the position is `end`.
 */

/** Attribute bits of a record batch (Kafka's DefaultRecordBatch). */
const TIMESTAMP_LOG_APPEND = 0x08;
const IS_TRANSACTIONAL = 0x10;
const IS_CONTROL = 0x20;
/** Control record type in the control record's key (version int16, type int16). */
const CONTROL_ABORT = 0;

export interface FetchedRecord {
  offset: bigint;
  /** Milliseconds since the epoch: the producer's time, or the broker's for LogAppendTime topics. */
  timestamp: bigint;
  key: Buffer | null;
  /** null: a tombstone. */
  value: Buffer | null;
  /** In the order produced; a key may repeat. */
  headers: Array<[Buffer, Buffer | null]>;
}

/** The parts of a record batch that say when its records were written. */
export interface BatchTimes {
  attributes: number;
  firstTimestamp: bigint;
  maxTimestamp: bigint;
}

/** True for a batch of a LogAppendTime topic: its records carry the broker's time. */
export function isLogAppendTime(attributes: number): boolean {
  return (attributes & TIMESTAMP_LOG_APPEND) !== 0;
}

/**
 * Kafka's timestamp rule, the one place Sluice states it: in a LogAppendTime batch every
 * record has the broker's append time, kept as the batch's max timestamp; otherwise a record
 * has its producer's time, the batch's first timestamp plus its delta. (EncodedBatch follows
 * the same rule in its hand-tuned loop, given {@link isLogAppendTime}.)
 */
export function recordTimestamp(batch: BatchTimes, timestampDelta: bigint): bigint {
  return isLogAppendTime(batch.attributes) ? batch.maxTimestamp : batch.firstTimestamp + timestampDelta;
}

/** The parts of a decoded record batch this needs (@platformatic/kafka's `RecordsBatch`). */
export interface WireBatch {
  firstOffset: bigint;
  lastOffsetDelta: number;
  attributes: number;
  firstTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  records: Array<{
    offsetDelta: number;
    timestampDelta: bigint;
    key: Buffer | null;
    value: Buffer | null;
    headers: Array<[Buffer | null, Buffer | null]>;
  }>;
}

/**
 * A record batch whose records are still encoded (fetch-response.ts): the same header
 * fields, and records decoded on demand, only those the range wants.
 */
export interface LazyBatch extends Omit<WireBatch, 'records'> {
  /** The first record's key (a control batch's marker type), or null. */
  firstKey(): Buffer | null;
  /** Appends the records with offsets in `[from, end)` to `out`, in offset order. */
  readRecords(from: bigint, end: bigint, logAppendTime: boolean, out: FetchedRecord[]): void;
}

export interface AbortedTransaction {
  producerId: bigint;
  firstOffset: bigint;
}

export interface CommittedRecords {
  records: FetchedRecord[];
  /** The next offset to fetch; `end` once the range is read. Never below `position`. */
  next: bigint;
}

const EMPTY = Buffer.alloc(0);

function isLazy(batch: WireBatch | LazyBatch): batch is LazyBatch {
  return 'readRecords' in batch;
}

function isAbortMarker(batch: WireBatch | LazyBatch): boolean {
  const key = isLazy(batch) ? batch.firstKey() : batch.records[0]?.key;
  return !!key && key.length >= 4 && key.readInt16BE(2) === CONTROL_ABORT;
}

export function committedRecords(
  batches: readonly (WireBatch | LazyBatch)[],
  abortedTransactions: readonly AbortedTransaction[] | null,
  position: bigint,
  end: bigint,
): CommittedRecords {
  const aborted = [...(abortedTransactions ?? [])].sort((a, b) =>
    a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
  );
  const abortedProducers = new Set<bigint>();
  const records: FetchedRecord[] = [];
  let next = position;
  let pending = 0;

  for (const batch of batches) {
    if (next >= end) break;
    if (batch.firstOffset >= end) {
      next = end;
      break;
    }
    const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    while (pending < aborted.length && (aborted[pending] as AbortedTransaction).firstOffset <= last) {
      abortedProducers.add((aborted[pending] as AbortedTransaction).producerId);
      pending++;
    }
    const control = (batch.attributes & IS_CONTROL) !== 0;
    if (control) {
      if (isAbortMarker(batch)) abortedProducers.delete(batch.producerId);
    } else if ((batch.attributes & IS_TRANSACTIONAL) === 0 || !abortedProducers.has(batch.producerId)) {
      if (isLazy(batch)) batch.readRecords(next, end, isLogAppendTime(batch.attributes), records);
      else
        for (const r of batch.records) {
          const offset = batch.firstOffset + BigInt(r.offsetDelta);
          if (offset < next) continue;
          if (offset >= end) break;
          records.push({
            offset,
            timestamp: recordTimestamp(batch, r.timestampDelta),
            key: r.key,
            value: r.value,
            headers: r.headers.map(([k, v]) => [k ?? EMPTY, v]),
          });
        }
    }
    if (last + 1n > next) next = last + 1n < end ? last + 1n : end;
  }
  return { records, next };
}
