/**
 * Sluice beside its peer (issue 14): Benthos v4.27.0 and Sluice on the same topic, with the
 * same object size (10,000 records or 5 s), the values written as lines, gzip or zstd at the
 * same level, on each of four producer batch shapes (ProducerPerformance and kafkajs, ~16 KiB
 * and ~512 KiB record batches), because Sluice's cost was seen to depend on the shape. For
 * each: CPU seconds per GB of every process of the system (start-up included and excluded),
 * MB/s from start to all in S3, the compression ratio, and the records counted in S3.
 * Sluice runs as deployed (the built programs, default plan interval), as Benthos runs its
 * built binary: the source's type stripping is a cost of development only.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Compression } from '@sluice/shared';
import { compressionLevelOf } from '@sluice/shared';
import { BENTHOS_VERSION, type BenthosBuild, ensureBenthos, runBenthos } from './benthos.ts';
import { freePort } from './cluster.ts';
import { type Dataset, type DatasetSpec, deleteDataset, ensureDataset } from './dataset.ts';
import { runE2e } from './e2e.ts';
import type { BenchEnv } from './stack.ts';

export interface PeerShape {
  label: string;
  producer: NonNullable<DatasetSpec['producer']>;
}

export const PEER_SHAPES: PeerShape[] = [
  { label: 'ProducerPerformance 512 KiB', producer: { tool: 'perf', batchBytes: 512 * 1024 } },
  { label: 'ProducerPerformance 16 KiB', producer: { tool: 'perf', batchBytes: 16 * 1024 } },
  { label: 'kafkajs 512 KiB', producer: { tool: 'kafkajs', batchBytes: 512 * 1024 } },
  { label: 'kafkajs 16 KiB', producer: { tool: 'kafkajs', batchBytes: 16 * 1024 } },
];

export interface PeerRow {
  shape: string;
  system: 'sluice' | 'benthos';
  compression: Exclude<Compression, 'none'>;
  level: number;
  seconds: number;
  mbps: number;
  records: number;
  linesInS3: number;
  objects: number;
  /** Source bytes / stored bytes. */
  compressionRatio: number;
  /** Every process of the system, start-up included. */
  cpuSecondsPerGB: number;
  /** The same without what the processes used before data moved. */
  cpuSecondsPerGBAfterStartup: number;
  startupCpuSeconds: number;
  /** Sluice only: CPU seconds of the master and of the workers after start-up. */
  masterCpuSeconds?: number;
  workerCpuSeconds?: number;
  peakRssMiB: number;
  /**
   * CPU s per GB (start-up included) of every run of this row, in run order: the row is the
   * median run; a run whose lines in S3 differ from its records is the row's instead.
   */
  runsCpuSecondsPerGB?: number[];
}

export interface PeerResults {
  benthosVersion: string;
  /** The Go build of this run, null when the binary was reused. */
  build: BenthosBuild['built'];
  records: number;
  partitions: number;
  sluice: string;
  rows: PeerRow[];
}

const perGB = (cpu: number, bytes: number) => cpu / (bytes / 1e9);

/** Runs of each system and level per batch shape and codec in a full run (1 with --quick). */
export const PEER_REPEATS = 3;

/**
 * The run that stands for a row: the median by CPU per GB, with every run's figure beside it;
 * but a run that did not land every record exactly once (lines in S3 ≠ records) stands for it
 * whatever its CPU, so that a loss in any run shows in the table.
 */
export function medianRun(runs: PeerRow[]): PeerRow {
  if (runs.length === 0) throw new Error('medianRun: no runs');
  const cpu = runs.map((r) => r.cpuSecondsPerGB);
  const wrong = runs.find((r) => r.linesInS3 !== r.records);
  const sorted = [...runs].sort((a, z) => a.cpuSecondsPerGB - z.cpuSecondsPerGB);
  const pick = wrong ?? (sorted[Math.floor((sorted.length - 1) / 2)] as PeerRow);
  return { ...pick, runsCpuSecondsPerGB: cpu };
}

/** The topic of one batch shape: 1 KiB JSON values, ranges (and Benthos batches) of 10,000 records. */
export function peerDatasetSpec(shape: PeerShape, records: number, partitions = 6): DatasetSpec {
  const tag = `${shape.producer.tool}-${Math.round(shape.producer.batchBytes / 1024)}k`;
  return {
    label: shape.label,
    topic: `bench-peer-${tag}-${records}`,
    partitions,
    records,
    payloadBytes: 1024,
    rangeMessages: 10_000,
    producer: shape.producer,
  };
}

/** What Sluice is told beyond the benchmark's defaults to match Benthos's batches. */
export const PEER_TOPIC_FIELDS = { flushIntervalMs: 5_000 };

export async function runPeer(o: {
  env: BenchEnv;
  s3: S3Client;
  bucket: string;
  runId: string;
  quick: boolean;
  keepData: boolean;
  codecs?: Array<Exclude<Compression, 'none'>>;
  log: (s: string) => void;
}): Promise<PeerResults> {
  const { env, s3, bucket, log } = o;
  const bin = ensureBenthos(log);
  if (bin.built)
    log(`  built in ${bin.built.seconds.toFixed(0)} s (${bin.built.cpuSeconds.toFixed(0)} CPU s)`);
  const records = o.quick ? 60_000 : 200_000;
  /** Runs per row: one configuration's CPU per GB moves by ±15 % from run to run on this machine. */
  const repeats = o.quick ? 1 : PEER_REPEATS;
  const partitions = 6;
  const rows: PeerRow[] = [];
  let n = 0;
  for (const shape of PEER_SHAPES) {
    const d: Dataset = await ensureDataset(env, peerDatasetSpec(shape, records, partitions), log);
    const benthosRun = async (compression: PeerRow['compression'], level: number): Promise<PeerRow> => {
      const b = await runBenthos({
        env,
        s3,
        bucket,
        name: `${o.runId}-peer-${++n}`,
        dataset: d,
        binary: bin.path,
        compression,
        level,
        httpPort: await freePort(),
        log,
      });
      return {
        shape: shape.label,
        system: 'benthos',
        compression,
        level,
        seconds: b.seconds,
        mbps: d.bytes / 1e6 / b.seconds,
        records: d.records,
        linesInS3: b.linesInS3,
        objects: b.objects,
        compressionRatio: d.bytes / b.storedBytes,
        cpuSecondsPerGB: perGB(b.cpuSeconds, d.bytes),
        cpuSecondsPerGBAfterStartup: perGB(b.cpuSeconds - b.startupCpuSeconds, d.bytes),
        startupCpuSeconds: b.startupCpuSeconds,
        peakRssMiB: b.peakRssMiB,
      };
    };
    const sluiceRun = async (compression: PeerRow['compression'], level: number): Promise<PeerRow> => {
      const s = await runE2e({
        env,
        s3,
        bucket,
        name: `${o.runId}-peer-${++n}`,
        dataset: d,
        config: { workers: 1, concurrency: 2, format: 'raw', compression },
        topicFields: { ...PEER_TOPIC_FIELDS, compressionLevel: level },
        countLines: true,
        asDeployed: true,
        log,
      });
      const workerCpuSeconds = s.workers.reduce((x, w) => x + w.cpuSeconds, 0);
      const running = s.master.cpuSeconds + workerCpuSeconds;
      return {
        shape: shape.label,
        system: 'sluice',
        compression,
        level,
        seconds: s.seconds,
        mbps: d.bytes / 1e6 / s.seconds,
        records: s.records,
        linesInS3: s.linesInS3 ?? 0,
        objects: s.objects,
        compressionRatio: d.bytes / s.storedBytes,
        cpuSecondsPerGB: perGB(running + s.startupCpuSeconds, d.bytes),
        cpuSecondsPerGBAfterStartup: perGB(running, d.bytes),
        startupCpuSeconds: s.startupCpuSeconds,
        masterCpuSeconds: s.master.cpuSeconds,
        workerCpuSeconds,
        peakRssMiB: Math.max(...s.workers.map((w) => w.peakRssMiB)),
      };
    };
    try {
      for (const compression of o.codecs ?? (['zstd', 'gzip'] as const)) {
        const level = compressionLevelOf({ compression }) as number;
        // Sluice at the same level, and for gzip also at 5: zlib's 5 stores what Benthos's gzip 6
        // (klauspost) stores (bench/README.md, "Compression levels"), the aim's equal ratio.
        const levels = compression === 'gzip' ? [level, 5] : [level];
        const runs: PeerRow[][] = [[], ...levels.map(() => [])];
        // Benthos and Sluice alternate, so that the machine's load drifts over both alike.
        for (let rep = 1; rep <= repeats; rep++) {
          const of = repeats > 1 ? ` (run ${rep} of ${repeats})` : '';
          log(`peer ${shape.label} ${compression} ${level}: Benthos${of}`);
          runs[0]!.push(await benthosRun(compression, level));
          for (const [i, sluiceLevel] of levels.entries()) {
            log(`peer ${shape.label} ${compression} ${sluiceLevel}: Sluice${of}`);
            runs[i + 1]!.push(await sluiceRun(compression, sluiceLevel));
          }
          for (const r of runs.map((x) => x.at(-1)!))
            log(
              `  ${r.system} ${r.compression} ${r.level}: ${r.mbps.toFixed(0)} MB/s, ${r.cpuSecondsPerGB.toFixed(1)} CPU s/GB (${r.cpuSecondsPerGBAfterStartup.toFixed(1)} after start-up), ratio ${r.compressionRatio.toFixed(2)}, ${r.linesInS3} lines for ${r.records} records`,
            );
        }
        for (const r of runs) rows.push(medianRun(r));
      }
    } finally {
      if (!o.keepData) await deleteDataset(env, d.topic).catch(() => {});
    }
  }
  return {
    benthosVersion: BENTHOS_VERSION,
    build: bin.built,
    records,
    partitions,
    sluice:
      '1 master, 1 worker × 2 ranges at once, built programs (dist) at default settings, format raw, maxRangeMessages 10,000, flushIntervalMs 5,000',
    rows,
  };
}
