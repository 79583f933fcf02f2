/**
 * An Avro object container file, written by hand so that its bytes are a pure function of the
 * range (invariant 3): the 16-byte sync marker, which Avro writers usually draw at random, is
 * derived from the object's key; blocks are cut by size, never by time; no metadata carries a
 * clock. Layout (Avro specification, "Object Container Files"):
 *
 *   header  "Obj" 0x01, metadata map { avro.schema: <writer schema JSON>, avro.codec }, sync
 *   block   record count (long), byte size (long), the records' binary data (compressed by the
 *           codec), sync — repeated
 *
 * Records arrive already in Avro binary (the Confluent wire format's payload), so a value is
 * copied, never re-encoded. Kafka's own fields go beside the value's as top-level fields named
 * like the Parquet columns (parquet-columns.ts): Avro encodes a record as its fields' encodings
 * one after the other, so the file's schema is the writer's record schema with
 * {@link KAFKA_FIELDS} appended, and a record is the writer's payload followed by
 * {@link kafkaFieldsOf}'s bytes.
 */
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import type { Compression, RegisteredSchema, SchemaRejection } from '@sluice/shared';
import avro from 'avsc';
import type { ChunkBuilder } from './chunk-builder.ts';
import type { EncodableRecord } from './record-encoder.ts';
import { avroSchemaOf } from './registry-values.ts';

/** A block is closed once its records hold this many bytes (uncompressed). */
export const AVRO_BLOCK_BYTES = 256 * 1024;
const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);
const DEFLATE_LEVEL = 6;
const ZSTD_LEVEL = 3;

/** Avro's codec name for a topic's compression (`gzip` is stored as `deflate` for avro topics). */
export function avroCodecOf(compression: Compression): 'deflate' | 'zstandard' | 'null' {
  if (compression === 'zstd') return 'zstandard';
  if (compression === 'none') return 'null';
  return 'deflate';
}

/** An Avro `long`: zig-zag, then base-128 varint (safe integers only, which counts and sizes are). */
export function avroLong(n: number): Buffer {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  const bytes: number[] = [];
  while (z >= 0x80) {
    bytes.push((z % 0x80) | 0x80);
    z = Math.floor(z / 0x80);
  }
  bytes.push(z);
  return Buffer.from(bytes);
}

/** {@link avroLong} for Kafka offsets, which are bigints (zig-zag over 64 bits). */
function avroBigLong(n: bigint, out: number[]): void {
  let z = n >= 0n ? n << 1n : (-n << 1n) - 1n;
  while (z >= 0x80n) {
    out.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  out.push(Number(z));
}

function avroBytes(b: Buffer): Buffer {
  return Buffer.concat([avroLong(b.length), b]);
}

const TIMESTAMP_MS = { type: 'long', logicalType: 'timestamp-millis' } as const;
const NULL_OR_BYTES = ['null', 'bytes'] as const;

/**
 * Kafka's fields, appended to every record of an Avro file, in this order (the names of the
 * Parquet columns; no `__kafka_tombstone`: a tombstone has no value and goes to the rejected
 * records). The header record is named in Sluice's own namespace so that it cannot take the
 * name of one of the writer's types.
 */
export const KAFKA_FIELDS = [
  { name: '__kafka_partition', type: 'int' },
  { name: '__kafka_offset', type: 'long' },
  { name: '__kafka_timestamp', type: TIMESTAMP_MS },
  { name: '__kafka_key', type: NULL_OR_BYTES },
  {
    name: '__kafka_headers',
    type: {
      type: 'array',
      items: {
        type: 'record',
        name: 'KafkaHeader',
        namespace: 'io.sluice.kafka',
        fields: [
          { name: 'key', type: 'string' },
          { name: 'value', type: NULL_OR_BYTES },
        ],
      },
    },
  },
  { name: '__sluice_event_time', type: TIMESTAMP_MS },
] as const;

/**
 * The schema of the Avro files of one writer schema: its record with {@link KAFKA_FIELDS}
 * appended, as JSON text; or why its records cannot be written (they go to the rejected-records
 * object): the writer schema is not a record, or already has a field of those names. Computed
 * once per schema.
 */
export class AvroFileSchemas {
  readonly #of = new WeakMap<RegisteredSchema, string | SchemaRejection>();

  of(s: RegisteredSchema): string | SchemaRejection {
    let out = this.#of.get(s);
    if (out === undefined) {
      out = fileSchemaOf(s);
      this.#of.set(s, out);
    }
    return out;
  }
}

function fileSchemaOf(s: RegisteredSchema): string | SchemaRejection {
  // Referenced named types inlined: a reader of the file has no registry.
  const writer = avroSchemaOf(s);
  const fields = (writer as { fields?: unknown }).fields;
  if (
    typeof writer !== 'object' ||
    writer === null ||
    (writer as { type?: unknown }).type !== 'record' ||
    !Array.isArray(fields)
  ) {
    return {
      reject: `writer schema ${s.id} is not an Avro record, and format "avro" appends Kafka's fields (__kafka_offset…) to the value's record: use format "jsonl" for this topic, or produce records`,
    };
  }
  const taken = new Set(fields.map((f) => (f as { name?: unknown }).name));
  const clash = KAFKA_FIELDS.find((f) => taken.has(f.name));
  if (clash !== undefined) {
    return {
      reject: `writer schema ${s.id} has a field named ${clash.name}, a name format "avro" gives Kafka's fields: rename the field in the writer schema`,
    };
  }
  const file = { ...writer, fields: [...fields, ...KAFKA_FIELDS] };
  try {
    // The named types of the header record must not clash with the writer's.
    avro.Type.forSchema(file as avro.Schema);
  } catch (err) {
    return {
      reject: `writer schema ${s.id} with Kafka's fields appended is not a valid Avro schema: ${(err as Error).message}`,
    };
  }
  return JSON.stringify(file);
}

/** The Avro binary of {@link KAFKA_FIELDS} for one record: what follows its value's payload. */
export function kafkaFieldsOf(rec: EncodableRecord, partition: number, eventTimeMs: number): Buffer {
  const out: number[] = [];
  const long = (n: number) => {
    for (const b of avroLong(n)) out.push(b);
  };
  const bytes = (b: Buffer) => {
    long(b.length);
    for (const x of b) out.push(x);
  };
  long(partition);
  avroBigLong(rec.offset, out);
  avroBigLong(rec.timestamp, out);
  if (rec.key === null) long(0);
  else {
    long(1);
    bytes(rec.key);
  }
  if (rec.headers.length > 0) {
    long(rec.headers.length);
    for (const [k, v] of rec.headers) {
      // An Avro string is UTF-8: a key that is not is read as Parquet's column reads it.
      bytes(Buffer.from(k.toString('utf8'), 'utf8'));
      if (v === null) long(0);
      else {
        long(1);
        bytes(v);
      }
    }
  }
  long(0);
  long(eventTimeMs);
  return Buffer.from(out);
}

/** The sync marker of an object: the first 16 bytes of SHA-256 of its key. */
export function syncMarkerOf(key: string): Buffer {
  return createHash('sha256').update(`sluice-avro-sync\0${key}`).digest().subarray(0, 16);
}

export class AvroContainerWriter {
  readonly #codec: 'deflate' | 'zstandard' | 'null';
  readonly #sync: Buffer;
  readonly #out: ChunkBuilder;
  #block: Buffer[] = [];
  #blockBytes = 0;
  #blockRecords = 0;
  /** Record bytes written so far (uncompressed): the object's `rawBytes`. */
  rawBytes = 0;

  /** Writes the header into `out` at once. */
  constructor(opts: { schema: string; compression: Compression; key: string; out: ChunkBuilder }) {
    this.#codec = avroCodecOf(opts.compression);
    this.#sync = syncMarkerOf(opts.key);
    this.#out = opts.out;
    const meta = [
      avroLong(2),
      avroBytes(Buffer.from('avro.schema')),
      avroBytes(Buffer.from(opts.schema, 'utf8')),
      avroBytes(Buffer.from('avro.codec')),
      avroBytes(Buffer.from(this.#codec)),
      avroLong(0),
    ];
    this.#put(Buffer.concat([MAGIC, ...meta, this.#sync]));
  }

  /** Appends one record: the value's Avro binary, then its Kafka fields ({@link kafkaFieldsOf}). */
  append(value: Buffer, kafkaFields: Buffer): void {
    this.#block.push(value, kafkaFields);
    const n = value.length + kafkaFields.length;
    this.#blockBytes += n;
    this.#blockRecords++;
    this.rawBytes += n;
    if (this.#blockBytes >= AVRO_BLOCK_BYTES) this.flush();
  }

  /** Closes the open block, if any (at the end of the object, or when it is full). */
  flush(): void {
    if (this.#blockRecords === 0) return;
    const data = Buffer.concat(this.#block, this.#blockBytes);
    const body =
      this.#codec === 'deflate'
        ? zlib.deflateRawSync(data, { level: DEFLATE_LEVEL })
        : this.#codec === 'zstandard'
          ? zlib.zstdCompressSync(data, {
              params: {
                [zlib.constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL,
                [zlib.constants.ZSTD_c_nbWorkers]: 0,
              },
            })
          : data;
    this.#put(Buffer.concat([avroLong(this.#blockRecords), avroLong(body.length), body, this.#sync]));
    this.#block = [];
    this.#blockBytes = 0;
    this.#blockRecords = 0;
  }

  #put(b: Buffer): void {
    this.#out.bytes(b);
  }
}
