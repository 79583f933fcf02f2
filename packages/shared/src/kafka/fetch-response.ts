/**
 * Kafka layer, response parser. Pure: the bytes of a Fetch answer (v12 to v17, the flexible
 * versions) → what the range reader and the samplers need, with record batches left
 * encoded until someone wants their records.
 *
 * Why not @platformatic/kafka's own parser: it decodes every record of every batch into
 * objects as the answer arrives, reading each varint through a multi-chunk buffer that
 * looks its chunk up anew on every read; on small records that was 80 % of a raw read's CPU
 * (bench/README.md). Here the answer is made contiguous once, batch headers are read
 * eagerly, and records are decoded straight into {@link FetchedRecord}s by
 * {@link EncodedBatch.readRecords}, only for the offsets the range wants and only for
 * batches that are not aborted or control batches. A compressed batch is decompressed then.
 *
 * Answer layout (Kafka's FetchResponse.json, flexible versions):
 *
 *     throttle_time_ms INT32, error_code INT16, session_id INT32,
 *     responses COMPACT_ARRAY [ topic (v12: COMPACT_STRING name; v13+: UUID id),
 *       partitions COMPACT_ARRAY [ partition_index INT32, error_code INT16,
 *         high_watermark INT64, last_stable_offset INT64, log_start_offset INT64,
 *         aborted_transactions COMPACT_NULLABLE_ARRAY [ producer_id INT64, first_offset INT64, TAGS ],
 *         preferred_read_replica INT32, records COMPACT_RECORDS, TAGS ], TAGS ],
 *     TAGS (v16+: node_endpoints)
 *
 * Record batch (magic 2): base_offset INT64, length INT32, leader_epoch INT32, magic INT8,
 * crc UINT32, attributes INT16, last_offset_delta INT32, base_timestamp INT64,
 * max_timestamp INT64, producer_id INT64, producer_epoch INT16, base_sequence INT32,
 * count INT32, then `count` records: length VARINT, attributes INT8, timestamp_delta
 * VARLONG, offset_delta VARINT, key VARBYTES, value VARBYTES, headers VARINT count of
 * (key VARBYTES, value VARBYTES). A batch cut off at the end of the answer is left out.
 */

import type { FetchedRecord, LazyBatch, WireBatch } from './committed-records.ts';
import { compressionsAlgorithmsByBitmask } from './library.ts';

export const FETCH_FLEXIBLE_MIN = 12;
export const FETCH_FLEXIBLE_MAX = 17;

const BATCH_HEAD = 12; // base_offset + length
const RECORDS_AT = 61; // from base_offset to the first record
const COMPRESSION_MASK = 0x07;

/** No headers: one shared, frozen array (records only read their headers). */
const NO_HEADERS = Object.freeze([]) as unknown as Array<[Buffer, Buffer | null]>;
const EMPTY = Buffer.alloc(0);

export class FetchParseError extends Error {
  constructor(message: string) {
    super(`malformed Fetch answer: ${message}`);
    this.name = 'FetchParseError';
  }
}

/** Reads Kafka's primitives from one contiguous buffer. */
class Cursor {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;

  constructor(buf: Buffer, pos: number, end: number) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  need(n: number): void {
    if (this.pos + n > this.end)
      throw new FetchParseError(`${n} bytes wanted at ${this.pos}, answer ends at ${this.end}`);
  }

  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Unsigned varint of at most 32 bits. One- and two-byte values (most lengths) take the short path. */
  uvarint(): number {
    const buf = this.buf;
    const pos = this.pos;
    if (pos + 1 < this.end) {
      const b0 = buf[pos] as number;
      if (b0 < 0x80) {
        this.pos = pos + 1;
        return b0;
      }
      const b1 = buf[pos + 1] as number;
      if (b1 < 0x80) {
        this.pos = pos + 2;
        return (b0 & 0x7f) | (b1 << 7);
      }
    }
    return this.#uvarintLong();
  }

  #uvarintLong(): number {
    const buf = this.buf;
    let pos = this.pos;
    let value = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      if (pos >= this.end) throw new FetchParseError(`varint runs past the end at ${pos}`);
      const b = buf[pos++] as number;
      value += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 128;
      if (i >= 4) throw new FetchParseError(`varint longer than 5 bytes at ${this.pos}`);
    }
    this.pos = pos;
    return value;
  }

  /** Zigzag varint of at most 32 bits. */
  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  /** Zigzag varlong as a number (exact up to 2^53, which timestamp deltas never reach in practice). */
  varlongNumber(): number {
    const buf = this.buf;
    const pos = this.pos;
    if (pos < this.end) {
      const b0 = buf[pos] as number;
      if (b0 < 0x80) {
        this.pos = pos + 1;
        return b0 % 2 === 0 ? b0 / 2 : -(b0 + 1) / 2;
      }
    }
    let at = pos;
    let value = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      if (at >= this.end) throw new FetchParseError(`varlong runs past the end at ${at}`);
      const b = buf[at++] as number;
      value += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 128;
      if (i >= 9) throw new FetchParseError(`varlong longer than 10 bytes at ${pos}`);
    }
    this.pos = at;
    return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  /** Skips a TAG_BUFFER (tagged fields): count, then (tag, size, bytes) each. */
  skipTags(): void {
    const n = this.uvarint();
    for (let i = 0; i < n; i++) {
      this.uvarint();
      this.skip(this.uvarint());
    }
  }

  /** VARBYTES: zigzag length, -1 for null. A view, not a copy. */
  varbytes(): Buffer | null {
    const len = this.varint();
    if (len < 0) return null;
    if (len === 0) return EMPTY;
    this.need(len);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
}

/**
 * One record batch of an answer, its records still encoded. The header fields are those of
 * `WireBatch` (committed-records.ts), so the read_committed rule reads both alike.
 */
export class EncodedBatch {
  readonly firstOffset: bigint;
  readonly lastOffsetDelta: number;
  readonly attributes: number;
  readonly firstTimestamp: bigint;
  readonly maxTimestamp: bigint;
  readonly producerId: bigint;
  readonly count: number;
  #buf: Buffer;
  #start: number;
  #end: number;
  #decompressed = false;

  constructor(buf: Buffer, at: number, end: number) {
    this.firstOffset = buf.readBigInt64BE(at);
    const magic = buf.readInt8(at + 16);
    if (magic !== 2) {
      throw new FetchParseError(
        `record batch at offset ${this.firstOffset} has magic ${magic}; only magic 2 (Kafka 0.11 and later) is read`,
      );
    }
    this.attributes = buf.readInt16BE(at + 21);
    this.lastOffsetDelta = buf.readInt32BE(at + 23);
    this.firstTimestamp = buf.readBigInt64BE(at + 27);
    this.maxTimestamp = buf.readBigInt64BE(at + 35);
    this.producerId = buf.readBigInt64BE(at + 43);
    this.count = buf.readInt32BE(at + 57);
    this.#buf = buf;
    this.#start = at + RECORDS_AT;
    this.#end = end;
  }

  /** The records' bytes, decompressed on first use. */
  #cursor(): Cursor {
    const codec = this.attributes & COMPRESSION_MASK;
    if (codec !== 0 && !this.#decompressed) {
      const algorithm = compressionsAlgorithmsByBitmask[codec];
      if (!algorithm) {
        throw new FetchParseError(
          `record batch at offset ${this.firstOffset} uses unknown compression ${codec}`,
        );
      }
      const out = algorithm.decompressSync(this.#buf.subarray(this.#start, this.#end)) as Uint8Array;
      this.#buf = Buffer.isBuffer(out) ? out : Buffer.from(out.buffer, out.byteOffset, out.byteLength);
      this.#start = 0;
      this.#end = this.#buf.length;
      this.#decompressed = true;
    }
    return new Cursor(this.#buf, this.#start, this.#end);
  }

  /** The first record's key (a control batch's marker type), or null. */
  firstKey(): Buffer | null {
    if (this.count < 1) return null;
    const c = this.#cursor();
    c.varint(); // length
    c.skip(1); // attributes
    c.varlongNumber(); // timestamp delta
    c.varint(); // offset delta
    return c.varbytes();
  }

  /**
   * Appends the records with offsets in `[from, end)` to `out`, in order. Timestamps are the
   * batch's max timestamp for LogAppendTime topics, else the record's create time.
   */
  readRecords(from: bigint, end: bigint, logAppendTime: boolean, out: FetchedRecord[]): void {
    const base = this.firstOffset;
    // Offsets as numbers while they are exact, so that each record costs one BigInt, not two.
    const small = base + BigInt(this.lastOffsetDelta) <= BigInt(Number.MAX_SAFE_INTEGER);
    const baseNumber = Number(base);
    const fromDelta = from > base ? Number(from - base) : 0;
    const endDelta =
      end - base < BigInt(this.lastOffsetDelta) + 1n ? Number(end - base) : this.lastOffsetDelta + 1;
    if (fromDelta >= endDelta) return;
    const c = this.#cursor();
    const firstTs = this.firstTimestamp;
    const firstTsNumber = Number(firstTs);
    const tsExact = firstTs <= BigInt(Number.MAX_SAFE_INTEGER) && firstTs >= BigInt(Number.MIN_SAFE_INTEGER);
    // Records of one batch mostly share a timestamp delta: reuse the BigInt made for it.
    let lastTsDelta = Number.NaN;
    let lastTs = this.maxTimestamp;
    for (let i = 0; i < this.count; i++) {
      const length = c.varint();
      const next = c.pos + length;
      if (length < 0 || next > c.end)
        throw new FetchParseError(`record of length ${length} runs past its batch at ${c.pos}`);
      c.pos++; // attributes
      const tsDelta = c.varlongNumber();
      const delta = c.varint();
      if (delta < fromDelta) {
        c.pos = next;
        continue;
      }
      if (delta >= endDelta) break;
      const key = c.varbytes();
      const value = c.varbytes();
      const headerCount = c.varint();
      let headers = NO_HEADERS;
      if (headerCount > 0) {
        headers = new Array(headerCount);
        for (let h = 0; h < headerCount; h++) headers[h] = [c.varbytes() ?? EMPTY, c.varbytes()];
      }
      c.pos = next;
      let timestamp: bigint;
      if (logAppendTime) timestamp = this.maxTimestamp;
      else if (tsDelta === lastTsDelta) timestamp = lastTs;
      else {
        timestamp = tsExact ? BigInt(firstTsNumber + tsDelta) : firstTs + BigInt(tsDelta);
        lastTsDelta = tsDelta;
        lastTs = timestamp;
      }
      out.push({
        offset: small ? BigInt(baseNumber + delta) : base + BigInt(delta),
        timestamp,
        key,
        value,
        headers,
      });
    }
  }
}

/**
 * One partition of a Fetch answer: what our parser reads (records: {@link EncodedBatch}), and
 * what the library's parser gives for the versions ours does not read (records decoded,
 * {@link WireBatch}), hence the batch type parameter. The one Fetch answer type of Sluice.
 */
export interface FetchedPartition<Batch extends LazyBatch | WireBatch = EncodedBatch> {
  partitionIndex: number;
  errorCode: number;
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  abortedTransactions: Array<{ producerId: bigint; firstOffset: bigint }> | null;
  /** null when the answer has no records field content. */
  records: Batch[] | null;
}

export interface FetchAnswer<Batch extends LazyBatch | WireBatch = EncodedBatch> {
  throttleTimeMs: number;
  errorCode: number;
  responses: Array<{ partitions: FetchedPartition<Batch>[] }>;
}

/** The record batches of a COMPACT_RECORDS field; a batch cut off at the end is left out. */
function readBatches(buf: Buffer, start: number, end: number): EncodedBatch[] {
  const out: EncodedBatch[] = [];
  let at = start;
  while (end - at >= BATCH_HEAD) {
    const length = buf.readInt32BE(at + 8);
    const batchEnd = at + BATCH_HEAD + length;
    if (batchEnd > end) break;
    if (length < RECORDS_AT - BATCH_HEAD)
      throw new FetchParseError(`record batch of length ${length} at ${at}`);
    out.push(new EncodedBatch(buf, at, batchEnd));
    at = batchEnd;
  }
  return out;
}

/** Parses a whole Fetch answer body (after the response header) of a flexible version. */
export function parseFetchAnswer(buf: Buffer, version: number): FetchAnswer {
  if (version < FETCH_FLEXIBLE_MIN || version > FETCH_FLEXIBLE_MAX) {
    throw new FetchParseError(
      `version ${version} is not parsed here (${FETCH_FLEXIBLE_MIN} to ${FETCH_FLEXIBLE_MAX})`,
    );
  }
  const c = new Cursor(buf, 0, buf.length);
  const throttleTimeMs = c.int32();
  const errorCode = c.int16();
  c.skip(4); // session id
  const topics = c.uvarint() - 1;
  const responses: FetchAnswer['responses'] = [];
  for (let t = 0; t < topics; t++) {
    if (version >= 13) c.skip(16);
    else c.skip(c.uvarint() - 1);
    const count = c.uvarint() - 1;
    const partitions: FetchedPartition[] = [];
    for (let p = 0; p < count; p++) {
      const partitionIndex = c.int32();
      const partitionError = c.int16();
      const highWatermark = c.int64();
      const lastStableOffset = c.int64();
      const logStartOffset = c.int64();
      const aborted = c.uvarint() - 1;
      let abortedTransactions: FetchedPartition['abortedTransactions'] = null;
      if (aborted >= 0) {
        abortedTransactions = [];
        for (let a = 0; a < aborted; a++) {
          const producerId = c.int64();
          const firstOffset = c.int64();
          c.skipTags();
          abortedTransactions.push({ producerId, firstOffset });
        }
      }
      c.skip(4); // preferred read replica
      const size = c.uvarint();
      let records: EncodedBatch[] | null = null;
      if (size > 0) {
        c.need(size - 1);
        records = readBatches(buf, c.pos, c.pos + size - 1);
        c.pos += size - 1;
      }
      c.skipTags();
      partitions.push({
        partitionIndex,
        errorCode: partitionError,
        highWatermark,
        lastStableOffset,
        logStartOffset,
        abortedTransactions,
        records,
      });
    }
    c.skipTags();
    responses.push({ partitions });
  }
  c.skipTags();
  return { throttleTimeMs, errorCode, responses };
}
