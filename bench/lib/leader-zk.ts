/**
 * The leader at 1,000 to 50,000 partitions against the REAL ZooKeeper of the local stack,
 * where master-scale.ts uses an in-memory one: what a planning pass costs when every request
 * is a round trip. The leader's own classes (PlanningLoop, Tracker, PartitionCache,
 * RangeEnqueuer, FencedWriter, the topic and range watches) run on this thread; a Kafka whose
 * high watermarks move by one full range for a share of the partitions each pass (5 % by
 * default), and workers on a thread of their own (leader-zk-workers.ts) that mark every
 * enqueued range done in ZooKeeper between passes. Passes start every plan interval, as the
 * leader's timer would. Measured per point: pass wall time (p50, p99), the leader thread's
 * CPU over the steady passes (`process.threadCpuUsage`), and the ZooKeeper requests of a pass
 * by kind, with the partitions that changed in it; then the same with nothing changing.
 *
 * Everything goes under a chroot `/bench-leaderzk-…` removed at the end.
 */
import { Worker } from 'node:worker_threads';
import {
  createLogger,
  encodeJson,
  type KafkaAdmin,
  LEADER_PATH,
  mapLimit,
  type PartitionOffsets,
  rangeJobNodePath,
  TOPICS_PATH,
  type TopicMetadata,
  topicPath,
  ZkSession,
} from '@sluice/shared';
import { offsetsTopicByTopic } from '@sluice/test-kit';
import { LeaderPasses } from '../../packages/master/src/leadership/leader-passes.ts';
import type { RangeQueue } from '../../packages/master/src/ranges/range-enqueuer.ts';
import { topicRecord } from './master-scale.ts';

export interface LeaderZkInput {
  /** host:port of the ZooKeeper to use (no chroot). */
  zookeeper: string;
  root: string;
  partitions: number[];
  partitionsPerTopic: number;
  /** Share of the partitions whose high watermark moves by a full range each pass. */
  changedShare: number;
  planIntervalMs: number;
  passes: number;
  warmupPasses: number;
  idlePasses: number;
}

export interface LeaderZkPoint {
  partitions: number;
  topics: number;
  changedPerPass: number;
  passMsP50: number;
  passMsP99: number;
  /** The leader thread's CPU over the steady passes, % of one core. */
  leaderCpuPct: number;
  /** ZooKeeper requests of one steady pass (mean), by kind, and in all. */
  zkPerPass: Record<string, number>;
  zkRequestsPerPass: number;
  /** With no high watermark moving and nothing in flight. */
  idlePassMsP50: number;
  idleZkRequestsPerPass: number;
}

const RANGE = 1000n;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? 0;
}

/** The session with every call counted by kind (multis also by op), for the requests of a pass. */
function counted(zk: ZkSession, counts: Record<string, number>): ZkSession {
  const kinds = new Set(['get', 'set', 'create', 'remove', 'exists', 'children', 'mkdirp', 'multi']);
  return new Proxy(zk, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      if (typeof prop !== 'string' || !kinds.has(prop)) return v.bind(target);
      return (...args: unknown[]) => {
        counts[prop] = (counts[prop] ?? 0) + 1;
        if (prop === 'multi')
          counts['multi.ops'] = (counts['multi.ops'] ?? 0) + (args[0] as unknown[]).length;
        return v.apply(target, args);
      };
    },
  });
}

/** Removes a tree with pipelined requests (children first); the chroot of a 50,000-partition point holds ~60,000 nodes. */
async function removeTree(zk: ZkSession, path: string): Promise<void> {
  const kids = await zk.children(path);
  await mapLimit(kids, 64, (c) => removeTree(zk, `${path === '/' ? '' : path}/${c}`));
  await zk.remove(path).catch(() => {});
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

async function point(input: LeaderZkInput, total: number): Promise<LeaderZkPoint> {
  const root = `${input.root}-${total}`;
  const connect = `${input.zookeeper}${root}`;
  const setup = await ZkSession.open({ connect, sessionTimeoutMs: 30_000 });
  const perTopic = input.partitionsPerTopic;
  const topics: string[] = [];
  for (let t = 0; t * perTopic < total; t++) topics.push(`bench-lzk-${String(t).padStart(5, '0')}`);
  await setup.mkdirp(TOPICS_PATH);
  await setup.create(
    LEADER_PATH,
    encodeJson({ v: 1, id: 'bench', host: 'bench', httpAddress: '', since: '' }),
  );
  await mapLimit(topics, 64, (name) => setup.create(topicPath(name), encodeJson(topicRecord(name))));
  const partitionsOf = (t: number) => Math.min(perTopic, total - t * perTopic);

  // Kafka: every partition's high watermark, moved by a full range for a rotating window.
  const lastStable = new Map<string, bigint[]>(
    topics.map((n, t) => [n, Array.from({ length: partitionsOf(t) }, () => 0n)]),
  );
  const all = topics.flatMap((n, t) => Array.from({ length: partitionsOf(t) }, (_, p) => [n, p] as const));
  const changedPerPass = Math.round(total * input.changedShare);
  let cursor = 0;
  const moveWatermarks = (n: number) => {
    for (let i = 0; i < n; i++) {
      const [topic, p] = all[cursor++ % all.length]!;
      const ls = lastStable.get(topic)!;
      ls[p] = ls[p]! + RANGE;
    }
  };
  const kafka: KafkaAdmin = {
    async topicMetadata(names: string[]) {
      const out = new Map<string, TopicMetadata | null>();
      for (const n of names) {
        out.set(n, {
          topic: n,
          topicId: topicRecord(n).topicId,
          partitions: Array.from({ length: lastStable.get(n)?.length ?? 0 }, (_, i) => i),
        });
      }
      return out;
    },
    async offsets(topic: string, partitions: number[]): Promise<PartitionOffsets[]> {
      const ls = lastStable.get(topic)!;
      return partitions.map((partition) => ({
        partition,
        earliest: 0n,
        latest: ls[partition]!,
        lastStable: ls[partition]!,
      }));
    },
    topicOffsets(names: string[]) {
      return offsetsTopicByTopic(this, names);
    },
    offsetsAtTime: () => Promise.reject(new Error('not used by the benchmark')),
    consumerGroup: () => Promise.reject(new Error('not used by the benchmark')),
    async close() {},
  };
  let enqueued: string[] = [];
  const queue: RangeQueue = {
    async add(_name, data) {
      enqueued.push(rangeJobNodePath(data));
    },
    async getJob() {
      return null;
    },
    async remove() {
      return 1;
    },
  };

  const workers = new Worker(new URL('./leader-zk-workers.ts', import.meta.url), { workerData: { connect } });
  const fromWorkers = () =>
    new Promise<unknown>((resolve, reject) => {
      workers.once('message', resolve);
      workers.once('error', reject);
    });
  await fromWorkers(); // ready

  const counts: Record<string, number> = {};
  const raw = await ZkSession.open({ connect, sessionTimeoutMs: 30_000 });
  const zk = counted(raw, counts);
  const leaderVersion = (await raw.get(LEADER_PATH))!.version;
  const log = createLogger('bench-leader-zk', 'silent');
  const leader = new LeaderPasses({
    zk,
    epoch: leaderVersion,
    onFenced: () => {},
    kafka,
    queue,
    log,
    maxInFlightPerPartition: 4,
  });
  try {
    const passMs: number[] = [];
    const idleMs: number[] = [];
    const steady: Record<string, number> = {};
    let idleRequests = 0;
    let cpuUs = 0;
    let wallMs = 0;
    const reset = () => {
      for (const k of Object.keys(counts)) delete counts[k];
    };
    const steps = input.warmupPasses + input.passes + input.idlePasses;
    // The first pass registers every partition (one multi per topic), then the steady state.
    for (let i = 0; i < steps; i++) {
      const idle = i >= input.warmupPasses + input.passes;
      const measured = i >= input.warmupPasses && !idle;
      if (!idle) moveWatermarks(changedPerPass);
      reset();
      const start = performance.now();
      const cpu0 = process.threadCpuUsage();
      await leader.tick();
      const ms = performance.now() - start;
      // Workers finish what was enqueued, then the next pass starts on the plan interval.
      const paths = enqueued;
      enqueued = [];
      const finished = fromWorkers();
      workers.postMessage({ paths });
      await finished;
      await sleep(input.planIntervalMs - (performance.now() - start));
      const cpu = process.threadCpuUsage(cpu0);
      if (measured) {
        passMs.push(ms);
        cpuUs += cpu.user + cpu.system;
        wallMs += performance.now() - start;
        for (const [k, v] of Object.entries(counts)) steady[k] = (steady[k] ?? 0) + v / input.passes;
      } else if (idle && i > input.warmupPasses + input.passes) {
        // the first pass without new data still commits the previous pass's ranges
        idleMs.push(ms);
        idleRequests += Object.values(counts).reduce((a, b) => a + b, 0) - (counts['multi.ops'] ?? 0);
      }
    }
    const requests = Object.entries(steady)
      .filter(([k]) => k !== 'multi.ops')
      .reduce((a, [, v]) => a + v, 0);
    return {
      partitions: total,
      topics: topics.length,
      changedPerPass,
      passMsP50: percentile(passMs, 50),
      passMsP99: percentile(passMs, 99),
      leaderCpuPct: (cpuUs / 1000 / wallMs) * 100,
      zkPerPass: Object.fromEntries(Object.entries(steady).map(([k, v]) => [k, Math.round(v)])),
      zkRequestsPerPass: Math.round(requests),
      idlePassMsP50: percentile(idleMs, 50),
      idleZkRequestsPerPass: Math.round(idleRequests / Math.max(1, idleMs.length)),
    };
  } finally {
    leader.stop();
    const closed = fromWorkers();
    workers.postMessage('close');
    await closed;
    await workers.terminate();
    await raw.close();
    await setup.close();
    const base = await ZkSession.open({ connect: input.zookeeper, sessionTimeoutMs: 30_000 });
    await removeTree(base, root);
    await base.close();
  }
}

export async function leaderZk(input: LeaderZkInput): Promise<LeaderZkPoint[]> {
  const out: LeaderZkPoint[] = [];
  for (const n of input.partitions) out.push(await point(input, n));
  return out;
}
