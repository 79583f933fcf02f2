/**
 * A Fetch v17 answer body (after the correlation id) of one topic and one partition, written
 * by hand so that tests can give the parser exactly the bytes a broker would: record batches
 * as they are, aborted transactions listed or absent, no records at all.
 */

/** Kafka's unsigned varint (protobuf style: 7 bits a byte, low first) of `n`, as bytes. */
export function uvarintBytes(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

const uvarint = (n: number) => Buffer.from(uvarintBytes(n));

const i16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const i32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const i64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(n);
  return b;
};

export interface FetchAnswerOptions {
  /** @defaultValue 0 */
  partition?: number;
  /** @defaultValue 2^60 */
  highWatermark?: bigint;
  /** @defaultValue the high watermark */
  lastStableOffset?: bigint;
  /** (producer id, first offset) of each aborted transaction; null: the field is null. @defaultValue [] */
  aborted?: Array<[bigint, bigint]> | null;
}

/** `records`: the partition's record batches, concatenated (null: none, as a broker says it). */
export function fetchV17Answer(records: Buffer | null, o: FetchAnswerOptions = {}): Buffer {
  const high = o.highWatermark ?? 1n << 60n;
  const aborted = o.aborted === undefined ? [] : o.aborted;
  // throttle, error, session id; one topic (its id), one partition
  const parts: Buffer[] = [i32(0), i16(0), i32(0), uvarint(2), Buffer.alloc(16, 1), uvarint(2)];
  parts.push(i32(o.partition ?? 0), i16(0), i64(high), i64(o.lastStableOffset ?? high), i64(0n));
  if (aborted === null) parts.push(uvarint(0));
  else {
    parts.push(uvarint(aborted.length + 1));
    for (const [p, first] of aborted) parts.push(i64(p), i64(first), uvarint(0));
  }
  parts.push(i32(-1)); // preferred read replica
  if (records === null) parts.push(uvarint(0));
  else parts.push(uvarint(records.length + 1), records);
  // tagged fields of the partition, the topic and the answer
  parts.push(uvarint(0), uvarint(0), uvarint(0));
  return Buffer.concat(parts);
}
