/**
 * The memory section (`npm run bench -- --only memory`): one worker moves the same topic as
 * jsonl/zstd, raw and Parquet, with ranges of two sizes, and its peak RSS (VmHWM) is set
 * beside the README's formula for its settings. A probe preloaded into the worker
 * (memory-probe.ts) says where the peak goes: V8 heap, Buffers outside it, the rest.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Compression, Format } from '@sluice/shared';
import { type Dataset, type DatasetSpec, ensureDataset } from './dataset.ts';
import { runE2e } from './e2e.ts';
import { PAYLOAD_SCHEMA } from './payloads.ts';
import type { BenchEnv } from './stack.ts';

/** The worker's settings as the formula reads them (their defaults unless a run sets them). */
export interface MemorySettings {
  concurrency: number;
  partSizeBytes: number;
  uploadQueueSize: number;
  fetchMaxBytes: number;
  parquetRowGroupBytes: number;
}

export const DEFAULT_MEMORY_SETTINGS: Omit<MemorySettings, 'concurrency'> = {
  partSizeBytes: 8 * 1024 * 1024,
  uploadQueueSize: 2,
  fetchMaxBytes: 8 * 1024 * 1024,
  parquetRowGroupBytes: 16 * 1024 * 1024,
};

const MiB = 1024 * 1024;

/**
 * The fixed part of the README's formula: a worker process under load before its settings'
 * buffers (its code, V8's heap at working size, and freed Buffers that V8 has not collected
 * yet). Fitted to the memory section's peaks at concurrency 1, 2 and 4 (bench/README.md).
 */
export const WORKER_BASE_MIB = 250;
/**
 * Parquet's row groups, in row groups: one per range in hand (its rows wait as JS values) and
 * this many more for the one being encoded (its columns, levels, pages and their compressed
 * copies at once; encoding is synchronous, so one at a time). Fitted like the base, with rows
 * counted as their bytes plus parquet-object.ts ROW_MEMORY_BYTES.
 */
export const PARQUET_ENCODING_ROW_GROUPS = 4;

/**
 * The README's formula (Configuration, after the table), in MiB: the base, plus per range in
 * hand one fetch answer and one object's parts (the one filling and those uploading), plus for
 * Parquet its row groups. The benchmark writes one object per range at a time (one hour folder).
 */
export function memoryFormulaMiB(format: Format, s: MemorySettings): number {
  const perRange = s.fetchMaxBytes + s.partSizeBytes * (s.uploadQueueSize + 1);
  const parquet =
    format === 'parquet' ? (s.concurrency + PARQUET_ENCODING_ROW_GROUPS) * s.parquetRowGroupBytes : 0;
  return WORKER_BASE_MIB + (s.concurrency * perRange + parquet) / MiB;
}

export interface MemoryRow {
  format: Format;
  compression: Compression;
  concurrency: number;
  rangeMessages: number;
  /** Mean bytes of a range. */
  rangeMB: number;
  mbps: number;
  cpuSecondsPerGB: number;
  idleRssMiB: number;
  peakRssMiB: number;
  formulaMiB: number;
  xFormula: number;
  /** process.memoryUsage() in MiB: at the highest RSS sampled, and each part's own peak. */
  parts: { atPeakRss: MemoryParts; peak: MemoryParts } | null;
}

export interface MemoryParts {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

function inMiB(m: Partial<MemoryParts> | null | undefined): MemoryParts {
  return {
    rss: (m?.rss ?? 0) / MiB,
    heapTotal: (m?.heapTotal ?? 0) / MiB,
    heapUsed: (m?.heapUsed ?? 0) / MiB,
    external: (m?.external ?? 0) / MiB,
    arrayBuffers: (m?.arrayBuffers ?? 0) / MiB,
  };
}

/** What memory-probe.ts wrote, or null when it wrote nothing (a run shorter than half a second). */
function readProbe(file: string): MemoryRow['parts'] {
  try {
    const p = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Partial<MemoryParts> | null>;
    rmSync(file, { force: true });
    return { atPeakRss: inMiB(p.atPeakRss), peak: inMiB(p.peak) };
  } catch {
    return null;
  }
}

export interface MemoryOptions {
  env: BenchEnv;
  s3: S3Client;
  bucket: string;
  runId: string;
  quick: boolean;
  log: (s: string) => void;
}

export function memoryDatasetSpec(quick: boolean): DatasetSpec {
  const perPartition = quick ? 50_000 : 100_000;
  return {
    label: '1KiB',
    topic: `bench-memory-1kib-${quick ? 'q' : 'f'}`,
    partitions: 4,
    records: 4 * perPartition,
    payloadBytes: 1024,
    rangeMessages: perPartition,
  };
}

export async function runMemory(o: MemoryOptions): Promise<{ dataset: Dataset; rows: MemoryRow[] }> {
  const d = await ensureDataset(o.env, memoryDatasetSpec(o.quick), o.log);
  const probe = join(import.meta.dirname, 'memory-probe.ts');
  const formats: Array<[Format, Compression]> = [
    ['jsonl', 'zstd'],
    ['raw', 'none'],
    ['parquet', 'zstd'],
  ];
  const sizes = [10_000, d.rangeMessages];
  const rows: MemoryRow[] = [];
  let n = 0;
  // The formula's base and slope come from more than one concurrency.
  for (const concurrency of o.quick ? [1, 4] : [1, 2, 4])
    for (const [format, compression] of formats) {
      for (const rangeMessages of sizes) {
        const file = join(o.env.scratchDir, `${o.runId}-memory-${++n}.json`);
        o.log(`memory ${format}/${compression}, ranges of ${rangeMessages} records, 1 × ${concurrency}`);
        const r = await runE2e({
          env: o.env,
          s3: o.s3,
          bucket: o.bucket,
          name: `${o.runId}-mem-${n}`,
          dataset: { ...d, rangeMessages },
          config: { workers: 1, concurrency, format, compression },
          workerNodeFlags: ['--import', probe],
          workerEnv: { SLUICE_BENCH_MEMORY_FILE: file },
          ...(format === 'parquet' ? { topicFields: { schema: PAYLOAD_SCHEMA } } : {}),
          log: o.log,
        });
        const parts = readProbe(file);
        const w = r.workers[0];
        if (!w) throw new Error('the memory run had no worker');
        const formulaMiB = memoryFormulaMiB(format, { ...DEFAULT_MEMORY_SETTINGS, concurrency });
        const row: MemoryRow = {
          format,
          compression,
          concurrency,
          rangeMessages,
          rangeMB: r.bytes / r.ranges / 1e6,
          mbps: r.bytes / 1e6 / r.seconds,
          cpuSecondsPerGB: w.cpuSeconds / (r.bytes / 1e9),
          idleRssMiB: w.idleRssMiB,
          peakRssMiB: w.peakRssMiB,
          formulaMiB,
          xFormula: w.peakRssMiB / formulaMiB,
          parts,
        };
        o.log(
          `  peak ${row.peakRssMiB.toFixed(0)} MiB (idle ${row.idleRssMiB.toFixed(0)}), formula ${formulaMiB.toFixed(0)} MiB: ${row.xFormula.toFixed(2)}×; ${parts ? `at the peak: heap ${parts.atPeakRss.heapTotal.toFixed(0)} (used ${parts.atPeakRss.heapUsed.toFixed(0)}), external ${parts.atPeakRss.external.toFixed(0)} (array buffers ${parts.atPeakRss.arrayBuffers.toFixed(0)}); ` : ''}${row.mbps.toFixed(0)} MB/s`,
        );
        rows.push(row);
      }
    }
  return { dataset: d, rows };
}
