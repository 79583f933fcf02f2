/**
 * The run's figures → bench/results.json (everything), bench/results.md (tables, each figure
 * next to its ratio to the baseline measured in the same run) and bench/throughput.svg.
 */
import type { StagesOutput } from '../child.ts';
import { type Baselines, laneKey } from './baselines.ts';
import type { Dataset } from './dataset.ts';
import type { E2eResult } from './e2e.ts';
import type { IdleCost } from './idle-cost.ts';
import type { LatencyResult } from './latency.ts';
import type { LeaderZkPoint } from './leader-zk.ts';
import type { MasterScalePoint } from './master-scale.ts';
import { type Measurement, mbps } from './measurement.ts';
import {
  DEFAULT_MEMORY_SETTINGS,
  type MemoryRow,
  memoryFormulaMiB,
  PARQUET_ENCODING_ROW_GROUPS,
  RECORD_HELD_BYTES,
  WORKER_BASE_MIB,
} from './memory.ts';
import type { PeerResults } from './peer.ts';
import type { MachineInfo } from './proc-stats.ts';
import { barChart } from './svg-chart.ts';
import type { ZkRoundTrip } from './zk-round-trip.ts';

/** Worker settings every run used (the defaults). */

export interface E2eRow extends E2eResult {
  note?: string;
  /** MB/s of every run of this configuration (the row is the median one). */
  runsMbps?: number[];
  /** Derived. */
  mbps: number;
  recordsPerSecond: number;
  xRaw: number;
  xJava: number;
  stage: { name: string; x: number } | null;
  cpuSecondsPerGB: number;
  xRawCpu: number;
  peakRssMiB: number;
  idleRssMiB: number;
  memoryBoundMiB: number;
  xMemoryBound: number;
}

export interface Results {
  version: 1;
  quick: boolean;
  command: string;
  machine: MachineInfo;
  startedAt: string;
  finishedAt: string;
  minutes: number;
  notes: string[];
  datasets: Dataset[];
  baselines: Record<string, Baselines>;
  e2e: E2eRow[];
  master: { points: MasterScalePoint[]; zkRoundTrip: ZkRoundTrip | null };
  latency: LatencyResult | null;
  /** The leader's passes against the real ZooKeeper (`--only leader-zk`); absent: not run. */
  leaderZk?: { planIntervalMs: number; changedShare: number; points: LeaderZkPoint[] };
  /** Idle master (leading `partitions`) and worker, % of a core (`--only idle`). */
  idle?: Pick<IdleCost, 'partitions' | 'windowSeconds' | 'leaderCpuPct' | 'workerCpuPct' | 'moving'>;
  /** CPU seconds from spawn to ready of the built programs (`--only idle`). */
  startup?: { masterCpuS: number; workerCpuS: number };
  /** Benthos beside Sluice (lib/peer.ts); absent in runs before it existed. */
  peer?: PeerResults | null;
  /** One worker's peak RSS beside the README's formula (`--only memory`); absent: not run. */
  memory?: MemoryRow[] | null;
  profile?: string;
}

/** The leader-at-scale point of `partitions`, if measured. */
export function leaderZkAt(r: Results, partitions: number): LeaderZkPoint | undefined {
  return r.leaderZk?.points.find((p) => p.partitions === partitions);
}

function leaderZkTable(r: Results): string[] {
  const lz = r.leaderZk;
  if (!lz || lz.points.length === 0) return ['Not run.'];
  return [
    `The leader's passes (leadership/leader-passes.ts) against the local ZooKeeper, a pass every ${f0(lz.planIntervalMs)} ms; each pass ${f0(lz.changedShare * 100)} % of the partitions get a full range of new records, and workers on another thread mark every enqueued range done before the next pass. CPU is the leader's thread over the steady passes and the waits between them. ZooKeeper requests are those the leader sent (a multi counts once).`,
    '',
    '| partitions | changed per pass | pass p50 (ms) | pass p99 (ms) | leader CPU (% of a core) | ZooKeeper requests per pass | per changed partition | idle pass (ms) | idle pass requests |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...lz.points.map(
      (p) =>
        `| ${f0(p.partitions)} | ${f0(p.changedPerPass)} | ${f0(p.passMsP50)} | ${f0(p.passMsP99)} | ${f1(p.leaderCpuPct)} | ${f0(p.zkRequestsPerPass)} | ${f2(p.zkRequestsPerPass / Math.max(1, p.changedPerPass))} | ${f0(p.idlePassMsP50)} | ${f0(p.idleZkRequestsPerPass)} |`,
    ),
  ];
}

function idleTable(r: Results): string[] {
  if (!r.idle || !r.startup) return ['Not run.'];
  return [
    `The built programs (\`dist\`), default settings. Start-up is CPU from spawn to ready; idle is over ${f0(r.idle.windowSeconds)} s, the master leading ${f0(r.idle.partitions)} registered partitions without records, the worker waiting for jobs.`,
    '',
    '| | start-up (CPU s) | idle (% of a core) |',
    '|---|---:|---:|',
    `| master (leader) | ${f2(r.startup.masterCpuS)} | ${f2(r.idle.leaderCpuPct)} |`,
    `| worker | ${f2(r.startup.workerCpuS)} | ${f2(r.idle.workerCpuPct)} |`,
    ...(r.idle.moving
      ? [
          '',
          `Then, over ${f0(r.idle.moving.windowSeconds)} s, ${f0(r.idle.moving.recordsPerSecond)} records a second into ${f0(r.idle.moving.partitions)} partitions of one of those topics (flush interval 5 s; ${f0(r.idle.moving.committedRecords)} records committed in the window): the leader ${f2(r.idle.moving.leaderCpuPct)} % of a core, the worker ${f2(r.idle.moving.workerCpuPct)} %.`,
        ]
      : []),
  ];
}

const cpuPerGB = (m: Pick<Measurement, 'cpuMs' | 'bytes'>) => m.cpuMs / 1000 / (m.bytes / 1e9);

function stageOf(b: Baselines, r: E2eResult): { name: string; x: number } | null {
  const parallel = r.config.workers * r.config.concurrency;
  const pick = <T extends { parallel: number }>(xs: T[]) =>
    xs.reduce<T | null>(
      (best, x) => (x.parallel <= parallel && (!best || x.parallel > best.parallel) ? x : best),
      null,
    );
  if (r.config.compression !== 'none') {
    const c = pick(b.stages.compress.filter((s) => s.compression === r.config.compression));
    if (!c) return null;
    // Parquet compresses inside its pages and its objects' rawBytes are the file's bytes, so
    // its rate is compared in Kafka (source) bytes: the compressor's encoded rate turned into
    // the source bytes it stands for. The other formats: the bytes the compressor was handed.
    if (r.config.format === 'parquet') {
      const sourceRate = mbps(c.m) * (b.stages.sampleSourceBytes / b.stages.encodedBytes);
      return {
        name: `${r.config.compression} alone ×${c.parallel} (source bytes)`,
        x: r.bytes / 1e6 / r.seconds / sourceRate,
      };
    }
    const encodedRate = r.encodedBytes / 1e6 / r.seconds;
    return { name: `${r.config.compression} alone ×${c.parallel}`, x: encodedRate / mbps(c.m) };
  }
  const s = pick(b.stages.s3);
  if (!s) return null;
  return { name: `S3 PUT alone ×${s.parallel}`, x: r.storedBytes / 1e6 / r.seconds / mbps(s.m) };
}

export function deriveRow(b: Baselines, r: E2eResult, note?: string): E2eRow {
  const m = r.bytes / 1e6 / r.seconds;
  const raw = b.raw[laneKey({ processes: r.config.workers, parallel: r.config.concurrency })];
  const cpu = r.workers.reduce((n, w) => n + w.cpuSeconds, 0) / (r.bytes / 1e9);
  const peak = Math.max(...r.workers.map((w) => w.peakRssMiB));
  const idle = Math.max(...r.workers.map((w) => w.idleRssMiB));
  const bound = memoryFormulaMiB(
    r.config.format,
    { ...DEFAULT_MEMORY_SETTINGS, concurrency: r.config.concurrency },
    r.bytes / r.records,
    r.bytes / r.ranges,
  );
  return {
    ...r,
    ...(note ? { note } : {}),
    mbps: m,
    recordsPerSecond: r.records / r.seconds,
    xRaw: raw ? m / mbps(raw) : Number.NaN,
    xJava: m / mbps(b.java),
    stage: stageOf(b, r),
    cpuSecondsPerGB: cpu,
    xRawCpu: raw ? cpu / cpuPerGB(raw) : Number.NaN,
    peakRssMiB: peak,
    idleRssMiB: idle,
    memoryBoundMiB: bound,
    xMemoryBound: peak / bound,
  };
}

const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');
const x = (n: number, what: string) => (Number.isFinite(n) ? `${n.toFixed(2)}× ${what}` : '–');

function lanesText(workers: number, concurrency: number): string {
  return `${workers} × ${concurrency}`;
}

function datasetTable(r: Results): string[] {
  return [
    '| dataset | topic | partitions | records | MB (keys + values) | mean value | offsets per range | ranges |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...r.datasets.map(
      (d) =>
        `| ${d.label} | \`${d.topic}\` | ${d.partitions} | ${f0(d.records)} | ${f0(d.bytes / 1e6)} | ${f0(d.meanValueBytes)} B | ${f0(d.rangeMessages)} | ${d.ends.reduce((n, e) => n + Math.ceil(Number(e.end) / d.rangeMessages), 0)} |`,
    ),
  ];
}

function baselineTable(r: Results): string[] {
  const rows = [
    '| dataset | baseline | MB/s | records/s | ratio | CPU s per GB | peak RSS MiB |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const d of r.datasets) {
    const b = r.baselines[d.label];
    if (!b) continue;
    const java = mbps(b.java);
    rows.push(
      `| ${d.label} | Kafka's Java consumer (ConsumerPerformance, whole topic, read_committed, 8 MiB fetches) | ${f0(java)} | ${f0(b.java.records / (b.java.wallMs / 1000))} | baseline | ${f2(cpuPerGB(b.java))} (JVM start included) | ${f0(b.java.peakRssMiB)} |`,
    );
    for (const [k, m] of Object.entries(b.raw)) {
      const [p, par] = k.split('x');
      rows.push(
        `| ${d.label} | worker's reader alone (createRangeReader), ${p} process${p === '1' ? '' : 'es'} × ${par} range${par === '1' ? '' : 's'} at once | ${f0(mbps(m))} | ${f0(m.records / (m.wallMs / 1000))} | ${x(mbps(m) / java, 'Java consumer')} | ${f2(cpuPerGB(m))} | ${f0(m.peakRssMiB)} |`,
      );
    }
    const raw1 = b.raw['1x1'];
    const s = b.stages;
    const toSource = s.sampleSourceBytes / s.encodedBytes;
    for (const c of s.compress) {
      const enc = mbps(c.m);
      rows.push(
        `| ${d.label} | ${c.compression} alone (level ${c.compression === 'gzip' ? 6 : 3}), ${c.parallel} stream${c.parallel > 1 ? 's' : ''}, on the encoded jsonl | ${f0(enc)} encoded (${f0(enc * toSource)} source) | – | ${raw1 ? x((enc * toSource) / mbps(raw1), 'reader alone ×1') : '–'} | ${f2(cpuPerGB(c.m))} | – |`,
      );
    }
    for (const w of s.writer) {
      rows.push(
        `| ${d.label} | range writer alone (encode, bucket, compress, SHA-256), ${w.format} / ${w.compression} | ${f0(mbps(w.m))} | ${f0(w.m.records / (w.m.wallMs / 1000))} | ${raw1 ? x(mbps(w.m) / mbps(raw1), 'reader alone ×1') : '–'} | ${f2(cpuPerGB(w.m))} | – |`,
      );
    }
    for (const p of s.s3) {
      const put = mbps(p.m);
      rows.push(
        `| ${d.label} | S3 PUT alone (the worker's multipart writer, 8 MiB parts), ${p.parallel} object${p.parallel > 1 ? 's' : ''} at once | ${f0(put)} | – | ${raw1 ? x((put * toSource) / mbps(raw1), 'reader alone ×1 (as source bytes)') : '–'} | ${f2(cpuPerGB(p.m))} | – |`,
      );
    }
  }
  return rows;
}

export function e2eTable(rows: E2eRow[]): string[] {
  const out = [
    '| dataset | format / compression | workers × concurrency | MB/s | records/s | vs reader alone | vs Java consumer | vs slowest stage alone | CPU s per GB | vs reader CPU | peak RSS MiB per worker | vs settings bound | stored MB (/ source) |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    out.push(
      `| ${r.dataset} | ${r.config.format} / ${r.config.compression}${r.note ? ` (${r.note})` : ''} | ${lanesText(r.config.workers, r.config.concurrency)} | ${f0(r.mbps)}${r.runsMbps && r.runsMbps.length > 1 ? ` (${f0(Math.min(...r.runsMbps))}–${f0(Math.max(...r.runsMbps))})` : ''} | ${f0(r.recordsPerSecond)} | ${x(r.xRaw, 'reader')} | ${x(r.xJava, 'Java')} | ${r.stage ? x(r.stage.x, r.stage.name) : '–'} | ${f2(r.cpuSecondsPerGB)} | ${f2(r.xRawCpu)}× | ${f0(r.peakRssMiB)} | ${f2(r.xMemoryBound)}× of ${f0(r.memoryBoundMiB)} | ${f1(r.storedBytes / 1e6)} (${f2(r.storedBytes / r.bytes)}) |`,
    );
  }
  return out;
}

function sum(rows: E2eRow[], pick: (r: E2eRow) => Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) for (const [k, v] of Object.entries(pick(r))) out[k] = (out[k] ?? 0) + v;
  return out;
}

const READS = ['get', 'children', 'exists'];
const WRITES = ['set', 'create', 'remove', 'mkdirp', 'multi'];
const count = (c: Record<string, number>, keys: string[]) => keys.reduce((n, k) => n + (c[k] ?? 0), 0);

export interface ZkPerRange {
  ranges: number;
  master: { reads: number; writes: number; ops: number };
  workers: { reads: number; writes: number };
}

export function zkPerRange(rows: E2eRow[]): ZkPerRange {
  const ranges = rows.reduce((n, r) => n + r.ranges, 0);
  const m = sum(rows, (r) => r.zk.master);
  const w = sum(rows, (r) => r.zk.workers);
  return {
    ranges,
    master: {
      reads: count(m, READS) / ranges,
      writes: count(m, WRITES) / ranges,
      ops: (m['multi.create'] ?? 0) + (m['multi.set'] ?? 0) + (m['multi.remove'] ?? 0),
    },
    workers: { reads: count(w, READS) / ranges, writes: count(w, WRITES) / ranges },
  };
}

function masterTable(r: Results): string[] {
  const rtt = r.master.zkRoundTrip;
  const out = [
    '| partitions | topics | pass, in memory (ms) | µs per partition | heap of the master (MiB) | KiB per partition | ZooKeeper calls per pass | pass with the local ZooKeeper (est., ms) |',
    '|---:|---:|---:|---:|---:|---:|---|---:|',
  ];
  for (const p of r.master.points) {
    const gets = (p.zkPerPass.get ?? 0) + (p.zkPerPass.children ?? 0) + (p.zkPerPass.exists ?? 0);
    const multis = p.zkPerPass.multi ?? 0;
    const est = rtt ? p.passMs + gets * rtt.getMs + multis * rtt.multiMs : Number.NaN;
    out.push(
      `| ${f0(p.partitions)} | ${f0(p.topics)} | ${f0(p.passMs)} | ${f1(p.passMsPerPartition * 1000)} | ${f1(p.heapMiB)} | ${f2(p.heapKiBPerPartition)} | ${f0(gets)} reads, ${f0(multis)} multis | ${f0(est)} |`,
    );
  }
  return out;
}

/** On paper: what Pinterest's 2021 scale would need, from this run's figures. */
function pinterest(r: Results, zk: ZkPerRange): string[] {
  const bytesPerSecond = 1e15 / 86_400;
  const messagesPerSecond = 1e12 / 86_400;
  const peak = 2;
  const pick = (format: string, compression: string) =>
    r.e2e.find(
      (e) =>
        e.dataset === '1KiB' && e.config.format === format && e.config.compression === compression && !e.note,
    );
  const rows: string[] = [];
  const cases: Array<[string, string]> = [
    ['jsonl', 'zstd'],
    ['jsonl', 'gzip'],
    ['raw', 'none'],
  ];
  for (const [format, compression] of cases) {
    const e = pick(format, compression);
    if (!e) continue;
    const cores = (bytesPerSecond / 1e9) * e.cpuSecondsPerGB;
    rows.push(
      `| ${format} / ${compression} | ${f2(e.cpuSecondsPerGB)} | ${f0(cores)} | ${f0(cores * peak)} | ${f0(Math.ceil((cores * peak) / 0.7))} |`,
    );
  }
  // The largest point of the many-topics series (the one-topic point is a stress case).
  const points = r.master.points.filter((p) => p.topics > 1);
  const biggest = points.at(-1);
  const usPerPartition = biggest ? biggest.passMsPerPartition * 1000 : Number.NaN;
  const rtt = r.master.zkRoundTrip;
  const rangeBytes = 256 * 1024 * 1024;
  const rangesPerSecond = bytesPerSecond / rangeBytes;
  const partitions = [12_000, 50_000, 100_000];
  const zkRows = partitions.map((p) => {
    const inMemoryMs = (p * usPerPartition) / 1000;
    const withZk = rtt
      ? inMemoryMs + p * rtt.getMs + 2 * Math.min(p, rangesPerSecond) * rtt.multiMs
      : Number.NaN;
    return `| ${f0(p)} | ${f0(inMemoryMs)} | ${f0(withZk)} | ${f0(p)} reads/s at a 1 s plan interval | ${f0(rangesPerSecond * (zk.master.writes + zk.workers.writes))} |`;
  });
  // Measured with the real ZooKeeper (leader-zk) when this run has it; else the estimate.
  const measured = [...(r.leaderZk?.points ?? [])].sort((x, y) => x.partitions - y.partitions);
  const interval = r.leaderZk?.planIntervalMs ?? 1000;
  const fits = measured.filter((p) => p.passMsP99 <= interval && p.leaderCpuPct < 50);
  const largest = fits.at(-1);
  const pinterestPartitions = 50_000;
  const masters = largest
    ? [
        `**Masters**: one leader (plus one or two standbys) plans for as many partitions as one pass serves within the plan interval. Measured with the real local ZooKeeper (leader-zk, ${f0((r.leaderZk?.changedShare ?? 0) * 100)} % of the partitions receiving a range's worth of records every pass):`,
        '',
        '| partitions | pass p50 (ms) | pass p99 (ms) | leader CPU (% of a core) | ZooKeeper requests per pass | requests/s at the plan interval |',
        '|---:|---:|---:|---:|---:|---:|',
        ...measured.map(
          (p) =>
            `| ${f0(p.partitions)} | ${f0(p.passMsP50)} | ${f0(p.passMsP99)} | ${f1(p.leaderCpuPct)} | ${f0(p.zkRequestsPerPass)} (${f0(p.idleZkRequestsPerPass)} when none changed) | ${f0((p.zkRequestsPerPass * 1000) / interval)} |`,
        ),
        '',
        `So one leader serves ${f0(largest.partitions)} partitions at a ${f0(interval)} ms plan interval (p99 ${f0(largest.passMsP99)} ms, ${f1(largest.leaderCpuPct)} % of a core)${largest.partitions >= pinterestPartitions ? ", which covers Pinterest's tens of thousands of partitions with one leader" : ''}. Beyond the largest point measured, a pass grows with the partitions that changed (requests) and linearly in all partitions (in-memory work, ${f1(usPerPartition)} µs each): raise SLUICE_PLAN_INTERVAL_MS (a pass every 2-5 s still keeps 256 MiB ranges flowing) or split the topics between installations, one leader each. ZooKeeper: the leader's requests above (mostly reads of changed partitions' range nodes) plus the range protocol's writes below.`,
        '',
        `At ${f0(rangesPerSecond)} ranges/s (256 MiB ranges at the average rate) the range protocol costs ZooKeeper ${f1(zk.master.writes + zk.workers.writes)} writes and ${f1(zk.master.reads + zk.workers.reads)} reads per range (measured in this run's end-to-end runs): ${f0(rangesPerSecond * (zk.master.writes + zk.workers.writes))} writes/s on average, ${f0(peak * rangesPerSecond * (zk.master.writes + zk.workers.writes))} at peak, well within one 3- or 5-node ensemble (tens of thousands of writes/s); the write rate follows bytes, not partitions.`,
      ]
    : [
        `**Masters**: one leader (plus one or two standbys) suffices while a planning pass fits in the plan interval. Its in-memory work is ${f1(usPerPartition)} µs per partition per pass and ${f2(biggest?.heapKiBPerPartition ?? Number.NaN)} KiB of heap per partition (measured up to ${f0(biggest?.partitions ?? 0)} partitions, linear). This run did not measure passes with the real ZooKeeper (\`--only leader-zk\`); estimated with this run's local round trips (${rtt ? `${f2(rtt.getMs)} ms a get, ${f2(rtt.multiMs)} ms a multi` : 'not measured'}) as if every call waited for the one before:`,
        '',
        '| partitions | pass in memory (ms) | pass with ZooKeeper round trips (est., ms) | leader reads | ZooKeeper writes/s for ranges (256 MiB each) |',
        '|---:|---:|---:|---|---:|',
        ...zkRows,
        '',
        `At ${f0(rangesPerSecond)} ranges/s (256 MiB ranges at the average rate) the range protocol itself costs ZooKeeper ${f1(zk.master.writes + zk.workers.writes)} writes and ${f1(zk.master.reads + zk.workers.reads)} reads per range (measured in this run's end-to-end runs), a few hundred writes/s: well within one 3- or 5-node ensemble.`,
      ];
  return [
    'Pinterest described its 2021 logging pipeline as more than a petabyte and a trillion messages a',
    `day: ${f1(bytesPerSecond / 1e9)} GB/s and ${f1(messagesPerSecond / 1e6)} M messages/s on average (about 1 KB each, the 1 KiB`,
    `dataset here), planned below at ${peak}× the average for peaks. These are estimates from this run's`,
    'figures, not measurements at that scale.',
    '',
    '**Workers** (CPU is the steady figure; MB/s per process on this shared 2-core box is not):',
    '',
    '| format / compression | worker CPU s per GB (1 KiB, measured) | cores, average | cores, 2× peak | workers of 1 core at 70 % |',
    '|---|---:|---:|---:|---:|',
    ...rows,
    '',
    ...masters,
    '',
    `**Redis** holds one BullMQ job per range: ${f0(rangesPerSecond)} jobs/s at the average rate, each some ten Redis commands over its life: about ${f0(rangesPerSecond * 10 * peak)} commands/s at peak, a small fraction of one Redis; memory is a few KB per job waiting.`,
  ];
}

/** How many runs each row of the peer table stands for (runs before repeats existed: one). */
function runsText(p: PeerResults): string {
  const n = Math.max(1, ...p.rows.map((x) => x.runsCpuSecondsPerGB?.length ?? 1));
  return n > 1
    ? ` Each row is the median of ${n} runs by CPU per GB (Benthos and Sluice alternating, so that the machine's load drifts over both), with the ${n} runs' range in brackets; a run that landed other than every record once would stand for its row instead.`
    : '';
}

const cpuRange = (runs: number[] | undefined): string =>
  runs && runs.length > 1 ? ` (${f1(Math.min(...runs))}–${f1(Math.max(...runs))})` : '';

function peerTable(p: PeerResults): string[] {
  return [
    `${p.records.toLocaleString('en-US')} records of ~1 KiB JSON in ${p.partitions} partitions per shape, values written as lines, one object per 10,000 records or 5 s. Benthos ${p.benthosVersion}: kafka_franz → aws_s3 with batching (count 10,000, period 5 s, archive lines, compress), timed from its start. Sluice: ${p.sluice}, timed from the registration. CPU is utime + stime of every process of the system (/proc); "after start-up" leaves out what they used before data moved (Benthos: until /ready answered). Ratio: Kafka bytes / stored bytes. Records are counted line by line in the objects in S3.${runsText(p)}${p.build ? ` The Go build of Benthos took ${f0(p.build.seconds)} s (${f0(p.build.cpuSeconds)} CPU s) in this run.` : ''}`,
    '',
    '| batch shape | system | codec | MB/s | CPU s per GB | after start-up | ratio | lines in S3 / records | objects | peak RSS MiB |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ...p.rows.map(
      (x) =>
        `| ${x.shape} | ${x.system === 'sluice' ? 'Sluice' : 'Benthos'} | ${x.compression} ${x.level} | ${f0(x.mbps)} | ${f1(x.cpuSecondsPerGB)}${cpuRange(x.runsCpuSecondsPerGB)} | ${f1(x.cpuSecondsPerGBAfterStartup)} | ${f2(x.compressionRatio)} | ${f0(x.linesInS3)} / ${f0(x.records)} | ${f0(x.objects)} | ${f0(x.peakRssMiB)} |`,
    ),
  ];
}

/**
 * Sluice's CPU per GB over Benthos's, per batch shape, for one codec; null when not measured.
 * Of Sluice's levels, the cheapest one storing at least Benthos's ratio stands for it (else
 * the cheapest one): the aim compares cost at an equal or better compression ratio.
 */
export function peerRatios(
  p: PeerResults | null | undefined,
  codec: 'gzip' | 'zstd',
): Array<{
  shape: string;
  x: number;
  level: number;
  sluiceRatio: number;
  benthosRatio: number;
  sluiceCpu: number;
  benthosCpu: number;
}> | null {
  const rows = p?.rows.filter((x) => x.compression === codec) ?? [];
  const out = [];
  for (const shape of new Set(rows.map((x) => x.shape))) {
    const b = rows.find((x) => x.shape === shape && x.system === 'benthos');
    const mine = rows
      .filter((x) => x.shape === shape && x.system === 'sluice')
      .sort((a, z) => a.cpuSecondsPerGB - z.cpuSecondsPerGB);
    const s = mine.find((x) => b && x.compressionRatio >= b.compressionRatio) ?? mine[0];
    if (s && b)
      out.push({
        shape,
        x: s.cpuSecondsPerGB / b.cpuSecondsPerGB,
        level: s.level,
        sluiceRatio: s.compressionRatio,
        benthosRatio: b.compressionRatio,
        sluiceCpu: s.cpuSecondsPerGB,
        benthosCpu: b.cpuSecondsPerGB,
      });
  }
  return out.length > 0 ? out : null;
}

/** Peak RSS over the formula of every worker run measured: the memory section's and the end-to-end matrix's. */
function memoryRatios(r: Results): Array<{ what: string; x: number }> {
  const out = (r.memory ?? []).map((m) => ({
    what: `${m.dataset ?? '1KiB'} ${m.format}/${m.compression} 1 × ${m.concurrency}, ${f0(m.rangeMB)} MB ranges`,
    x: m.xFormula,
  }));
  for (const e of r.e2e.filter((e) => Number.isFinite(e.xMemoryBound)))
    out.push({
      what: `${e.dataset} ${e.config.format}/${e.config.compression} ${lanesText(e.config.workers, e.config.concurrency)}, ${f0(e.bytes / e.ranges / 1e6)} MB ranges`,
      x: e.xMemoryBound,
    });
  return out;
}

const FORMULA_TEXT = `The formula is the README's (Configuration, at the default settings): ${WORKER_BASE_MIB} MiB + concurrency × (one fetch + its records × ${RECORD_HELD_BYTES} B + the smaller of part size × upload queue size and the range's bytes) + for Parquet ${PARQUET_ENCODING_ROW_GROUPS} × the smaller of the row group size and the range's bytes, where a fetch's records are the fetch size over the mean record size and a range's bytes are the run's mean.`;

function memoryTable(r: Results): string[] {
  if (!r.memory || r.memory.length === 0) return ['Not run.'];
  return [
    `One worker, its settings at their defaults but concurrency, on topics of 1 KiB JSON events (every format, ranges of two sizes) and of 100 B events (jsonl and raw: ten times the records per fetch), 4 partitions each. Peak RSS is VmHWM; the parts are \`process.memoryUsage()\` at the moment of the highest RSS (lib/memory-probe.ts): V8's heap (reserved, and used), and memory outside it (mostly Buffers). ${FORMULA_TEXT}`,
    '',
    '| records | format / compression | concurrency | range | MB/s | CPU s per GB | peak RSS MiB | formula MiB | peak / formula | heap MiB (used) | outside the heap MiB |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.memory.map(
      (m) =>
        `| ${m.dataset ?? '1KiB'} | ${m.format} / ${m.compression} | ${m.concurrency} | ${f0(m.rangeMessages)} records (${f1(m.rangeMB)} MB) | ${f1(m.mbps)} | ${f1(m.cpuSecondsPerGB)} | ${f0(m.peakRssMiB)} | ${f0(m.formulaMiB)} | ${f2(m.xFormula)}× | ${m.parts ? `${f0(m.parts.atPeakRss.heapTotal)} (${f0(m.parts.atPeakRss.heapUsed)})` : '–'} | ${m.parts ? f0(m.parts.atPeakRss.external) : '–'} |`,
    ),
  ];
}

const NOT_MEASURED = (aim: string) => `| ${aim} | not measured in this run | no |`;

/** One row per aim of issue 14, each computed from this run's figures. */
export function issue14Aims(r: Results): string[] {
  const out = ['| aim | measured | met |', '|---|---|---|'];
  const zstd = peerRatios(r.peer, 'zstd');
  const zAim =
    "Sluice's CPU per GB (master + workers, start-up included) ≤ 0.5× Benthos's with zstd, every batch shape";
  out.push(
    zstd
      ? `| ${zAim} | ${zstd.map((z) => `${z.shape}: ${f2(z.x)}×`).join('; ')} | ${zstd.every((z) => z.x <= 0.5) ? 'yes' : 'no'} |`
      : NOT_MEASURED(zAim),
  );
  const gzip = peerRatios(r.peer, 'gzip');
  const gAim =
    "Sluice's CPU per GB ≤ 1.0× Benthos's with gzip at an equal or better compression ratio, every batch shape";
  out.push(
    gzip
      ? `| ${gAim} | ${gzip.map((g) => `${g.shape}: ${f2(g.x)}× (Sluice gzip ${g.level}), ratio ${f2(g.sluiceRatio)} vs ${f2(g.benthosRatio)}`).join('; ')} | ${gzip.every((g) => g.x <= 1 && g.sluiceRatio >= g.benthosRatio) ? 'yes' : 'no'} |`
      : NOT_MEASURED(gAim),
  );
  const staged = r.e2e.filter((e) => e.stage !== null && !e.note);
  const tAim = 'end to end ≥ 0.8× the slowest stage alone at the same parallelism, every configuration';
  if (staged.length > 0) {
    const worst = staged.reduce((a, e) => ((e.stage?.x ?? 0) < (a.stage?.x ?? 0) ? e : a));
    out.push(
      `| ${tAim} | lowest ${f2(worst.stage?.x ?? Number.NaN)}× ${worst.stage?.name} (${worst.dataset}, ${worst.config.format}/${worst.config.compression}, ${lanesText(worst.config.workers, worst.config.concurrency)}) over ${staged.length} configurations | ${staged.every((e) => (e.stage?.x ?? 0) >= 0.8) ? 'yes' : 'no'} |`,
    );
  } else out.push(NOT_MEASURED(tAim));
  const idle = r.idle;
  const startup = r.startup;
  const lAim = 'an idle leader with 1,000 partitions under 2 % of a core, start-up under 1 CPU s';
  out.push(
    idle && startup
      ? `| ${lAim} | ${f1(idle.leaderCpuPct)} % of a core (${f0(idle.partitions)} partitions), start-up ${f2(startup.masterCpuS)} CPU s | ${idle.leaderCpuPct < 2 && startup.masterCpuS < 1 ? 'yes' : 'no'} |`
      : NOT_MEASURED(lAim),
  );
  const wAim = 'an idle worker under 1 % of a core, start-up under 1 CPU s';
  out.push(
    idle && startup
      ? `| ${wAim} | ${f1(idle.workerCpuPct)} % of a core, start-up ${f2(startup.workerCpuS)} CPU s | ${idle.workerCpuPct < 1 && startup.workerCpuS < 1 ? 'yes' : 'no'} |`
      : NOT_MEASURED(wAim),
  );
  const at50k = leaderZkAt(r, 50_000);
  const zAim50 =
    'leader at 50,000 partitions (real ZooKeeper, 5 % changing): a pass ≤ 1 s, under half a core, ZooKeeper requests growing with the partitions that changed';
  out.push(
    at50k
      ? `| ${zAim50} | ${f0(at50k.passMsP50)} ms per pass (p50), ${f1(at50k.leaderCpuPct)} % of a core, ${f0(at50k.zkRequestsPerPass)} ZooKeeper requests for ${f0(at50k.changedPerPass)} changed partitions (${f0(at50k.idleZkRequestsPerPass)} with none) | ${at50k.passMsP50 <= 1000 && at50k.leaderCpuPct < 50 ? 'yes' : 'no'} |`
      : NOT_MEASURED(zAim50),
  );
  const mem = memoryRatios(r);
  const mAim = "a worker's peak RSS within ±20 % of the README's formula, whatever the range size";
  if (mem.length > 0) {
    const worst = mem.reduce((w, m) => (Math.abs(m.x - 1) > Math.abs(w.x - 1) ? m : w));
    const lo = Math.min(...mem.map((m) => m.x));
    const hi = Math.max(...mem.map((m) => m.x));
    out.push(
      `| ${mAim} | ${f2(lo)}-${f2(hi)}× the formula over ${mem.length} runs (worst: ${worst.what}, ${f2(worst.x)}×) | ${Math.abs(worst.x - 1) <= 0.2 ? 'yes' : 'no'} |`,
    );
  } else out.push(NOT_MEASURED(mAim));
  return out;
}

function aims(r: Results): string[] {
  const out = ['| aim | measured | met |', '|---|---|---|'];
  for (const d of r.datasets) {
    const b = r.baselines[d.label];
    if (!b) continue;
    const best = Math.max(...Object.values(b.raw).map((m) => mbps(m)));
    const ratio = best / mbps(b.java);
    out.push(
      `| worker's raw read ≥ 0.7× Kafka's Java consumer (${d.label}) | best lane ${f0(best)} MB/s = ${f2(ratio)}× Java ${f0(mbps(b.java))} MB/s | ${ratio >= 0.7 ? 'yes' : 'no'} |`,
    );
  }
  for (const e of r.e2e.filter((e) => e.config.compression === 'none' && !e.note)) {
    out.push(
      `| compression off: end to end ≥ 0.8× raw read (${e.dataset}, ${e.config.format}, ${lanesText(e.config.workers, e.config.concurrency)}) | ${f0(e.mbps)} MB/s = ${f2(e.xRaw)}× reader | ${e.xRaw >= 0.8 ? 'yes' : 'no'} |`,
    );
  }
  for (const pq of r.e2e.filter((e) => e.config.format === 'parquet' && !e.note)) {
    // The "1KiB Avro" dataset holds the 1 KiB events as Avro values: its Parquet runs are
    // held against jsonl/zstd of the JSON events, in records/s (the Kafka bytes differ).
    const jsonLabel = pq.dataset.replace(/ Avro$/, '');
    const same = (e: E2eRow) =>
      e.dataset === jsonLabel &&
      e.config.workers === pq.config.workers &&
      e.config.concurrency === pq.config.concurrency &&
      !e.note;
    const js = r.e2e.find((e) => same(e) && e.config.format === 'jsonl' && e.config.compression === 'zstd');
    if (!js) continue;
    const byRecords = jsonLabel !== pq.dataset;
    const speed = byRecords ? pq.recordsPerSecond / js.recordsPerSecond : pq.mbps / js.mbps;
    const stored = pq.storedBytes / js.storedBytes;
    const lanes = lanesText(pq.config.workers, pq.config.concurrency);
    const rate = byRecords
      ? `${f0(pq.recordsPerSecond)} records/s = ${f2(speed)}× jsonl/zstd's ${f0(js.recordsPerSecond)} (${js.dataset})`
      : `${f0(pq.mbps)} MB/s = ${f2(speed)}× jsonl/zstd's ${f0(js.mbps)}`;
    out.push(
      `| Parquet (zstd) end to end ≥ 0.7× jsonl/zstd's ${byRecords ? 'records/s' : 'MB/s'} (${pq.dataset}, ${lanes}) | ${rate} | ${speed >= 0.7 ? 'yes' : 'no'} |`,
      `| Parquet (zstd) stored bytes ≤ 0.7× jsonl.zst's (${pq.dataset}) | ${f1(pq.storedBytes / 1e6)} MB = ${f2(stored)}× jsonl.zst's ${f1(js.storedBytes / 1e6)} MB (${js.dataset}) | ${stored <= 0.7 ? 'yes' : 'no'} |`,
    );
  }
  const big = r.e2e.find((e) => e.note);
  const small =
    big &&
    r.e2e.find(
      (e) =>
        !e.note &&
        e.dataset === big.dataset &&
        e.config.format === big.config.format &&
        e.config.compression === big.config.compression &&
        e.config.workers === big.config.workers &&
        e.config.concurrency === big.config.concurrency,
    );
  if (big && small) {
    const byRange = big.peakRssMiB <= small.peakRssMiB * 1.25;
    out.push(
      `| memory per worker bounded by settings whatever the range size | peak ${f0(small.peakRssMiB)} MiB with ${f0(small.bytes / small.ranges / 1e6)} MB ranges, ${f0(big.peakRssMiB)} MiB with ${f0(big.bytes / big.ranges / 1e6)} MB ranges (${f2(big.peakRssMiB / small.peakRssMiB)}×); ${f2(small.xMemoryBound)}× and ${f2(big.xMemoryBound)}× the README's formula (${f0(big.memoryBoundMiB)} MiB) | ${byRange ? 'yes' : 'no'} |`,
    );
  }
  const pts = r.master.points.filter((p) => p.topics > 1);
  if (pts.length >= 2) {
    const first = pts[0] as MasterScalePoint;
    const last = pts.at(-1) as MasterScalePoint;
    const growth = last.passMsPerPartition / first.passMsPerPartition;
    const one = r.master.points.find((p) => p.topics === 1);
    out.push(
      `| master planning cost linear in partitions | ${f1(first.passMsPerPartition * 1000)} µs per partition at ${f0(first.partitions)}, ${f1(last.passMsPerPartition * 1000)} at ${f0(last.partitions)}${one ? `; one topic of ${f0(one.partitions)}: ${f1(one.passMsPerPartition * 1000)}` : ''} (in memory) | ${growth < 1.5 ? 'yes' : 'no'} |`,
    );
  }
  return out;
}

export function markdown(r: Results): string {
  const m = r.machine;
  const zk = zkPerRange(r.e2e.filter((e) => e.ranges > 0));
  const lines = [
    '# Sluice benchmark results',
    '',
    `Generated by \`${r.command}\` on ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC in ${f1(r.minutes)} min. Every figure was measured in this run, and every ratio compares it with a baseline measured in this run on the same machine, because the machine is shared and noisy: absolute MB/s move by ±25 % between runs, ratios much less.`,
    '',
    `**Machine**: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os} (Linux ${m.kernel}), Node ${m.node}. Kafka, ZooKeeper, Redis and the S3 server run on the same machine; 1-minute load average ${f1(m.loadStart)} at the start, ${f1(m.loadEnd ?? Number.NaN)} at the end.`,
    '',
    ...r.notes.map((n) => `- ${n}`),
    '',
    '## Datasets',
    '',
    ...datasetTable(r),
    '',
    '## Baselines',
    '',
    ...baselineTable(r),
    '',
    '## End to end, from registration to committed',
    '',
    `MB are 10^6 bytes of Kafka record keys and values; records/s likewise counts Kafka records. "vs reader alone" compares with the worker's reader at the same parallelism (same processes × ranges at once); "vs slowest stage alone" with the compressor alone (compressed runs, in encoded bytes) or S3 PUT alone (uncompressed runs, in stored bytes) at the same parallelism. CPU is every thread of every worker process (/proc), per GB of Kafka bytes. ${FORMULA_TEXT}`,
    '',
    ...e2eTable(r.e2e),
    '',
    '![throughput](throughput.svg)',
    '',
    '## Memory of one worker',
    '',
    ...memoryTable(r),
    '',
    '## Master',
    '',
    "The leader's own classes (PlanningLoop, Tracker, PartitionCache, RangeEnqueuer, FencedWriter, MasterMetrics) over an in-memory ZooKeeper, steady state: every pass commits one range and plans one per partition. Topics of 100 partitions unless said.",
    '',
    ...masterTable(r),
    '',
    `ZooKeeper requests per range in this run's end-to-end runs (${f0(zk.ranges)} ranges; the session watchdog's pings are not counted): the master ${f1(zk.master.reads)} reads and ${f1(zk.master.writes)} writes (including its idle polling while ranges ran), the workers ${f1(zk.workers.reads)} reads and ${f1(zk.workers.writes)} writes (read, start, record keys, complete, progress).`,
    '',
    '## The leader at scale, with the real ZooKeeper',
    '',
    ...leaderZkTable(r),
    '',
    '## Idle cost and start-up',
    '',
    ...idleTable(r),
    '',
    '## Latency, produce to object visible',
    '',
    ...(r.latency
      ? [
          `A trickle of small JSON events into a topic registered with \`flushIntervalMs\` ${r.latency.flushIntervalMs} ms, the master planning every ${r.latency.planIntervalMs} ms (default), one worker; ${f0(r.latency.records)} records in ${r.latency.objects} objects over ${r.latency.seconds} s. Latency is the object's first appearance in a listing (polled every 200 ms) minus the record's Kafka timestamp.`,
          '',
          '| p50 | p95 | p99 | max | min |',
          '|---:|---:|---:|---:|---:|',
          `| ${f2(r.latency.p50Ms / 1000)} s (${f2(r.latency.p50Ms / r.latency.flushIntervalMs)}× flush interval) | ${f2(r.latency.p95Ms / 1000)} s (${f2(r.latency.p95Ms / r.latency.flushIntervalMs)}×) | ${f2(r.latency.p99Ms / 1000)} s (${f2(r.latency.p99Ms / r.latency.flushIntervalMs)}×) | ${f2(r.latency.maxMs / 1000)} s (${f2(r.latency.maxMs / r.latency.flushIntervalMs)}×) | ${f2(r.latency.minMs / 1000)} s |`,
        ]
      : ['Not run.']),
    '',
    '## Beside Benthos',
    '',
    ...(r.peer ? peerTable(r.peer) : ['Not run.']),
    '',
    '## Aims',
    '',
    'The aims of issue 14, each computed from this run (a row whose figure this run did not measure says so and is not met).',
    '',
    ...issue14Aims(r),
    '',
    '## Earlier aims',
    '',
    ...aims(r),
    '',
    "## At Pinterest's scale, on paper",
    '',
    ...pinterest(r, zk),
    '',
  ];
  return `${lines.join('\n')}\n`;
}

export function chart(r: Results): string {
  const categories = ['1 × 1', '1 × 4', '2 × 2'];
  const panels = r.datasets.map((d) => {
    const rows = r.e2e.filter((e) => e.dataset === d.label && !e.note);
    const names = [...new Set(rows.map((e) => `${e.config.format} / ${e.config.compression}`))];
    const b = r.baselines[d.label];
    const bestRaw = b ? Math.max(...Object.values(b.raw).map((m) => mbps(m))) : 0;
    return {
      title: `${d.label} records`,
      categories,
      series: names.map((name) => ({
        name,
        values: categories.map((c) => {
          const [w, cc] = c.split(' × ').map(Number);
          const e = rows.find(
            (x) =>
              `${x.config.format} / ${x.config.compression}` === name &&
              x.config.workers === w &&
              x.config.concurrency === cc,
          );
          return e ? e.mbps : null;
        }),
      })),
      references: b
        ? [
            { name: "Kafka's Java consumer", value: mbps(b.java) },
            { name: 'reader alone (best)', value: bestRaw },
          ]
        : [],
    };
  });
  // Same series order and names in every panel, so one legend serves all.
  const allNames = [...new Set(panels.flatMap((p) => p.series.map((s) => s.name)))];
  for (const p of panels) {
    p.series = allNames.map(
      (name) => p.series.find((s) => s.name === name) ?? { name, values: categories.map(() => null) },
    );
  }
  return barChart({
    title: 'Sluice end to end: MB/s of Kafka data from registration to committed',
    subtitle: `${r.machine.cores} cores (${r.machine.cpuModel.replace(/\s+/g, ' ')}), shared with Kafka, ZooKeeper, Redis and S3; ${r.startedAt.slice(0, 10)}`,
    yLabel: 'MB/s (10^6 bytes of keys + values)',
    panels,
  });
}

export type { StagesOutput };

/** Where the README's generated benchmark summary starts and ends. */
export const README_BEGIN =
  '<!-- bench:begin: written by `npm run bench` from bench/results.json (bench/lib/report.ts readmeSection); edit the generator, not this -->';
export const README_END = '<!-- bench:end -->';

/**
 * The README's benchmark summary, from a run's results: when and where, end to end, beside
 * Benthos, the aims of issue 14 and the sizing at Pinterest's scale. `npm run bench` writes it
 * between {@link README_BEGIN} and {@link README_END} when it writes bench/results.md.
 */
export function readmeSection(r: Results): string {
  const m = r.machine;
  const zk = zkPerRange(r.e2e.filter((e) => e.ranges > 0));
  const out = [
    `**Latest run**: \`${r.command}\` on ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC (${f1(r.minutes)} min), ${m.cpuModel}, ${m.cores} cores, Node ${m.node}, Kafka, ZooKeeper, Redis and the S3 server on the same cores; 1-minute load average ${f1(m.loadStart)} at the start, ${f1(m.loadEnd ?? Number.NaN)} at the end. ${r.quick ? 'A quick run: smaller datasets, one run per configuration.' : 'Medians of 3 runs per configuration.'} All tables: [\`bench/results.md\`](bench/results.md).`,
    '',
    'End to end, from `POST /api/v1/topics` (backlog already in Kafka) to every partition committed; MB are 10^6 bytes of Kafka keys and values, CPU every thread of the worker processes per GB of them:',
    '',
    '| records | format / compression | workers × concurrency | MB/s | vs reader alone | vs slowest stage alone | CPU s per GB | peak RSS per worker |',
    '|---|---|---|---:|---:|---:|---:|---:|',
    ...r.e2e.map(
      (e) =>
        `| ${e.dataset} | ${e.config.format} / ${e.config.compression}${e.note ? ` (${e.note})` : ''} | ${lanesText(e.config.workers, e.config.concurrency)} | ${f0(e.mbps)} | ${Number.isFinite(e.xRaw) ? `${f2(e.xRaw)}×` : '–'} | ${e.stage ? x(e.stage.x, e.stage.name) : '–'} | ${f1(e.cpuSecondsPerGB)} | ${f0(e.peakRssMiB)} MiB (${f2(e.xMemoryBound)}× the formula) |`,
    ),
    '',
    '![end-to-end throughput by workers × concurrency and record size](bench/throughput.svg)',
    '',
  ];
  const zstd = peerRatios(r.peer, 'zstd');
  const gzip = peerRatios(r.peer, 'gzip');
  if (r.peer && (zstd || gzip)) {
    out.push(
      `Beside Benthos ${r.peer.benthosVersion} (${f0(r.peer.records)} records of ~1 KiB per batch shape; CPU s per GB of every process of each system, start-up included; Sluice's gzip at the cheapest level storing Benthos's ratio):`,
      '',
      '| batch shape | zstd: Sluice / Benthos | × | gzip: Sluice / Benthos | × |',
      '|---|---:|---:|---:|---:|',
      ...[...new Set(r.peer.rows.map((p) => p.shape))].map((shape) => {
        const z = zstd?.find((p) => p.shape === shape);
        const g = gzip?.find((p) => p.shape === shape);
        return `| ${shape} | ${z ? `${f1(z.sluiceCpu)} / ${f1(z.benthosCpu)}` : '–'} | ${z ? `${f2(z.x)}×` : '–'} | ${g ? `${f1(g.sluiceCpu)} (gzip ${g.level}) / ${f1(g.benthosCpu)}` : '–'} | ${g ? `${f2(g.x)}×` : '–'} |`;
      }),
      '',
    );
  }
  out.push(
    "Issue 14's aims, each computed from this run:",
    '',
    ...issue14Aims(r),
    '',
    "**At Pinterest's scale, on paper.**",
    ...pinterest(r, zk),
  );
  return out.join('\n');
}

/** `readme` with its generated benchmark summary replaced by `section`; throws when the markers are missing. */
export function spliceReadme(readme: string, section: string): string {
  const a = readme.indexOf(README_BEGIN);
  const b = readme.indexOf(README_END);
  if (a < 0 || b < a) throw new Error(`README.md lacks the ${README_BEGIN} … ${README_END} markers`);
  return `${readme.slice(0, a + README_BEGIN.length)}\n\n${section}\n\n${readme.slice(b)}`;
}
