/**
 * What Sluice costs when nothing moves: the CPU seconds a master and a worker spend starting
 * (from spawn to ready, `/proc/<pid>/stat`), then the share of a core each uses over a window
 * while idle, the master leading with 1,000 partitions registered (10 topics × 100, no
 * records) and the worker polling for jobs. Both run from the built `dist` as installed, with
 * default settings.
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
  log: (s: string) => void;
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
          body: JSON.stringify({ topic, destination: { bucket: o.bucket, prefix: o.name } }),
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
    return result;
  } finally {
    await cluster.stop().catch(() => {});
    await cluster.clean().catch(() => {});
    await admin.deleteTopics({ topics }).catch(() => {});
    await admin.disconnect();
  }
}
