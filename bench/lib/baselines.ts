/**
 * Every baseline of one dataset, measured in the same run as the figures compared with them:
 * Kafka's Java consumer, the worker's reader alone (at the parallelism of each end-to-end
 * configuration), and the stages alone (compressors, range writer, S3 PUT).
 */
import type { StagesInput, StagesOutput } from '../child.ts';
import { type Dataset, rangesOf } from './dataset.ts';
import { javaConsumer } from './java-consumer.ts';
import { type Measurement, mbps, medianRun, merge } from './measurement.ts';
import type { RawReadInput } from './raw-read.ts';
import { runChild } from './spawn-child.ts';
import type { BenchEnv } from './stack.ts';

export const FETCH_MAX_BYTES = 8 * 1024 * 1024;

/** How ranges are read at once: `processes` processes, `parallel` ranges each. */
export interface Lanes {
  processes: number;
  parallel: number;
}

export const laneKey = (l: Lanes) => `${l.processes}x${l.parallel}`;

export interface Baselines {
  java: Measurement;
  javaRuns: Measurement[];
  /** By {@link laneKey}. */
  raw: Record<string, Measurement>;
  rawRuns: Record<string, Measurement[]>;
  stages: StagesOutput;
}

export interface BaselineOptions {
  env: BenchEnv;
  dataset: Dataset;
  runs: number;
  lanes: Lanes[];
  bucket: string;
  sampleRecords: number;
  s3Objects: number;
  s3ObjectBytes: number;
  compressRepeat: number;
  log: (s: string) => void;
}

async function rawReadLanes(env: BenchEnv, d: Dataset, lanes: Lanes): Promise<Measurement> {
  const ranges = rangesOf(d);
  const shares: (typeof ranges)[] = Array.from({ length: lanes.processes }, () => []);
  for (const [i, r] of ranges.entries()) shares[i % lanes.processes]?.push(r);
  const parts = await Promise.all(
    shares.map((share) =>
      runChild<Measurement>(env.scratchDir, 'raw-read', {
        brokers: env.brokers,
        fetchMaxBytes: FETCH_MAX_BYTES,
        parallel: lanes.parallel,
        ranges: share.map((r) => ({ ...r, start: String(r.start), end: String(r.end) })),
      } satisfies RawReadInput),
    ),
  );
  return merge(parts);
}

export async function measureBaselines(o: BaselineOptions): Promise<Baselines> {
  const { env, dataset: d, log } = o;
  const rawRuns: Record<string, Measurement[]> = {};
  for (const l of o.lanes) rawRuns[laneKey(l)] = [];
  const javaRuns: Measurement[] = [];
  // Interleaved, so that a noisy minute lands on every baseline rather than on one.
  for (let i = 0; i < o.runs; i++) {
    const j = await javaConsumer({
      kafkaHome: env.kafkaHome,
      brokers: env.brokers,
      topic: d.topic,
      records: d.records,
      bytes: d.bytes,
      fetchBytes: FETCH_MAX_BYTES,
    });
    javaRuns.push(j);
    log(`  java consumer run ${i + 1}: ${mbps(j).toFixed(0)} MB/s`);
    for (const l of o.lanes) {
      const m = await rawReadLanes(env, d, l);
      if (m.records !== d.records)
        throw new Error(`raw read got ${m.records} records, expected ${d.records}`);
      rawRuns[laneKey(l)]?.push(m);
      log(`  raw read ${laneKey(l)} run ${i + 1}: ${mbps(m).toFixed(0)} MB/s`);
    }
  }
  const raw: Record<string, Measurement> = {};
  for (const [k, runs] of Object.entries(rawRuns)) raw[k] = medianRun(runs);
  const parallels = [...new Set(o.lanes.map((l) => l.parallel * l.processes))].sort((a, b) => a - b);
  const stages = await runChild<StagesOutput>(env.scratchDir, 'stages', {
    brokers: env.brokers,
    topic: d.topic,
    topicId: d.topicId,
    sampleRecords: Math.min(o.sampleRecords, Number(d.ends[0]?.end ?? 0n)),
    batchRecords: Math.max(1, Math.floor(FETCH_MAX_BYTES / d.meanValueBytes)),
    compressRepeat: o.compressRepeat,
    writerRepeat: 1,
    parallel: parallels,
    compressions: ['gzip', 'zstd'],
    writers: [
      { format: 'jsonl', compression: 'none' },
      { format: 'jsonl', compression: 'gzip' },
      { format: 'jsonl', compression: 'zstd' },
      { format: 'raw', compression: 'none' },
    ],
    s3: {
      bucket: o.bucket,
      prefix: `bench-s3-alone-${Date.now().toString(36)}`,
      objects: o.s3Objects,
      objectBytes: o.s3ObjectBytes,
      parallel: parallels,
      partSizeBytes: 8 * 1024 * 1024,
      uploadQueueSize: 2,
      conditionalWrites: env.stack.SLUICE_S3_CONDITIONAL_WRITES !== 'false',
    },
  } satisfies StagesInput);
  for (const c of stages.compress)
    log(`  ${c.compression} alone x${c.parallel}: ${mbps(c.m).toFixed(0)} MB/s`);
  for (const w of stages.writer)
    log(`  writer alone ${w.format}/${w.compression}: ${mbps(w.m).toFixed(0)} MB/s`);
  for (const s of stages.s3) log(`  S3 PUT alone x${s.parallel}: ${mbps(s.m).toFixed(0)} MB/s`);
  return { java: medianRun(javaRuns), javaRuns, raw, rawRuns, stages };
}
