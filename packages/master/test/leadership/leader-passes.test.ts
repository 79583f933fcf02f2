/**
 * The leader's planning interval at scale, counted in ZooKeeper requests: a pass costs
 * requests for the partitions that changed (a range done, new records), not for every
 * partition registered, and a pass over a partition whose offsets did not move plans nothing;
 * and Kafka is asked once per pass for all topics.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeJson,
  ErrorCodes,
  encodeJson,
  LEADER_PATH,
  type RangeJobData,
  type RangeRecord,
  rangeJobNodePath,
  SluiceError,
  TOPICS_PATH,
  type TopicOffsets,
  type TopicRecord,
  topicPath,
} from '@sluice/shared';
import { FakeKafka, FakeZk, rangeResult, testLogger, topicRecord } from '@sluice/test-kit';
import { LeaderPasses } from '../../src/leadership/leader-passes.ts';
import type { RangeQueue } from '../../src/ranges/range-enqueuer.ts';

const PARTITIONS = 50;

/** The leader's passes on `zk` (which holds the leader node) and `kafka`; the jobs they enqueue. */
async function passesOn(zk: FakeZk, kafka: FakeKafka) {
  const jobs: RangeJobData[] = [];
  const queue: RangeQueue = {
    add: async (_name, data) => jobs.push(data),
    getJob: async () => null,
    remove: async () => 1,
  };
  const s = zk.session();
  const passes = new LeaderPasses({
    zk: s,
    epoch: (await s.get(LEADER_PATH))!.version,
    onFenced: () => {},
    kafka,
    queue,
    log: testLogger(),
    maxInFlightPerPartition: 4,
  });
  return { passes, jobs, session: s };
}

async function leader() {
  const zk = new FakeZk();
  zk.put(LEADER_PATH, encodeJson({ v: 1 }));
  zk.put(TOPICS_PATH);
  zk.put(topicPath('clicks'), encodeJson(topicRecord('clicks', { maxRangeMessages: 100 })));
  const kafka = new FakeKafka();
  const high = Array.from({ length: PARTITIONS }, () => 0n);
  const setKafka = () =>
    kafka.set(
      'clicks',
      'id-1',
      high.map((h, p) => [p, 0n, h]),
    );
  setKafka();
  const { passes, jobs } = await passesOn(zk, kafka);
  /** New records on `partitions`, one full range each. */
  const produce = (partitions: number[]) => {
    for (const p of partitions) high[p] = high[p]! + 100n;
    setKafka();
  };
  /** Workers finish every job enqueued so far, as another session. */
  const finish = async () => {
    const w = zk.session();
    for (const job of jobs.splice(0)) {
      const path = rangeJobNodePath(job);
      const node = await w.get(path);
      const r = decodeJson<RangeRecord>(node!.data, path);
      const done = { ...r, state: 'done', result: rangeResult(100, 1000, { attempt: r.attempt }) };
      await w.set(path, encodeJson(done), node!.version);
    }
  };
  return { zk, passes, jobs, produce, finish };
}

test("a pass's ZooKeeper requests grow with the partitions that changed, not with those registered", async () => {
  const { zk, passes, jobs, produce, finish } = await leader();
  await passes.tick(); // registers the partitions
  produce(Array.from({ length: PARTITIONS }, (_, p) => p));
  await passes.tick();
  assert.equal(jobs.length, PARTITIONS, 'one range planned per partition');
  await finish();
  await passes.tick(); // commits them all
  assert.equal(passes.cache.all().filter((e) => e.ranges.length > 0).length, 0);

  // Nothing moves: a pass sends nothing.
  zk.resetCounts();
  await passes.tick();
  assert.deepEqual(zk.counts, {});

  // Three partitions get records: their ranges are created in one multi...
  produce([3, 17, 40]);
  zk.resetCounts();
  await passes.tick();
  assert.deepEqual(
    jobs.map((j) => j.partition),
    [3, 17, 40],
  );
  assert.deepEqual(zk.counts, { multi: 1, 'multi.ops': 4 }, 'a fence check and three creates');
  // ...the next pass reads each new range once (setting its watch), the one after nothing...
  zk.resetCounts();
  await passes.tick();
  assert.deepEqual(zk.counts, { get: 3 });
  zk.resetCounts();
  await passes.tick();
  assert.deepEqual(zk.counts, {});
  // ...and once done, each is read once and all are committed in one multi.
  await finish();
  zk.resetCounts();
  await passes.tick();
  assert.deepEqual(zk.counts, { get: 3, multi: 1, 'multi.ops': 7 });
  for (const p of [3, 17, 40]) assert.equal(passes.cache.get('clicks', p)?.state.committedOffset, '200');
  assert.equal(passes.cache.get('clicks', 4)?.state.committedOffset, '100');
});

/** A Kafka that answers all topics of a pass in one call, and fails for the topics in `broken`. */
class BatchKafka extends FakeKafka {
  readonly asked: string[][] = [];
  readonly broken = new Set<string>();
  override async topicOffsets(topics: string[]): Promise<Map<string, TopicOffsets>> {
    this.asked.push([...topics]);
    const out = await super.topicOffsets(topics);
    for (const topic of this.broken) {
      if (!out.has(topic)) continue;
      const error = new SluiceError(ErrorCodes.KAFKA, `topic "${topic}" partition 0: LEADER_NOT_AVAILABLE`);
      out.set(topic, { metadata: null, offsets: null, error });
    }
    return out;
  }
}

test('a pass asks Kafka once for all topics; a topic Kafka failed to answer for is neither planned nor stopped', async () => {
  const zk = new FakeZk();
  zk.put(LEADER_PATH, encodeJson({ v: 1 }));
  zk.put(TOPICS_PATH);
  for (const t of ['clicks', 'views'])
    zk.put(topicPath(t), encodeJson(topicRecord(t, { maxRangeMessages: 100, topicId: `id-${t}` })));
  const kafka = new BatchKafka();
  const { passes, jobs, session: s } = await passesOn(zk, kafka);
  const produce = (high: bigint) => {
    for (const t of ['clicks', 'views']) kafka.set(t, `id-${t}`, [[0, 0n, high]]);
  };
  produce(0n);
  await passes.tick();
  assert.deepEqual(kafka.asked, [['clicks', 'views']], 'one call for both topics');

  kafka.broken.add('views');
  produce(100n);
  await passes.tick();
  assert.deepEqual(
    jobs.map((j) => j.topic),
    ['clicks'],
  );
  const views = decodeJson<TopicRecord>((await s.get(topicPath('views')))!.data, 'views');
  assert.equal(views.state, 'active', 'a failed answer is not a topic gone from Kafka');

  kafka.broken.clear();
  await passes.tick();
  assert.deepEqual(
    jobs.map((j) => j.topic),
    ['clicks', 'views'],
  );
  assert.equal(kafka.asked.length, 3);
});
