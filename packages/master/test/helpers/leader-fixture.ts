/**
 * A leader term on the test kit's ZooKeeper (in memory unless SLUICE_TEST_ZOOKEEPER=stack)
 * with Kafka and the queue stood in for, driven pass by pass by the test (its timers are set
 * far apart).
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import type { RangeJobData } from '@sluice/shared';
import { FakeKafka, testLogger, zkFixture } from '@sluice/test-kit';
import { LeaderElection } from '../../src/leadership/leader-election.ts';
import { LeaderTerm } from '../../src/leadership/leader-term.ts';
import type { RangeJobOptions, RangeQueue } from '../../src/ranges/range-enqueuer.ts';
import { MasterMetrics } from '../../src/status/metrics.ts';

const log = testLogger();

export class FakeQueue implements RangeQueue {
  readonly jobs = new Map<string, { name: string; data: RangeJobData; opts: RangeJobOptions }>();
  async add(name: string, data: RangeJobData, opts: RangeJobOptions): Promise<unknown> {
    if (!this.jobs.has(opts.jobId)) this.jobs.set(opts.jobId, { name, data, opts });
    return {};
  }
  async getJob(id: string): Promise<unknown> {
    return this.jobs.get(id);
  }
}

export async function leaderTerm(
  t: TestContext,
  name: string,
  opts: { s3?: S3Client; abandonedUploadAgeMs?: number } = {},
) {
  const zk = await zkFixture(t, name);
  const s = await zk.session();
  const e = new LeaderElection({
    session: s,
    identity: { id: 'm', host: 'h', httpAddress: 'http://m' },
    log,
  });
  await e.start();
  const kafka = new FakeKafka();
  const queue = new FakeQueue();
  const metrics = new MasterMetrics({ defaultMetrics: false });
  const term = new LeaderTerm({
    zk: s,
    epoch: e.epoch!,
    config: {
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
