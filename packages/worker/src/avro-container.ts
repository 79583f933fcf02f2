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
 * Records arrive already in Avro binary (the Confluent wire format's payload, written with the
 * file's schema), so a record is copied, never re-encoded.
 */
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import type { Compression } from '@sluice/shared';
import type { ChunkBuilder } from './chunk-builder.ts';

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

function avroBytes(b: Buffer): Buffer {
  return Buffer.concat([avroLong(b.length), b]);
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

  /** Appends one record's Avro binary encoding (in the file's schema). */
  append(record: Buffer): void {
    this.#block.push(record);
    this.#blockBytes += record.length;
    this.#blockRecords++;
    this.rawBytes += record.length;
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
