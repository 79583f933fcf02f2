/**
 * The leader's planning and tracking at 1,000 to 20,000 partitions, with the master's own
 * classes (PlanningLoop, Tracker, PartitionCache, RangeEnqueuer, FencedWriter, MasterMetrics)
 * over an in-memory ZooKeeper (`FakeZk` of @sluice/test-kit), a Kafka whose offsets grow by one full range per
 * partition per pass, and a queue that only counts. Between passes every planned range is
 * marked done, as workers would, so each pass commits one range and plans one per partition:
 * the steady state of a busy installation. Measured: time per pass, heap held by the master's
 * objects, and the ZooKeeper calls of one pass.
 */
import {
  createLogger,
  encodeJson,
  type KafkaAdmin,
  LEADER_PATH,
  type PartitionOffsets,
  type RangeRecord,
  type RangeResult,
  TOPICS_PATH,
  type TopicMetadata,
  type TopicRecord,
  topicPath,
} from '@sluice/shared';
import { FakeZk, offsetsTopicByTopic } from '@sluice/test-kit';
import { FencedWriter } from '../../packages/master/src/leadership/fenced-writer.ts';
import { PartitionCache } from '../../packages/master/src/ranges/partition-cache.ts';
import { PlanningLoop, readTopics } from '../../packages/master/src/ranges/planning-loop.ts';
import { RangeEnqueuer, type RangeQueue } from '../../packages/master/src/ranges/range-enqueuer.ts';
import { Tracker } from '../../packages/master/src/ranges/tracker.ts';
import { MasterMetrics } from '../../packages/master/src/status/metrics.ts';
import { median } from './measurement.ts';

export interface MasterScaleInput {
  /** Total partitions of each measured point. */
  partitions: number[];
  partitionsPerTopic: number;
  passes: number;
  warmupPasses: number;
}

export interface MasterScalePoint {
  partitions: number;
  topics: number;
  /** Median ms of one pass (read topics, track, plan) in steady state. */
  passMs: number;
  passMsPerPartition: number;
  /** Heap held by the master's objects (cache, enqueuer, metrics), MiB. */
  heapMiB: number;
  heapKiBPerPartition: number;
  /** ZooKeeper calls of one steady pass, by kind. */
  zkPerPass: Record<string, number>;
  rangesPerPass: number;
  enqueuesPerPass: number;
}

const RANGE = 1000n;

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('master-scale needs node --expose-gc');
  g();
  g();
}

export function topicRecord(name: string): TopicRecord {
  const now = new Date().toISOString();
  return {
    topic: name,
    destination: { bucket: 'bench', prefix: 'scale' },
    format: 'jsonl',
    compression: 'zstd',
    partitionBy: { kind: 'kafka-time', granularity: 'hour' },
    serverSideEncryption: 'none',
    kmsKeyId: '',
    storageClass: 'STANDARD',
    maxRangeMessages: Number(RANGE),
    maxRangeBytes: 256 * 1024 * 1024,
    flushIntervalMs: 600_000,
    startFrom: 'earliest',
    topicId: `00000000-0000-0000-0000-${name.slice(-12).padStart(12, '0')}`,
    paused: false,
    state: 'active',
    error: null,
    createdAt: now,
    updatedAt: now,
  };
}

export function doneResult(r: RangeRecord): RangeResult {
  const n = Number(BigInt(r.end) - BigInt(r.start));
  return {
    attempt: r.attempt,
    worker: 'bench-worker',
    records: n,
    rawBytes: n * 1100,
    objectBytes: n * 200,
    objects: [
      {
        key: `scale/${r.topic}/dt=2026-11-25/hr=08/${r.topic}-${r.partition}-${r.start.padStart(20, '0')}-${r.end.padStart(20, '0')}.jsonl.zst`,
        records: n,
        bytes: n * 200,
        rawBytes: n * 1100,
        sha256: '0'.repeat(64),
        firstOffset: r.start,
        lastOffset: String(BigInt(r.end) - 1n),
        minTimestamp: 1_764_057_600_000,
        maxTimestamp: 1_764_057_600_000 + n,
      },
    ],
    minTimestamp: 1_764_057_600_000,
    maxTimestamp: 1_764_057_600_000 + n,
    gaps: [],
    eventTimeFallbacks: 0,
    tombstones: 0,
    binaryValues: 0,
    completedAt: new Date().toISOString(),
  };
}

async function point(
  total: number,
  perTopic: number,
  passes: number,
  warmup: number,
): Promise<MasterScalePoint> {
  gc();
  const h0 = process.memoryUsage().heapUsed;
  const zk = new FakeZk();
  const zkSession = zk.session();
  zk.put(
    LEADER_PATH,
    encodeJson({ v: 1, id: 'bench', host: 'bench', httpAddress: 'http://bench', since: '' }),
  );
  zk.put(TOPICS_PATH);
  const topics: string[] = [];
  for (let t = 0; t * perTopic < total; t++) {
    const name = `bench-scale-${String(t).padStart(5, '0')}`;
    topics.push(name);
    zk.put(topicPath(name), encodeJson(topicRecord(name)));
  }
  const partitionsOf = (t: number) => Math.min(perTopic, total - t * perTopic);
  let lastStable = RANGE;
  const kafka: KafkaAdmin = {
    async topicMetadata(names: string[]) {
      const out = new Map<string, TopicMetadata | null>();
      for (const n of names) {
        const t = topics.indexOf(n);
        out.set(n, {
          topic: n,
          topicId: topicRecord(n).topicId,
          partitions: Array.from({ length: partitionsOf(t) }, (_, i) => i),
        });
      }
      return out;
    },
    async offsets(_topic: string, partitions: number[]): Promise<PartitionOffsets[]> {
      return partitions.map((partition) => ({ partition, earliest: 0n, latest: lastStable, lastStable }));
    },
    topicOffsets(names: string[]) {
      return offsetsTopicByTopic(this, names);
    },
    // Registration-time reads (startFrom's object forms): the benchmark registers no topic.
    offsetsAtTime: () => Promise.reject(new Error('not used by the benchmark')),
    consumerGroup: () => Promise.reject(new Error('not used by the benchmark')),
    async close() {},
  };
  let enqueues = 0;
  const queue: RangeQueue = {
    async add() {
      enqueues++;
    },
    async getJob() {
      return null;
    },
    async remove() {
      return 1;
    },
  };
  const log = createLogger('bench-master-scale', 'silent');
  const master: {
    planning: PlanningLoop;
    tracker: Tracker;
    cache: PartitionCache;
    metrics: MasterMetrics;
  } = (() => {
    const writer = new FencedWriter(zkSession, 0, () => {});
    const cache = new PartitionCache();
    const metrics = new MasterMetrics({ defaultMetrics: false });
    const enqueuer = new RangeEnqueuer(queue, (t) => cache.inFlight(t), log);
    return {
      cache,
      metrics,
      tracker: new Tracker({ writer, cache, log, metrics }),
      planning: new PlanningLoop({
        writer,
        cache,
        kafka,
        enqueuer,
        maxInFlightPerPartition: 4,
        log,
        metrics,
      }),
    };
  })();

  const finishPlanned = () => {
    for (const [path, node] of zk.below(`${TOPICS_PATH}/`)) {
      if (!/\/\d{20}-\d{20}$/.test(path)) continue;
      const r = JSON.parse(node.data.toString()) as RangeRecord;
      if (r.state === 'done') continue;
      zk.overwrite(path, encodeJson({ ...r, state: 'done', result: doneResult(r) }));
    }
  };

  const times: number[] = [];
  let zkPerPass: Record<string, number> = {};
  let ranges = 0;
  let enq = 0;
  for (let pass = 0; pass < warmup + passes; pass++) {
    zk.resetCounts();
    const before = enqueues;
    const t0 = performance.now();
    const registered = await readTopics(zkSession);
    await master.planning.syncTopics(registered);
    await master.tracker.pass();
    await master.planning.pass(registered);
    const ms = performance.now() - t0;
    if (pass >= warmup) {
      times.push(ms);
      zkPerPass = { ...zk.counts };
      enq = enqueues - before;
      ranges = zk.counts['multi.ops'] ?? 0;
    }
    finishPlanned();
    lastStable += RANGE;
  }
  // The master's heap: everything since the start, less what the in-memory ZooKeeper holds
  // (measured by building a copy of it).
  await new Promise((r) => setImmediate(r));
  gc();
  const h1 = process.memoryUsage().heapUsed;
  const h2 = process.memoryUsage().heapUsed;
  const copy = zk.clone();
  gc();
  const zkHeap = process.memoryUsage().heapUsed - h2;
  if (copy.size !== zk.size) throw new Error('fake ZooKeeper copy differs');
  const heap = (h1 - h0 - zkHeap) / 1024 / 1024;
  const passMs = median(times);
  return {
    partitions: total,
    topics: topics.length,
    passMs,
    passMsPerPartition: passMs / total,
    heapMiB: heap,
    heapKiBPerPartition: (heap * 1024) / total,
    zkPerPass,
    rangesPerPass: ranges,
    enqueuesPerPass: enq,
  };
}

export async function masterScale(input: MasterScaleInput): Promise<MasterScalePoint[]> {
  const out: MasterScalePoint[] = [];
  for (const n of input.partitions)
    out.push(await point(n, input.partitionsPerTopic, input.passes, input.warmupPasses));
  return out;
}
