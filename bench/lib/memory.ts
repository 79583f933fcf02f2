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
 * buffers (its code, V8's heap at working size with the young generation the bin caps at 3 × 8
 * MiB, and freed Buffers that V8 has not collected yet). Fitted with the other constants to the
 * peaks of the memory and end-to-end sections of five whole runs (220 worker runs, concurrency
 * 1 to 4, 1 KiB and 100 B records, ranges of 10 to 68 MB; `node bench/memory-fit.ts`,
 * bench/README.md "Memory formula: a range fills no more than itself").
 */
export const WORKER_BASE_MIB = 275;
/**
 * Parquet's row groups, in row groups: the one being encoded (its columns, levels, pages and
 * their compressed copies at once; encoding is synchronous, so one at a time), whatever the
 * concurrency. A row group is never larger than its range, so a range shorter than
 * SLUICE_PARQUET_ROW_GROUP_BYTES counts its own bytes instead (rows are counted as their
 * bytes plus parquet-object.ts ROW_MEMORY_BYTES).
 */
export const PARQUET_ENCODING_ROW_GROUPS = 3;

/**
 * What one record of a fetch answer holds while its range is in hand, beyond its bytes: the
 * decoded record (its object, offset and timestamp, key and value views) and its share of
 * what encoding it leaves for the collector. Fitted to the memory section's 100 B runs, where
 * a fetch answer of 8 MiB is ~80,000 records (bench/README.md).
 */
export const RECORD_HELD_BYTES = 320;

/** The formula's fitted constants, which `bench/memory-fit.ts` varies. */
export interface FormulaConstants {
  baseMiB: number;
  recordHeldBytes: number;
  parquetRowGroups: number;
}

export const FORMULA_CONSTANTS: FormulaConstants = {
  baseMiB: WORKER_BASE_MIB,
  recordHeldBytes: RECORD_HELD_BYTES,
  parquetRowGroups: PARQUET_ENCODING_ROW_GROUPS,
};

/**
 * The README's formula (Configuration, after the table), in MiB: the base, plus per range in
 * hand one fetch answer (its bytes, and its records at {@link RECORD_HELD_BYTES} each) and one
 * object's parts, part size × upload queue size (the one filling and those uploading, which
 * the peaks show are not all full at once) or the range's bytes when the range is smaller (an
 * object holds no more parts than its range fills), plus for Parquet its row groups, each no
 * larger than the range. The benchmark writes one object per range at a time (one hour
 * folder). `rangeBytes` is a range's Kafka bytes (keys and values), its mean in a run.
 */
export function memoryFormulaMiB(
  format: Format,
  s: MemorySettings,
  recordBytes: number,
  rangeBytes: number,
  k: FormulaConstants = FORMULA_CONSTANTS,
): number {
  const records = s.fetchMaxBytes / Math.max(1, recordBytes);
  const parts = Math.min(s.partSizeBytes * s.uploadQueueSize, rangeBytes);
  const perRange = s.fetchMaxBytes + records * k.recordHeldBytes + parts;
  const parquet =
    format === 'parquet' ? k.parquetRowGroups * Math.min(s.parquetRowGroupBytes, rangeBytes) : 0;
  return k.baseMiB + (s.concurrency * perRange + parquet) / MiB;
}

export interface MemoryRow {
  /** The dataset's label (`1KiB`, `100B`). */
  dataset: string;
  /** Mean Kafka bytes (key + value) of its records. */
  recordBytes: number;
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

/** The memory section's topics: 1 KiB events (every format, two range sizes) and 100 B events (more records per fetch). */
export function memoryDatasetSpecs(quick: boolean): DatasetSpec[] {
  const perPartition = quick ? 50_000 : 100_000;
  const small = quick ? 250_000 : 500_000;
  return [
    {
      label: '1KiB',
      topic: `bench-memory-1kib-${quick ? 'q' : 'f'}`,
      partitions: 4,
      records: 4 * perPartition,
      payloadBytes: 1024,
      rangeMessages: perPartition,
    },
    {
      label: '100B',
      topic: `bench-memory-100b-${quick ? 'q' : 'f'}`,
      partitions: 4,
      records: 4 * small,
      payloadBytes: 100,
      rangeMessages: small / 2,
    },
  ];
}

export async function runMemory(o: MemoryOptions): Promise<{ datasets: Dataset[]; rows: MemoryRow[] }> {
  const datasets: Dataset[] = [];
  for (const spec of memoryDatasetSpecs(o.quick)) datasets.push(await ensureDataset(o.env, spec, o.log));
  const probe = join(import.meta.dirname, 'memory-probe.ts');
  const rows: MemoryRow[] = [];
  let n = 0;
  for (const d of datasets) {
    const kib = d.payloadBytes >= 1024;
    // 1 KiB: every format, ranges of two sizes; 100 B: the two formats without row groups, one size.
    const formats: Array<[Format, Compression]> = kib
      ? [
          ['jsonl', 'zstd'],
          ['raw', 'none'],
          ['parquet', 'zstd'],
        ]
      : [
          ['jsonl', 'zstd'],
          ['raw', 'none'],
        ];
    const sizes = kib ? [10_000, d.rangeMessages] : [d.rangeMessages];
    const recordBytes = d.bytes / d.records;
    // The formula's base and slope come from more than one concurrency.
    for (const concurrency of o.quick ? [1, 4] : [1, 2, 4])
      for (const [format, compression] of formats) {
        for (const rangeMessages of sizes) {
          const file = join(o.env.scratchDir, `${o.runId}-memory-${++n}.json`);
          o.log(
            `memory ${d.label} ${format}/${compression}, ranges of ${rangeMessages} records, 1 × ${concurrency}`,
          );
          const r = await runE2e({
            env: o.env,
            s3: o.s3,
            bucket: o.bucket,
            name: `${o.runId}-mem-${n}`,
            dataset: { ...d, rangeMessages },
            config: { workers: 1, concurrency, format, compression },
            workerNodeFlags: [
              '--import',
              probe,
              ...(process.env.XMEM_FLAGS ? process.env.XMEM_FLAGS.split(' ') : []),
            ],
            workerEnv: { SLUICE_BENCH_MEMORY_FILE: file },
            ...(format === 'parquet' ? { topicFields: { schema: PAYLOAD_SCHEMA } } : {}),
            log: o.log,
          });
          const parts = readProbe(file);
          const w = r.workers[0];
          if (!w) throw new Error('the memory run had no worker');
          const formulaMiB = memoryFormulaMiB(
            format,
            { ...DEFAULT_MEMORY_SETTINGS, concurrency },
            recordBytes,
            r.bytes / r.ranges,
          );
          const row: MemoryRow = {
            dataset: d.label,
            recordBytes,
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
  }
  return { datasets, rows };
}
