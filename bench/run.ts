/**
 * `npm run bench`: Sluice's end-to-end throughput and scaling on the local stack, each figure
 * next to its baseline measured in the same run (see bench/README.md for what and why).
 *
 *   npm run bench                      full run (about 15-25 minutes on 2 shared cores)
 *   npm run bench -- --quick           smaller datasets, fewer configurations (about 6-8 minutes)
 *   npm run bench -- --only e2e,master sections: baselines, e2e, memory, master, leader-zk, idle, latency, peer
 *   npm run bench -- --quick --only e2e --rows "1KiB jsonl/zstd,parquet"   only the e2e rows named so
 *   npm run bench -- --keep-data       keep the Kafka topics for the next run (reused when intact)
 *   npm run bench -- --profile         one worker under load with --cpu-prof, hot spots printed
 *   npm run bench -- --profile --profile-shape 3   the same on the peer comparison's data of a batch
 *   npm run bench -- --quick --only idle --profile   the idle leader with --cpu-prof, its idle window's hot spots
 *   npm run bench -- --only idle --idle-topics 20 --idle-moving 500   2,000 idle partitions, then one topic moving
 *                                      shape (0-3, lib/peer.ts PEER_SHAPES), raw/zstd 1 × 2
 *   npm run bench -- --only peer --codecs zstd   the peer comparison with one compression
 *   npm run bench -- --out DIR         where results go (default bench/)
 *
 * Writes results.md, results.json and throughput.svg. Fails, naming the service, when the
 * local stack is not up (`npm run stack:up`). Everything it creates is named `bench-…` (topics,
 * bucket, ZooKeeper chroots, queue prefixes) and removed at the end.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import type { Compression, Format } from '@sluice/shared';
import { formatHeap, summariseHeap } from './heap-summary.ts';
import { type Baselines, type Lanes, laneKey, measureBaselines } from './lib/baselines.ts';
import { type Dataset, type DatasetSpec, deleteDataset, ensureDataset } from './lib/dataset.ts';
import { deletePrefix, type E2eConfig, runE2e } from './lib/e2e.ts';
import { measureIdleCost } from './lib/idle-cost.ts';
import { measureLatency } from './lib/latency.ts';
import type { LeaderZkInput, LeaderZkPoint } from './lib/leader-zk.ts';
import type { MasterScalePoint } from './lib/master-scale.ts';
import { mbps } from './lib/measurement.ts';
import { type MemoryRow, runMemory } from './lib/memory.ts';
import { PAYLOAD_SCHEMA } from './lib/payloads.ts';
import { PEER_SHAPES, PEER_TOPIC_FIELDS, type PeerResults, peerDatasetSpec, runPeer } from './lib/peer.ts';
import { loadAverage, machineInfo } from './lib/proc-stats.ts';
import {
  chart,
  deriveRow,
  type E2eRow,
  markdown,
  type Results,
  readmeSection,
  spliceReadme,
} from './lib/report.ts';
import { runChild } from './lib/spawn-child.ts';
import { benchEnv, preflight, REPO, s3Client } from './lib/stack.ts';
import { zkRoundTrip } from './lib/zk-round-trip.ts';
import { formatSummary, summarise } from './profile-summary.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    'keep-data': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'profile-shape': { type: 'string' },
    rows: { type: 'string' },
    codecs: { type: 'string' },
    'idle-topics': { type: 'string', default: '10' },
    'idle-moving': { type: 'string', default: '500' },
    out: { type: 'string', default: join(REPO, 'bench') },
  },
});

const quick = args.quick === true;
/** The idle section: topics of 100 partitions, and records a second into 10 partitions of one of them afterwards (0: none). */
const idleTopics = Number(args['idle-topics']);
const idleMoving = Number(args['idle-moving']);
const idleMovingOpts =
  idleMoving > 0
    ? { moving: { recordsPerSecond: idleMoving, partitions: 10, seconds: quick ? 20 : 60 } }
    : {};
const sections = new Set(
  (args.only ?? 'baselines,e2e,memory,master,leader-zk,idle,latency,peer').split(',').map((s) => s.trim()),
);
/**
 * `--rows "1KiB parquet,1KiB jsonl/zstd"`: only the end-to-end rows whose name
 * (`<dataset> <format>/<compression> <workers>x<concurrency>`) contains one of these, and only
 * their datasets: a change to one format is measured against its reference in minutes.
 */
const rowFilter = args.rows?.split(',').map((s) => s.trim());
/** `--codecs zstd`: the peer comparison with only these compressions (zstd, gzip). */
const peerCodecs = args.codecs?.split(',').map((s) => {
  const c = s.trim();
  if (c !== 'zstd' && c !== 'gzip')
    throw new Error(`--codecs: ${c} is not zstd or gzip (the peer comparison's two)`);
  return c;
});
const rowName = (label: string, c: E2eConfig) =>
  `${label} ${c.format}/${c.compression} ${c.workers}x${c.concurrency}`;
const runId = `bench-${Date.now().toString(36)}`;
const t0 = Date.now();
const log = (s: string) =>
  process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${s}\n`);

interface Plan {
  spec: DatasetSpec;
  matrix: Array<E2eConfig & { note?: string; rangeMessages?: number }>;
  /** The Avro and Parquet runs' `schema`. @defaultValue PAYLOAD_SCHEMA (inline columns) */
  schema?: Record<string, unknown>;
}

const run = (workers: number, concurrency: number, format: Format, compression: Compression) => ({
  workers,
  concurrency,
  format,
  compression,
});

/**
 * The matrix: every format and compression at the common shape (1 worker × 4), the
 * uncompressed paths at every shape (1 × 1, 1 × 4, 2 × 2: four ranges at once in one process
 * or in two), the compressed ones also across two workers, and one run with ranges as large
 * as whole partitions to show memory does not follow range size. Not the full cross product:
 * on 2 cores it would take hours and say little more.
 */
function plans(): Plan[] {
  if (rowFilter === undefined) return allPlans();
  return allPlans()
    .map((p) => ({
      ...p,
      matrix: p.matrix.filter((c) => rowFilter.some((f) => rowName(p.spec.label, c).includes(f))),
    }))
    .filter((p) => p.matrix.length > 0);
}

function allPlans(): Plan[] {
  const k = quick ? 0.25 : 1;
  const oneKiB: Plan = {
    spec: {
      label: '1KiB',
      topic: `bench-data-1kib-${quick ? 'q' : 'f'}`,
      partitions: 4,
      records: Math.round(1_000_000 * k),
      payloadBytes: 1024,
      rangeMessages: Math.round(40_000 * k),
    },
    matrix: quick
      ? [
          run(1, 1, 'jsonl', 'none'),
          run(1, 4, 'jsonl', 'none'),
          run(2, 2, 'jsonl', 'none'),
          run(1, 4, 'jsonl', 'zstd'),
          run(1, 4, 'jsonl', 'gzip'),
          run(1, 4, 'raw', 'none'),
          run(1, 4, 'parquet', 'zstd'),
        ]
      : [
          run(1, 1, 'jsonl', 'none'),
          run(1, 4, 'jsonl', 'none'),
          run(2, 2, 'jsonl', 'none'),
          run(1, 4, 'jsonl', 'zstd'),
          run(2, 2, 'jsonl', 'zstd'),
          run(1, 4, 'parquet', 'zstd'),
          run(1, 4, 'jsonl', 'gzip'),
          run(2, 2, 'jsonl', 'gzip'),
          run(1, 1, 'raw', 'none'),
          run(1, 4, 'raw', 'none'),
          run(2, 2, 'raw', 'none'),
          { ...run(1, 1, 'jsonl', 'none'), note: 'ranges of whole partitions', rangeMessages: 10_000_000 },
        ],
  };
  const hundred: Plan = {
    spec: {
      label: '100B',
      topic: `bench-data-100b-${quick ? 'q' : 'f'}`,
      partitions: 4,
      records: Math.round(6_000_000 * k),
      payloadBytes: 100,
      rangeMessages: Math.round(300_000 * k),
    },
    matrix: quick
      ? [run(1, 4, 'jsonl', 'none'), run(1, 4, 'raw', 'none')]
      : [
          run(1, 1, 'jsonl', 'none'),
          run(1, 4, 'jsonl', 'none'),
          run(2, 2, 'jsonl', 'none'),
          run(1, 4, 'jsonl', 'zstd'),
          run(1, 4, 'jsonl', 'gzip'),
          run(1, 4, 'raw', 'none'),
        ],
  };
  // The 1 KiB events again as Avro values of a registered schema (issue 13): Avro and Parquet
  // whose columns come from the registry, beside jsonl/zstd and parquet/inline above.
  const avro: Plan = {
    spec: {
      ...oneKiB.spec,
      label: '1KiB Avro',
      topic: `bench-data-1kib-avro-${quick ? 'q' : 'f'}`,
      encoding: 'avro',
    },
    schema: { source: 'registry' },
    matrix: [run(1, 4, 'avro', 'zstd'), run(1, 4, 'parquet', 'zstd')],
  };
  return [oneKiB, hundred, avro];
}

/**
 * Runs `fn` again when it fails, after the stack answers again (at most three tries): other
 * people's fault tests restart Kafka, ZooKeeper and Redis on this shared stack.
 */
async function retryOnce<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 3) throw err;
      log(
        `  run failed (${err instanceof Error ? err.message.slice(0, 200) : String(err)}); waiting for the stack, then again`,
      );
      const env = benchEnv();
      const deadline = Date.now() + 180_000;
      for (;;) {
        try {
          await preflight(env);
          break;
        } catch (down) {
          if (Date.now() > deadline) throw down;
          await new Promise((r) => setTimeout(r, 5_000));
        }
      }
      await new Promise((r) => setTimeout(r, 10_000));
    }
  }
}

async function profile(): Promise<void> {
  const env = benchEnv();
  await preflight(env);
  const s3 = s3Client(env);
  const bucket = runId;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const shape = args['profile-shape'] === undefined ? undefined : PEER_SHAPES[Number(args['profile-shape'])];
  if (args['profile-shape'] !== undefined && !shape)
    throw new Error(`--profile-shape takes 0 to ${PEER_SHAPES.length - 1} (lib/peer.ts PEER_SHAPES)`);
  const spec = shape ? peerDatasetSpec(shape, quick ? 60_000 : 200_000) : (allPlans()[1] as Plan).spec;
  const config = shape ? run(1, 2, 'raw', 'zstd') : run(1, 4, 'jsonl', 'none');
  const dataset = await ensureDataset(env, spec, log);
  const dir = join(env.scratchDir, 'profiles', runId);
  mkdirSync(dir, { recursive: true });
  try {
    log(
      `profiling one worker (${config.workers} × ${config.concurrency}, ${config.format} / ${config.compression}) on ${dataset.topic}`,
    );
    const r = await runE2e({
      env,
      s3,
      bucket,
      name: `${runId}-profile`,
      dataset,
      config,
      ...(shape ? { topicFields: PEER_TOPIC_FIELDS } : {}),
      workerNodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--heapsnapshot-signal=SIGUSR2'],
      workDir: dir,
      // One heap snapshot a few seconds into the run, under full load.
      onRunning: (pids) => {
        setTimeout(() => {
          for (const pid of pids) {
            try {
              process.kill(pid, 'SIGUSR2');
            } catch {
              // already done
            }
          }
        }, 3_000);
      },
      log,
    });
    log(`${(r.bytes / 1e6 / r.seconds).toFixed(0)} MB/s`);
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.heapsnapshot'))) {
      process.stdout.write(
        `${join(dir, f)}\n${formatHeap(summariseHeap(JSON.parse(readFileSync(join(dir, f), 'utf8')), 20))}\n`,
      );
    }
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.cpuprofile'))) {
      process.stdout.write(
        `${join(dir, f)}\n${formatSummary(summarise(JSON.parse(readFileSync(join(dir, f), 'utf8')), 30))}\n`,
      );
    }
  } finally {
    await deletePrefix(s3, bucket, '').catch(() => {});
    await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
    if (!args['keep-data']) await deleteDataset(env, dataset.topic).catch(() => {});
    s3.destroy();
  }
}

/** The idle leader's profile: where an idle master's CPU goes once it has started. */
async function profileIdle(): Promise<void> {
  const env = benchEnv();
  await preflight(env);
  const dir = join(env.scratchDir, 'profiles', runId);
  mkdirSync(dir, { recursive: true });
  const s3 = s3Client(env);
  await s3.send(new CreateBucketCommand({ Bucket: runId }));
  try {
    const c = await measureIdleCost({
      env,
      bucket: runId,
      name: `${runId}-idle`,
      topics: idleTopics,
      partitionsPerTopic: 100,
      settleSeconds: 10,
      windowSeconds: quick ? 20 : 60,
      masterNodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
      ...idleMovingOpts,
      log,
    });
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.cpuprofile'))) {
      const profile = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      const idleEnd = c.windowAfterSpawnMs + c.windowSeconds * 1000;
      process.stdout.write(
        `${join(dir, f)} (the idle window)\n${formatSummary(summarise(profile, 30, c.windowAfterSpawnMs, idleEnd))}\n`,
      );
      if (c.moving)
        process.stdout.write(
          `${join(dir, f)} (the window with data moving)\n${formatSummary(summarise(profile, 30, c.moving.windowAfterSpawnMs))}\n`,
        );
    }
  } finally {
    await deletePrefix(s3, runId, '').catch(() => {});
    await s3.send(new DeleteBucketCommand({ Bucket: runId })).catch(() => {});
    s3.destroy();
  }
}

async function main(): Promise<void> {
  const env = benchEnv();
  await preflight(env);
  const machine = machineInfo();
  log(`${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, load ${machine.loadStart}`);
  const s3 = s3Client(env);
  const bucket = runId;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const datasets: Dataset[] = [];
  const baselines: Record<string, Baselines> = {};
  const e2e: E2eRow[] = [];
  let masterPoints: MasterScalePoint[] = [];
  let zkRtt: Results['master']['zkRoundTrip'] = null;
  let latency: Results['latency'] = null;
  let failure: string | null = null;
  let leaderZk: Results['leaderZk'];
  let idle: Results['idle'];
  let startup: Results['startup'];
  let peer: PeerResults | null = null;
  let memory: MemoryRow[] | null = null;
  let n = 0;
  try {
    for (const plan of plans()) {
      if (!sections.has('baselines') && !sections.has('e2e')) break;
      const d = await ensureDataset(env, plan.spec, log);
      datasets.push(d);
      const lanes: Lanes[] = [];
      for (const c of plan.matrix) {
        const l = { processes: c.workers, parallel: c.concurrency };
        if (!lanes.some((x) => laneKey(x) === laneKey(l))) lanes.push(l);
      }
      log(`baselines of ${d.label}`);
      const b = await measureBaselines({
        env,
        dataset: d,
        runs: quick ? 1 : 3,
        lanes,
        bucket,
        sampleRecords: Math.round((quick ? 24e6 : 64e6) / d.meanValueBytes),
        s3Objects: quick ? 4 : 8,
        s3ObjectBytes: 32e6,
        compressRepeat: 1,
        log,
      });
      // The reader's exact byte count is the dataset's size from here on.
      const raw = Object.values(b.raw)[0];
      if (raw) d.bytes = raw.bytes;
      b.java.bytes = d.bytes;
      for (const j of b.javaRuns) j.bytes = d.bytes;
      baselines[d.label] = b;
      if (!sections.has('e2e')) continue;
      for (const c of plan.matrix) {
        const ds = c.rangeMessages ? { ...d, rangeMessages: c.rangeMessages } : d;
        log(
          `end to end ${d.label} ${c.format}/${c.compression} ${c.workers}×${c.concurrency}${c.note ? ` (${c.note})` : ''}`,
        );
        const rows: E2eRow[] = [];
        for (let i = 0; i < (quick ? 1 : 3); i++) {
          const r = await retryOnce(() =>
            runE2e({
              env,
              s3,
              bucket,
              name: `${runId}-${++n}`,
              dataset: ds,
              config: {
                workers: c.workers,
                concurrency: c.concurrency,
                format: c.format,
                compression: c.compression,
              },
              // Parquet columns from the events' own schema (lib/payloads.ts) or the registry's.
              ...(c.format === 'parquet' || c.format === 'avro'
                ? { topicFields: { schema: plan.schema ?? PAYLOAD_SCHEMA } }
                : {}),
              log,
            }),
          );
          const row = deriveRow(b, r, c.note);
          rows.push(row);
          log(
            `  ${row.mbps.toFixed(0)} MB/s (${row.xRaw.toFixed(2)}× reader, ${row.xJava.toFixed(2)}× Java), ${row.cpuSecondsPerGB.toFixed(2)} CPU s/GB, peak ${row.peakRssMiB.toFixed(0)} MiB`,
          );
        }
        // The median run stands for the configuration; the others' rates are kept beside it.
        const sorted = [...rows].sort((a, z) => a.mbps - z.mbps);
        const median = sorted[Math.floor((sorted.length - 1) / 2)] as E2eRow;
        e2e.push({ ...median, runsMbps: rows.map((r) => r.mbps) });
      }
    }
    if (sections.has('memory')) {
      logOpen('memory');
      log(
        'memory: peak RSS of one worker beside the formula, three formats, two range sizes, two record sizes',
      );
      const m = await retryOnce(() => runMemory({ env, s3, bucket, runId, quick, log }));
      memory = m.rows;
      if (!args['keep-data']) for (const d of m.datasets) await deleteDataset(env, d.topic).catch(() => {});
    }
    if (sections.has('master')) {
      logOpen('master');
      log('master: planning and tracking at scale');
      const many = await runChild<MasterScalePoint[]>(
        env.scratchDir,
        'master-scale',
        {
          partitions: quick ? [1_000, 5_000, 10_000] : [1_000, 2_500, 5_000, 10_000, 20_000],
          partitionsPerTopic: 100,
          passes: quick ? 3 : 5,
          warmupPasses: 2,
        },
        ['--expose-gc'],
      );
      const one = await runChild<MasterScalePoint[]>(
        env.scratchDir,
        'master-scale',
        { partitions: [10_000], partitionsPerTopic: 10_000, passes: 3, warmupPasses: 2 },
        ['--expose-gc'],
      );
      masterPoints = [...many, ...one];
      for (const p of masterPoints)
        log(
          `  ${p.partitions} partitions in ${p.topics} topics: ${p.passMs.toFixed(0)} ms per pass, ${p.heapMiB.toFixed(1)} MiB`,
        );
      zkRtt = await zkRoundTrip(env, `/${runId}-zk-rtt`);
      log(`  ZooKeeper round trip: get ${zkRtt.getMs.toFixed(2)} ms, multi ${zkRtt.multiMs.toFixed(2)} ms`);
    }
    if (sections.has('leader-zk')) {
      logOpen('leader-zk');
      log('leader: passes against the real ZooKeeper');
      const input: LeaderZkInput = {
        zookeeper: env.zookeeper,
        root: `/${runId}-leader`,
        // 50,000 takes under a minute: the quick run measures the aim too.
        partitions: [1_000, 10_000, 50_000],
        partitionsPerTopic: 100,
        changedShare: 0.05,
        planIntervalMs: 1_000,
        passes: quick ? 5 : 10,
        warmupPasses: 3,
        idlePasses: 3,
      };
      const points = await runChild<LeaderZkPoint[]>(env.scratchDir, 'leader-zk', input);
      leaderZk = { planIntervalMs: input.planIntervalMs, changedShare: input.changedShare, points };
      for (const p of points)
        log(
          `  ${p.partitions} partitions: pass p50 ${p.passMsP50.toFixed(0)} ms, p99 ${p.passMsP99.toFixed(0)} ms, leader ${p.leaderCpuPct.toFixed(1)} % of a core, ${p.zkRequestsPerPass} ZooKeeper requests per pass for ${p.changedPerPass} changed partitions (idle pass: ${p.idleZkRequestsPerPass})`,
        );
    }
    if (sections.has('idle')) {
      logOpen('idle');
      log('idle: start-up and idle CPU of the built master and worker');
      const c = await measureIdleCost({
        env,
        bucket,
        name: `${runId}-idle`,
        topics: idleTopics,
        partitionsPerTopic: 100,
        settleSeconds: 10,
        windowSeconds: quick ? 20 : 60,
        ...idleMovingOpts,
        log,
      });
      idle = {
        partitions: c.partitions,
        windowSeconds: c.windowSeconds,
        leaderCpuPct: c.leaderCpuPct,
        workerCpuPct: c.workerCpuPct,
        ...(c.moving ? { moving: c.moving } : {}),
      };
      startup = { masterCpuS: c.masterStartupCpuS, workerCpuS: c.workerStartupCpuS };
    }
    if (sections.has('latency')) {
      logOpen('latency');
      log('latency: produce to object visible, flushIntervalMs 5000');
      // A fresh topic per attempt: a broker slow to host a just-created topic fails the
      // producer's first sends (seen under load), and one retry must not meet the last one's data.
      let attempt = 0;
      latency = await retryOnce(() =>
        measureLatency({
          env,
          s3,
          bucket,
          name: `${runId}-latency${++attempt > 1 ? `-${attempt}` : ''}`,
          seconds: quick ? 25 : 60,
          recordsPerSecond: 200,
          flushIntervalMs: 5_000,
          log,
        }),
      );
      log(
        `  p50 ${(latency.p50Ms / 1000).toFixed(2)} s, p95 ${(latency.p95Ms / 1000).toFixed(2)} s, max ${(latency.maxMs / 1000).toFixed(2)} s`,
      );
    }
    if (sections.has('peer')) {
      logOpen('peer');
      log(`peer: Benthos and Sluice on the same data, four producer batch shapes`);
      peer = await retryOnce(() =>
        runPeer({
          env,
          s3,
          bucket,
          runId,
          quick,
          keepData: args['keep-data'] === true,
          ...(peerCodecs ? { codecs: peerCodecs } : {}),
          log,
        }),
      );
    }
  } catch (err) {
    // What was measured before a section failed is still written, with the failure named
    // (an hour of figures is not thrown away for one section); the run still exits 1.
    failure = err instanceof Error ? err.message : String(err);
    log(`a section failed: ${failure}; writing what was measured`);
  } finally {
    await deletePrefix(s3, bucket, '').catch(() => {});
    await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
    if (!args['keep-data']) for (const d of datasets) await deleteDataset(env, d.topic).catch(() => {});
    s3.destroy();
  }
  logOpen('the end of the sections');

  machine.loadEnd = loadAverage();
  const one = masterPoints.find((p) => p.topics === 1);
  const results: Results = {
    version: 1,
    quick,
    command: `npm run bench${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine,
    startedAt: new Date(t0).toISOString(),
    finishedAt: new Date().toISOString(),
    minutes: (Date.now() - t0) / 60_000,
    notes: [
      ...(failure
        ? [
            `**This run is incomplete**: a section failed (${failure}); the sections after it did not run, and their aims say "not measured".`,
          ]
        : []),
      'The machine is shared: other work may run on the same stack and cores (the load averages above say how much); absolute figures carry its noise, the ratios less so.',
      'Workers and the master run from source (`node --conditions=source`; the peer and idle sections run the built programs, as deployed), with default settings: 8 MiB fetches, 8 MiB parts, 2 parts in flight per object, hourly Kafka-time folders. The master plans every 250 ms for the throughput runs (so that planning latency does not dominate runs of a few seconds) and every 1,000 ms (default) for latency.',
      "Records were produced by Kafka's ProducerPerformance from a file of 20,000 distinct JSON log events, no keys, no producer compression.",
      'Baselines and end-to-end figures are the median of the runs made (3 in a full run, 1 with --quick); MB/s shows the range of the runs in brackets.',
      ...(one
        ? [
            `Master: the last row is one topic of ${one.partitions.toLocaleString('en-US')} partitions (the quadratic case fixed in this work).`,
          ]
        : []),
    ],
    datasets,
    baselines,
    e2e,
    master: { points: masterPoints, zkRoundTrip: zkRtt },
    latency,
    ...(leaderZk ? { leaderZk } : {}),
    ...(idle ? { idle } : {}),
    ...(startup ? { startup } : {}),
    peer,
    memory,
  };
  const out = String(args.out);
  mkdirSync(out, { recursive: true }); // --out may name a folder that does not exist yet
  writeFileSync(
    join(out, 'results.json'),
    `${JSON.stringify(results, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`,
  );
  writeFileSync(join(out, 'results.md'), markdown(results));
  if (e2e.length > 0) writeFileSync(join(out, 'throughput.svg'), chart(results));
  log(`wrote ${join(out, 'results.md')}, results.json${e2e.length > 0 ? ', throughput.svg' : ''}`);
  // A whole run into bench/ also rewrites the README's summary (bench/readme.ts does it alone).
  if (
    !failure &&
    args.only === undefined &&
    rowFilter === undefined &&
    peerCodecs === undefined &&
    out === join(REPO, 'bench')
  ) {
    const readme = join(REPO, 'README.md');
    writeFileSync(readme, spliceReadme(readFileSync(readme, 'utf8'), readmeSection(results)));
    log(`wrote the benchmark summary of ${readme}`);
  }
  for (const d of datasets) {
    const b = baselines[d.label];
    if (b) log(`${d.label}: Java consumer ${mbps(b.java).toFixed(0)} MB/s`);
  }
  if (failure) throw new Error(failure);
}

/**
 * What is open before a section (handles and requests that keep Node running), in the log: a
 * whole run has ended with a Kafka socket and two timers open that no section run alone
 * leaves, and the section before the count grows is the one to look at.
 */
function logOpen(before: string): void {
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1);
  const open = [...counts].map(([r, n]) => `${r} × ${n}`).join(', ');
  log(`  open before ${before}: ${open || 'nothing'}`);
}

try {
  if (args.profile) await (args.only === 'idle' ? profileIdle() : profile());
  else await main();
  // Done: results are written. A client library that leaves a socket open (the whole run of
  // 2026-12-07 22:07 kept one Kafka connection and never exited) must not hold the shell.
  setTimeout(() => {
    log(`done; still open: ${process.getActiveResourcesInfo().join(', ')}; exiting`);
    process.exit(0);
  }, 10_000).unref();
} catch (err) {
  process.stderr.write(`\nbenchmark failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
