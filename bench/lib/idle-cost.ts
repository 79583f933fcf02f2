/**
 * What Sluice costs when nothing moves: the CPU seconds a master and a worker spend starting
 * (from spawn to ready, `/proc/<pid>/stat`), then the share of a core each uses over a window
 * while idle, the master leading with 1,000 partitions registered (10 topics × 100, no
 * records) and the worker polling for jobs. Both run from the built `dist` as installed, with
 * default settings. With `moving`, a second window follows in which one topic's first
 * partitions receive a steady stream (that topic registered with a 5 s flush interval): the
 * leader's CPU while data moves beside the idle partitions.
 */
import { Kafka, logLevel } from 'kafkajs';
import { BenchCluster } from './cluster.ts';
import { cpuSeconds } from './proc-stats.ts';
import type { BenchEnv } from './stack.ts';

export interface IdleCostOptions {
  env: BenchEnv;
  bucket: string;
  name: string;
  topics: number;
  partitionsPerTopic: number;
  /** Wait after registration before the window, for the first passes to settle. */
  settleSeconds: number;
  windowSeconds: number;
  /** Extra node flags for the master (`--cpu-prof` for `npm run bench -- --only idle --profile`). */
  masterNodeFlags?: string[];
  /** A window with data moving after the idle one: records a second into `partitions` partitions of the first topic. */
  moving?: { recordsPerSecond: number; partitions: number; seconds: number };
  log: (s: string) => void;
}

export interface MovingCost {
  recordsPerSecond: number;
  partitions: number;
  windowSeconds: number;
  /** Records committed in the window (the leader's work: ranges planned and committed). */
  committedRecords: number;
  /** % of one core over the window. */
  leaderCpuPct: number;
  workerCpuPct: number;
  /** Milliseconds from the master's spawn to the window. */
  windowAfterSpawnMs: number;
}

export interface IdleCost {
  partitions: number;
  windowSeconds: number;
  /** CPU seconds from spawn to ready (master: /healthz; worker: /readyz). */
  masterStartupCpuS: number;
  workerStartupCpuS: number;
  /** % of one core over the idle window. */
  leaderCpuPct: number;
  workerCpuPct: number;
  /** Milliseconds from the master's spawn to the idle window (to cut start-up out of a profile). */
  windowAfterSpawnMs: number;
  moving?: MovingCost;
}

export async function measureIdleCost(o: IdleCostOptions): Promise<IdleCost> {
  const kafka = new Kafka({ clientId: 'sluice-bench', brokers: o.env.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const topics = Array.from({ length: o.topics }, (_, i) => `${o.name}-idle-${i}`);
  const cluster = new BenchCluster(o.env, o.name, {
    fromDist: true,
    ...(o.masterNodeFlags ? { masterNodeFlags: o.masterNodeFlags } : {}),
  });
  try {
    await admin.createTopics({
      topics: topics.map((topic) => ({ topic, numPartitions: o.partitionsPerTopic, replicationFactor: 1 })),
      waitForLeaders: true,
    });
    const spawnedAt = performance.now();
    const master = await cluster.startMaster();
    const masterStartupCpuS = cpuSeconds(master.pid);
    const worker = await cluster.startWorker();
    const workerStartupCpuS = cpuSeconds(worker.pid);
    for (const topic of topics) {
      // A topic just created may still be electing its partitions' leaders (a 503): try again.
      for (let attempt = 1; ; attempt++) {
        const res = await fetch(`${master.url}/api/v1/topics`, {
          method: 'POST',
          headers: { authorization: `Bearer ${cluster.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            topic,
            destination: { bucket: o.bucket, prefix: o.name },
            ...(o.moving && topic === topics[0] ? { flushIntervalMs: 5_000 } : {}),
          }),
        });
        if (res.status === 201) break;
        if (res.status !== 503 || attempt === 10)
          throw new Error(`registration answered ${res.status}: ${await res.text()}`);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
    await new Promise((r) => setTimeout(r, o.settleSeconds * 1000));
    const m0 = cpuSeconds(master.pid);
    const w0 = cpuSeconds(worker.pid);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, o.windowSeconds * 1000));
    const s = (performance.now() - t0) / 1000;
    const result: IdleCost = {
      partitions: o.topics * o.partitionsPerTopic,
      windowSeconds: s,
      masterStartupCpuS,
      workerStartupCpuS,
      leaderCpuPct: ((cpuSeconds(master.pid) - m0) / s) * 100,
      workerCpuPct: ((cpuSeconds(worker.pid) - w0) / s) * 100,
      windowAfterSpawnMs: t0 - spawnedAt,
    };
    o.log(
      `  start-up: master ${masterStartupCpuS.toFixed(2)} CPU s, worker ${workerStartupCpuS.toFixed(2)} CPU s; idle with ${result.partitions} partitions: leader ${result.leaderCpuPct.toFixed(2)} % of a core, worker ${result.workerCpuPct.toFixed(2)} %`,
    );
    if (o.moving) {
      result.moving = await moveData(o, kafka, topics[0]!, master, worker, cluster.token, spawnedAt);
      const m = result.moving;
      o.log(
        `  ${m.recordsPerSecond} records/s into ${m.partitions} partitions of one topic: leader ${m.leaderCpuPct.toFixed(2)} % of a core, worker ${m.workerCpuPct.toFixed(2)} %, ${m.committedRecords} records committed in ${m.windowSeconds.toFixed(0)} s`,
      );
    }
    return result;
  } finally {
    await cluster.stop().catch(() => {});
    await cluster.clean().catch(() => {});
    await admin.deleteTopics({ topics }).catch(() => {});
    await admin.disconnect();
  }
}

/** Committed records of `topic` as the master's status shows them. */
async function committedRecords(url: string, token: string, topic: string): Promise<number> {
  const res = await fetch(`${url}/api/v1/status`, { headers: { authorization: `Bearer ${token}` } });
  const status = (await res.json()) as { topics: Array<{ topic: string; committedRecords: number }> };
  return status.topics.find((t) => t.topic === topic)?.committedRecords ?? 0;
}

/**
 * The moving window: a producer sends every 100 ms, round the first partitions, while CPU is
 * counted (after one flush interval of data, so that ranges are planned and committed in it).
 */
async function moveData(
  o: IdleCostOptions,
  kafka: Kafka,
  topic: string,
  master: { pid: number; url: string },
  worker: { pid: number },
  token: string,
  spawnedAt: number,
): Promise<MovingCost> {
  const m = o.moving!;
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const perTick = Math.max(1, Math.round(m.recordsPerSecond / 10));
    let seq = 0;
    const sendFor = async (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until) {
        const t = performance.now();
        await producer.send({
          topic,
          messages: Array.from({ length: perTick }, () => ({
            partition: seq % m.partitions,
            value: JSON.stringify({ seq: seq++, at: new Date().toISOString(), msg: 'x'.repeat(200) }),
          })),
        });
        await new Promise((r) => setTimeout(r, Math.max(0, 100 - (performance.now() - t))));
      }
    };
    await sendFor(6_000);
    const c0 = await committedRecords(master.url, token, topic);
    const m0 = cpuSeconds(master.pid);
    const w0 = cpuSeconds(worker.pid);
    const t0 = performance.now();
    await sendFor(m.seconds * 1000);
    const s = (performance.now() - t0) / 1000;
    const leaderCpuPct = ((cpuSeconds(master.pid) - m0) / s) * 100;
    const workerCpuPct = ((cpuSeconds(worker.pid) - w0) / s) * 100;
    return {
      recordsPerSecond: m.recordsPerSecond,
      partitions: m.partitions,
      windowSeconds: s,
      committedRecords: (await committedRecords(master.url, token, topic)) - c0,
      leaderCpuPct,
      workerCpuPct,
      windowAfterSpawnMs: t0 - spawnedAt,
    };
  } finally {
    await producer.disconnect().catch(() => {});
  }
}
