import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  encodeJson,
  type KnownOffsets,
  loadMasterConfig,
  partitionPath,
  partitionsPath,
  type TopicOffsets,
  topicPath,
} from '@sluice/shared';
import { eventually, FakeKafka, partitionState, testLogger, topicRecord, zkFixture } from '@sluice/test-kit';
import type { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import type { ApiDeps } from '../../src/api/api-deps.ts';
import { STATUS_WATCHED, WatchedZk } from '../../src/leadership/watched-zk.ts';
import { MasterMetrics } from '../../src/status/metrics.ts';
import { StatusService } from '../../src/status/status-service.ts';
import { readPartitions } from '../../src/stores/partition-reader.ts';

/** A Kafka that records what each `topicOffsets` call was told it knows. */
class CountingKafka extends FakeKafka {
  readonly known: Array<KnownOffsets | undefined> = [];
  override topicOffsets(topics: string[], known?: KnownOffsets): Promise<Map<string, TopicOffsets>> {
    this.known.push(known);
    return super.topicOffsets(topics);
  }
}

test("the leader's time-lag gauges are refreshed without a full status answer, asking Kafka only the watermarks of caught-up partitions", async (t) => {
  const zk = await zkFixture(t, 'status-lags');
  const s = await zk.session();
  await s.create(topicPath('clicks'), encodeJson(topicRecord('clicks')));
  await s.mkdirp(partitionsPath('clicks'));
  for (const p of [0, 1])
    await s.create(partitionPath('clicks', p), encodeJson(partitionState({ committedOffset: '100' })));
  const kafka = new CountingKafka();
  kafka.set('clicks', 'id-1', [
    [0, 0n, 100n],
    [1, 0n, 100n],
  ]);
  let queueCounts = 0;
  const queue = {
    getJobCounts: async () => {
      queueCounts++;
      return {};
    },
  } as unknown as Queue;
  const metrics = new MasterMetrics({ defaultMetrics: false });
  const deps: ApiDeps = {
    config: loadMasterConfig({
      SLUICE_KAFKA_BROKERS: 'k:9092',
      SLUICE_ZOOKEEPER: 'zk:2181',
      SLUICE_ZOOKEEPER_INSECURE: 'true',
      SLUICE_REDIS_URL: 'redis://r:6379',
    }),
    zk: () => s,
    kafka,
    queue,
    election: { isLeader: () => true, leader: async () => null },
    metrics: new Registry(),
    masterMetrics: metrics,
    log: testLogger(),
    checkDestination: async () => undefined,
    ready: () => ({ ok: true, reasons: [] }),
  };
  const status = new StatusService(deps, { sampleEveryMs: 20, leaderRefreshMs: 0 });
  t.after(() => status.close());
  status.start();

  const lags = async () => (await metrics.lagSeconds.get()).values;
  await eventually(async () => kafka.known.length >= 3, 10_000, 'three refreshes of the gauges');
  assert.deepEqual(
    (await lags()).map((v) => [v.labels.partition, v.value]).sort(),
    [
      ['0', 0],
      ['1', 0],
    ],
    'every partition has its time lag, 0 when caught up',
  );
  assert.equal(queueCounts, 0, 'no full answer was made (it counts the queue)');
  assert.equal(kafka.known[0]?.size ?? 0, 0, 'the first look knows nothing');
  assert.deepEqual(
    [...(kafka.known.at(-1)?.get('clicks')?.keys() ?? [])].sort(),
    [0, 1],
    'later looks ask only the watermark of partitions that were caught up',
  );

  // An answer still counts the queue: the check above can fail.
  await status.get();
  assert.equal(queueCounts, 1);
});

test('partition states read through the watched session are decoded again only when their node changed', async (t) => {
  const zk = await zkFixture(t, 'status-decoded');
  const s = await zk.session();
  await s.mkdirp(partitionsPath('clicks'));
  await s.create(partitionPath('clicks', 0), encodeJson(partitionState({ committedOffset: '5' })));
  const watched = new WatchedZk(s, STATUS_WATCHED);
  const read = async () => (await readPartitions(watched, 'clicks', { withRanges: false }))[0]?.state;
  const first = await read();
  assert.equal(first?.committedOffset, '5');
  assert.equal(await read(), first, 'an unchanged node: the same decoded state');
  await s.set(partitionPath('clicks', 0), encodeJson(partitionState({ committedOffset: '9' })), -1);
  const changed = await eventually(async () => {
    const state = await read();
    return state?.committedOffset === '9' ? state : null;
  });
  assert.notEqual(changed, first);
});
