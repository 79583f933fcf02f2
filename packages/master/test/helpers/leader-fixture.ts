/**
 * A leader term on the test kit's ZooKeeper (in memory unless SLUICE_TEST_ZOOKEEPER=stack)
 * with Kafka and the queue stood in for, driven pass by pass by the test (its timers are set
 * far apart).
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { loadMasterConfig, outputSpecOf, type RangeJobData, TOPIC_DEFAULTS } from '@sluice/shared';
import { FakeKafka, testLogger, topicRecord, zkFixture } from '@sluice/test-kit';
import { LeaderElection } from '../../src/leadership/leader-election.ts';
import { LeaderTerm } from '../../src/leadership/leader-term.ts';
import type { RangeJobOptions, RangeQueue } from '../../src/ranges/range-enqueuer.ts';
import type { ReplayRecord } from '../../src/replays/replay-record.ts';
import { MasterMetrics } from '../../src/status/metrics.ts';

const log = testLogger();

export class FakeQueue implements RangeQueue {
  readonly jobs = new Map<string, { name: string; data: RangeJobData; opts: RangeJobOptions }>();
  async add(name: string, data: RangeJobData, opts: RangeJobOptions): Promise<unknown> {
    if (!this.jobs.has(opts.jobId)) this.jobs.set(opts.jobId, { name, data, opts });
    return {};
  }
  /** The job, which can be removed as BullMQ's can (`remove`). */
  async getJob(id: string): Promise<unknown> {
    const job = this.jobs.get(id);
    return job ? { ...job, remove: async () => void this.jobs.delete(id) } : undefined;
  }
  async remove(id: string): Promise<number> {
    this.jobs.delete(id);
    return 1;
  }
}

/** A running replay of `clicks` (as `topicRecord('clicks')`) over offsets [50, 350) of partition 0. */
export function replayRecord(id: string): ReplayRecord {
  const topic = topicRecord('clicks');
  const now = new Date().toISOString();
  return {
    v: 1,
    id,
    topic: 'clicks',
    topicId: 'id-1',
    output: { ...outputSpecOf(topic), destination: { bucket: 'bucket-a', prefix: 'replays' } },
    maxRangeMessages: 100,
    maxRangeBytes: TOPIC_DEFAULTS.maxRangeBytes,
    window: { partition: null, fromOffset: '50', toOffset: '350', fromTimestamp: null, toTimestamp: null },
    partitions: [{ partition: 0, start: '50', end: '350' }],
    notes: [],
    state: 'running',
    error: null,
    createdAt: now,
    updatedAt: now,
    finishedAt: null,
  };
}

/** A ZooKeeper fixture whose session has won the leader election (epoch set). */
export async function electedLeader(t: TestContext, name: string) {
  const zk = await zkFixture(t, name);
  const s = await zk.session();
  const e = new LeaderElection({
    session: s,
    identity: { id: 'm', host: 'h', httpAddress: 'http://m' },
    log,
  });
  await e.start();
  return { zk, s, e };
}

export async function leaderTerm(
  t: TestContext,
  name: string,
  opts: { s3?: S3Client; abandonedUploadAgeMs?: number } = {},
) {
  const { zk, s, e } = await electedLeader(t, name);
  const kafka = new FakeKafka();
  const queue = new FakeQueue();
  const metrics = new MasterMetrics({ defaultMetrics: false });
  const term = new LeaderTerm({
    zk: s,
    epoch: e.epoch!,
    config: {
      // The documented defaults (the settings table's) for what the test does not set.
      ...loadMasterConfig({
        SLUICE_KAFKA_BROKERS: 'k:9092',
        SLUICE_ZOOKEEPER: 'zk:2181',
        SLUICE_ZOOKEEPER_INSECURE: 'true',
        SLUICE_REDIS_URL: 'redis://r:6379',
      }),
      // The test drives the passes itself.
      planIntervalMs: 600_000,
      stallTimeoutMs: 1_000,
      maxInFlightPerPartition: 4,
      reconcileIntervalMs: 600_000,
      abandonedUploadAgeMs: opts.abandonedUploadAgeMs ?? 600_000,
    },
    kafka,
    queue,
    ...(opts.s3 ? { s3: opts.s3 } : {}),
    log,
    metrics,
    onFenced: () => assert.fail('fenced'),
  });
  zk.defer(() => term.stop());
  return { zk, s, kafka, queue, term, metrics };
}
