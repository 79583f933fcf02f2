/**
 * Baselines of the worker's CPU-side stages on the dataset's own records, without Kafka or
 * S3: the compressors alone (gzip and zstd at the levels Sluice uses, fed in the worker's
 * chunks, CHUNK_BYTES), and the range writer alone (encode, bucket, compress, hash) into a sink
 * that only hashes.
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Compression, Format, OutputSpec } from '@sluice/shared';
import { createCompressor } from '../../packages/worker/src/compressor.ts';
import type { ObjectSink } from '../../packages/worker/src/object-writer.ts';
import { createRangeReader, type FetchedRecord } from '../../packages/worker/src/range-reader.ts';
import { CHUNK_BYTES, RangeWriter } from '../../packages/worker/src/range-writer.ts';
import { RecordEncoder } from '../../packages/worker/src/record-encoder.ts';
import { type Measurement, measure } from './measurement.ts';

export interface SampleInput {
  brokers: string[];
  topic: string;
  topicId: string;
  partition: number;
  /** Records from offset 0 of the partition. */
  records: number;
}

/** The first records of one partition, as the worker's reader returns them. */
export async function sampleRecords(input: SampleInput): Promise<FetchedRecord[]> {
  const reader = createRangeReader({
    kafkaBrokers: input.brokers,
    kafkaClientId: 'sluice-bench',
    kafkaSsl: false,
    kafkaSasl: null,
    fetchMaxBytes: 8 * 1024 * 1024,
  });
  const out: FetchedRecord[] = [];
  try {
    for await (const b of reader.read({
      topic: input.topic,
      topicId: input.topicId,
      partition: input.partition,
      start: 0n,
      end: BigInt(input.records),
    })) {
      for (const r of b.records) {
        // Own copies: the reader's buffers are views that keep whole fetch answers alive.
        out.push({ ...r, key: r.key && Buffer.from(r.key), value: r.value && Buffer.from(r.value) });
      }
    }
  } finally {
    await reader.close();
  }
  return out;
}

/** The records' lines as Sluice encodes them, concatenated. */
export function encodeAll(records: readonly FetchedRecord[], format: Format, topic: string): Buffer {
  const enc = new RecordEncoder({ format, topic, partition: 0 });
  const parts: Buffer[] = [];
  for (const r of records) {
    const line = enc.encode(r);
    parts.push(typeof line === 'string' ? Buffer.from(line) : line);
  }
  return Buffer.concat(parts);
}

function compressOnce(input: Buffer, compression: Compression): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = createCompressor(compression);
    let out = 0;
    c.on('data', (d: Buffer) => {
      out += d.length;
    });
    c.on('end', () => resolve(out));
    c.on('error', reject);
    let at = 0;
    const pump = () => {
      while (at < input.length) {
        const chunk = input.subarray(at, at + CHUNK_BYTES);
        at += chunk.length;
        if (!c.write(chunk)) {
          c.once('drain', pump);
          return;
        }
      }
      c.end();
    };
    pump();
  });
}

/** `parallel` streams at once, each compressing `input` `repeat` times. */
export async function compressAlone(
  input: Buffer,
  compression: Compression,
  parallel: number,
  repeat: number,
): Promise<Measurement> {
  return measure(async () => {
    let out = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        for (let i = 0; i < repeat; i++) {
          const n = await compressOnce(input, compression);
          out += n;
        }
      }),
    );
    const bytes = input.length * parallel * repeat;
    return { records: 0, bytes, extra: { outBytes: out, ratio: bytes / out } };
  });
}

function hashingSink(key: string): ObjectSink {
  const hash = createHash('sha256');
  let bytes = 0;
  let resolve!: (v: { key: string; bytes: number; sha256: string; parts: number }) => void;
  const result = new Promise<{ key: string; bytes: number; sha256: string; parts: number }>((r) => {
    resolve = r;
  });
  const sink = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _e, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb();
    },
    final(cb) {
      resolve({ key, bytes, sha256: hash.digest('hex'), parts: 0 });
      cb();
    },
  });
  return Object.assign(sink, { key, result });
}

/**
 * The range writer alone: the sample's records (`repeat` times, in batches of a fetch's
 * size) through encode, time bucket, compression and hashing. Bytes are source bytes.
 */
export async function writerAlone(
  records: readonly FetchedRecord[],
  spec: Pick<OutputSpec, 'format' | 'compression'>,
  repeat: number,
  batchRecords: number,
): Promise<Measurement> {
  const full: OutputSpec = {
    destination: { bucket: 'bench', prefix: 'bench' },
    format: spec.format,
    compression: spec.compression,
    partitionBy: { kind: 'kafka-time', granularity: 'hour' },
    serverSideEncryption: 'none',
    kmsKeyId: '',
    storageClass: 'STANDARD',
  };
  let source = 0;
  for (const r of records) source += (r.key?.length ?? 0) + (r.value?.length ?? 0);
  return measure(async () => {
    let encoded = 0;
    let stored = 0;
    for (let i = 0; i < repeat; i++) {
      const w = new RangeWriter({
        spec: full,
        range: { topic: 'bench', partition: 0, start: 0n, end: BigInt(records.length) },
        target: { openObjects: async (keys) => keys.map(hashingSink) },
      });
      for (let at = 0; at < records.length; at += batchRecords) {
        await w.write(records.slice(at, at + batchRecords));
      }
      const objects = await w.finish();
      for (const o of objects) {
        encoded += o.rawBytes;
        stored += o.bytes;
      }
    }
    return {
      records: records.length * repeat,
      bytes: source * repeat,
      extra: { encodedBytes: encoded, storedBytes: stored },
    };
  });
}
