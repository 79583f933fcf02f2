/**
 * One worker's data path in this process, against the local stack: the worker's own reader,
 * range writer and S3 object store on the peer comparison's data (one producer batch shape),
 * several ranges at once. It reports CPU s per GB of the whole process and of each kind of
 * thread: the main thread (reading, encoding, HTTP), libuv's pool (zlib, WebCrypto's part
 * hashes) and V8's helpers (garbage collection, compiling). Quicker to repeat than an end-to-end run, and free of
 * the master, BullMQ and start-up, so a change to the data path shows in minutes.
 *
 *   node --conditions=source bench/worker-path.ts [--shape 1] [--records 200000]
 *     [--compression zstd] [--level 3] [--format raw] [--concurrency 2] [--range 10000] [--runs 3]
 *     [--fetch bytes]
 *
 * Each line also gives the process's peak RSS so far (VmHWM): V8 flags such as
 * `--max-semi-space-size` trade memory for garbage collection, and the README's memory formula
 * must still hold.
 *
 * Node's own flags go before the script (`node --conditions=source --single-threaded-gc
 * bench/worker-path.ts …`): that is how the garbage collector's threads were compared. The
 * first run of a process includes compiling the data path; later runs are the steady state.
 *
 * The topic (`bench-peer-…`) is kept for the next run; the objects are deleted.
 */
import { parseArgs } from 'node:util';
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import type { Compression, Format, OutputSpec, RangeRecord } from '@sluice/shared';
import { S3ObjectStore } from '../packages/worker/src/object-writer.ts';
import { feedRange } from '../packages/worker/src/range-feed.ts';
import { createRangeReader } from '../packages/worker/src/range-reader.ts';
import { RangeWriter } from '../packages/worker/src/range-writer.ts';
import { ensureDataset, rangesOf } from './lib/dataset.ts';
import { deletePrefix } from './lib/e2e.ts';
import { PEER_SHAPES, peerDatasetSpec } from './lib/peer.ts';
import { peakRssMiB, threadCpuSeconds } from './lib/proc-stats.ts';
import { benchEnv, preflight, s3Client } from './lib/stack.ts';

const { values: args } = parseArgs({
  options: {
    shape: { type: 'string', default: '1' },
    records: { type: 'string', default: '200000' },
    compression: { type: 'string', default: 'zstd' },
    format: { type: 'string', default: 'raw' },
    concurrency: { type: 'string', default: '2' },
    range: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '3' },
    fetch: { type: 'string', default: String(8 * 1024 * 1024) },
    level: { type: 'string' },
  },
});

const log = (s: string) => process.stderr.write(`${s}\n`);
const env = benchEnv();
await preflight(env);
const shape = PEER_SHAPES[Number(args.shape)];
if (!shape) throw new Error(`--shape takes 0 to ${PEER_SHAPES.length - 1}`);
const dataset = await ensureDataset(
  env,
  { ...peerDatasetSpec(shape, Number(args.records)), rangeMessages: Number(args.range) },
  log,
);
const s3 = s3Client(env);
const bucket = `bench-path-${Date.now().toString(36)}`;
await s3.send(new CreateBucketCommand({ Bucket: bucket }));
const spec: OutputSpec = {
  destination: { bucket, prefix: 'path' },
  format: args.format as Format,
  compression: args.compression as Compression,
  partitionBy: { kind: 'kafka-time', granularity: 'hour' },
  serverSideEncryption: 'none',
  kmsKeyId: '',
  storageClass: 'STANDARD',
  ...(args.level !== undefined ? { compressionLevel: Number(args.level) } : {}),
};
const store = new S3ObjectStore(s3, {
  partSizeBytes: 8 * 1024 * 1024,
  uploadQueueSize: 2,
  conditionalWrites: false,
});
const reader = createRangeReader({
  kafkaBrokers: env.brokers,
  kafkaClientId: 'sluice-bench',
  kafkaSsl: false,
  kafkaSasl: null,
  fetchMaxBytes: Number(args.fetch),
});
const silent = { info() {}, warn() {}, error() {}, debug() {}, child: () => silent } as never;

async function once(): Promise<{ seconds: number; cpu: number; stored: number }> {
  const queue = rangesOf(dataset);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let stored = 0;
  await Promise.all(
    Array.from({ length: Number(args.concurrency) }, async () => {
      for (let r = queue.shift(); r !== undefined; r = queue.shift()) {
        const writer = new RangeWriter({
          spec,
          range: r,
          target: { openObjects: async (keys) => keys.map((k) => store.openObject(spec, k)) },
        });
        const rec = { ...r, start: String(r.start), end: String(r.end) } as unknown as RangeRecord;
        await feedRange(rec, { reader, writer, signal: new AbortController().signal, log: silent });
        for (const o of await writer.finish()) stored += o.bytes;
      }
    }),
  );
  const c = process.cpuUsage(c0);
  return {
    seconds: (performance.now() - t0) / 1000,
    cpu: (c.user + c.system) / 1e6,
    stored,
  };
}

try {
  const gb = dataset.bytes / 1e9;
  for (let i = 0; i < Number(args.runs); i++) {
    const before = threadCpuSeconds('self');
    const r = await once();
    const threads = [...threadCpuSeconds('self')]
      .map(([n, c]) => [n, c - (before.get(n) ?? 0)] as const)
      .filter(([, c]) => c > 0.01)
      .sort((a, b) => b[1] - a[1])
      .map(([n, c]) => `${n} ${(c / gb).toFixed(1)}`);
    log(
      `${shape.label} ${spec.format}/${spec.compression} ×${args.concurrency}: ${(dataset.bytes / 1e6 / r.seconds).toFixed(0)} MB/s, ` +
        `${(r.cpu / gb).toFixed(1)} CPU s/GB (by thread: ${threads.join(', ')}), ratio ${(dataset.bytes / r.stored).toFixed(2)}, ` +
        `peak RSS ${peakRssMiB(process.pid).toFixed(0)} MiB`,
    );
    await deletePrefix(s3, bucket, '');
  }
} finally {
  await reader.close();
  await deletePrefix(s3, bucket, '').catch(() => {});
  await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
  s3.destroy();
}
