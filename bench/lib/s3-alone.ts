/**
 * Baseline: the S3 server's PUT throughput for the bytes a range writes, alone. The worker's
 * own multipart writer (S3ObjectStore: 8 MiB parts, 2 parts in flight per object, SHA-256 on
 * the way, If-None-Match as the stack says) uploads `objects` objects of `objectBytes`,
 * `parallel` at once, cut from the encoded sample. The objects are deleted afterwards.
 */
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { OutputSpec } from '@sluice/shared';
import { S3ObjectStore } from '../../packages/worker/src/object-writer.ts';
import { CHUNK_BYTES } from '../../packages/worker/src/range-writer.ts';
import { type Measurement, measure } from './measurement.ts';

export interface S3AloneInput {
  bucket: string;
  prefix: string;
  objects: number;
  objectBytes: number;
  parallel: number;
  partSizeBytes: number;
  uploadQueueSize: number;
  conditionalWrites: boolean;
}

export async function s3Alone(s3: S3Client, sample: Buffer, input: S3AloneInput): Promise<Measurement> {
  const store = new S3ObjectStore(s3, {
    partSizeBytes: input.partSizeBytes,
    uploadQueueSize: input.uploadQueueSize,
    conditionalWrites: input.conditionalWrites,
  });
  const spec: OutputSpec = {
    destination: { bucket: input.bucket, prefix: input.prefix },
    format: 'jsonl',
    compression: 'none',
    partitionBy: { kind: 'none' },
    serverSideEncryption: 'none',
    kmsKeyId: '',
    storageClass: 'STANDARD',
  };
  const keys = Array.from({ length: input.objects }, (_, i) => `${input.prefix}/s3-alone-${i}.jsonl`);
  const queue = [...keys];
  const upload = async (key: string) => {
    const sink = store.openObject(spec, key);
    let sent = 0;
    let at = 0;
    while (sent < input.objectBytes) {
      if (at >= sample.length) at = 0;
      const n = Math.min(CHUNK_BYTES, input.objectBytes - sent, sample.length - at);
      const chunk = sample.subarray(at, at + n);
      at += n;
      sent += n;
      if (!sink.write(chunk)) await new Promise((r) => sink.once('drain', r));
    }
    sink.end();
    return (await sink.result).bytes;
  };
  try {
    return await measure(async () => {
      let bytes = 0;
      const lane = async () => {
        for (let k = queue.shift(); k !== undefined; k = queue.shift()) {
          // Read `bytes` after the await: lanes interleave.
          const n = await upload(k);
          bytes += n;
        }
      };
      await Promise.all(Array.from({ length: input.parallel }, lane));
      return { records: 0, bytes };
    });
  } finally {
    for (const key of keys) {
      await s3.send(new DeleteObjectCommand({ Bucket: input.bucket, Key: key })).catch(() => {});
    }
  }
}
