/**
 * Registrations rebuilt from S3 (topics/topic-recovery.ts), with an in-memory S3, ZooKeeper
 * and Kafka: which topics are registered again, where each partition goes on, and which are
 * reported and left alone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type CommitRecord,
  commitRecordKey,
  configObjectKey,
  type Destination,
  type TopicRecord,
  topicConfigObject,
} from '@sluice/shared';
import { FakeKafka, FakeZk, testLogger, topicRecord } from '@sluice/test-kit';
import type { ListedCommit } from '../../src/integrity/audit.ts';
import { createTopic, readTopic } from '../../src/stores/topic-store.ts';
import {
  newestConfigs,
  type RecoveryDeps,
  recoverTopics,
  recoveryDecision,
} from '../../src/topics/topic-recovery.ts';
import { resumingRegistration } from '../../src/topics/topic-resume.ts';

/** An S3 of buckets of objects (text), with what recovery asks of it. */
class MemoryS3 {
  readonly objects = new Map<string, Map<string, string>>();

  put(bucket: string, key: string, value: unknown): void {
    if (!this.objects.has(bucket)) this.objects.set(bucket, new Map());
    this.objects.get(bucket)!.set(key, typeof value === 'string' ? value : JSON.stringify(value));
  }

  commit(
    d: Destination,
    topic: string,
    partition: number,
    start: number,
    end: number,
    topicId: string,
  ): void {
    const key = commitRecordKey(d.prefix, { topic, partition, start: BigInt(start), end: BigInt(end) });
    this.put(d.bucket, key, { topicId });
  }

  #keys(bucket: string, prefix: string): string[] {
    return [...(this.objects.get(bucket)?.keys() ?? [])].filter((k) => k.startsWith(prefix)).sort();
  }

  async list(bucket: string, prefix: string) {
    return this.#keys(bucket, prefix).map((key) => ({ key, size: 1 }));
  }

  async folders(bucket: string, prefix: string) {
    const out = new Set<string>();
    for (const k of this.#keys(bucket, prefix)) {
      const rest = k.slice(prefix.length);
      if (rest.includes('/')) out.add(`${prefix}${rest.slice(0, rest.indexOf('/') + 1)}`);
    }
    return [...out];
  }

  async text(bucket: string, key: string) {
    return this.objects.get(bucket)?.get(key) ?? null;
  }

  async commits(bucket: string, keys: readonly string[]): Promise<ListedCommit[]> {
    return keys.map((key) => {
      const t = this.objects.get(bucket)?.get(key);
      return t === undefined
        ? { key, record: null, error: 'vanished while being read' }
        : { key, record: JSON.parse(t) as CommitRecord };
    });
  }

  async putJson(bucket: string, key: string, value: unknown) {
    this.put(bucket, key, value);
    return true;
  }
}

const lake: Destination = { bucket: 'lake', prefix: 'raw' };
const old: Destination = { bucket: 'old-lake', prefix: '' };

function setup() {
  const s3 = new MemoryS3();
  const zk = new FakeZk().session();
  const kafka = new FakeKafka();
  const checked: string[] = [];
  const deps: RecoveryDeps = {
    zk,
    kafka,
    store: s3,
    checkDestination: async (topic) => {
      checked.push(topic);
    },
    log: testLogger(),
  };
  return { s3, zk, kafka, deps, checked };
}

/** A topic as it was registered, with its config object in its destination. */
function registered(s3: MemoryS3, topic: string, over: Partial<TopicRecord> = {}): TopicRecord {
  const record = topicRecord(topic, { destination: { ...lake }, topicId: `${topic}-id`, ...over });
  s3.put(
    record.destination.bucket,
    configObjectKey(record.destination.prefix, topic),
    topicConfigObject(record, new Date()),
  );
  return record;
}

test('a lost topic is registered again, each partition after its contiguous commit records', async () => {
  const { s3, zk, kafka, deps } = setup();
  const record = registered(s3, 'orders', {
    starts: [
      { partition: 0, startOffset: '0', resumed: false },
      { partition: 1, startOffset: '0', resumed: false },
      { partition: 2, startOffset: '7', resumed: false },
    ],
  });
  s3.commit(lake, 'orders', 0, 0, 100, 'orders-id');
  s3.commit(lake, 'orders', 0, 100, 200, 'orders-id');
  s3.commit(lake, 'orders', 1, 0, 50, 'orders-id');
  s3.commit(lake, 'orders', 1, 80, 100, 'orders-id'); // after a hole
  s3.commit(lake, 'orders', 1, 100, 120, 'other-id'); // another incarnation's: not this topic's past
  s3.put('lake', 'raw/orders/orders-0-00000000000000000000-00000000000000000100.jsonl.gz', 'data');
  kafka.set('orders', 'orders-id', [
    [0, 0n, 300n],
    [1, 0n, 300n],
    [2, 5n, 300n],
  ]);

  const report = await recoverTopics(deps, [lake], false);

  assert.equal(report.topics.length, 1);
  const [t] = report.topics;
  assert.equal(t!.outcome, 'recovered', t!.message);
  assert.equal(t!.configObject, 's3://lake/raw/orders/_sluice/config.json');
  assert.deepEqual(t!.partitions, [
    { partition: 0, committedOffset: '200', commitRecords: 2, hole: null },
    { partition: 1, committedOffset: '50', commitRecords: 2, hole: { from: '50', to: '80' } },
    // No commit record: where the original registration started it, not Kafka's earliest (5).
    { partition: 2, committedOffset: '7', commitRecords: 0, hole: null },
  ]);
  const stored = await readTopic(zk, 'orders');
  assert.ok(stored, 'the topic is registered in ZooKeeper again');
  assert.equal(stored.record.topicId, 'orders-id');
  assert.equal(stored.record.createdAt, record.createdAt, 'it keeps its original registration time');
  assert.deepEqual(
    stored.record.starts?.map((s) => [s.partition, s.startOffset, s.resumed]),
    [
      [0, '200', true],
      [1, '50', true],
      [2, '7', true],
    ],
  );
});

test('registered topics are left alone; a re-created or missing Kafka topic is reported, not registered', async () => {
  const { s3, zk, kafka, deps } = setup();
  const live = registered(s3, 'live');
  await createTopic(zk, { ...live, maxRangeMessages: 555 });
  registered(s3, 'again');
  registered(s3, 'gone');
  kafka.set('live', 'live-id', [[0, 0n, 10n]]);
  kafka.set('again', 'a-new-id', [[0, 0n, 10n]]);

  const report = await recoverTopics(deps, [lake], false);

  assert.deepEqual(
    report.topics.map((t) => [t.topic, t.outcome]),
    [
      ['again', 'topic-id-differs'],
      ['gone', 'not-in-kafka'],
      ['live', 'already-registered'],
    ],
  );
  assert.match(report.topics[0]!.message, /a-new-id/);
  assert.equal((await readTopic(zk, 'live'))?.record.maxRangeMessages, 555, 'the registration is untouched');
  assert.equal(await readTopic(zk, 'again'), null);
  assert.equal(await readTopic(zk, 'gone'), null);
});

test('a topic that moved: its newest config object counts and the commit records of every destination', async () => {
  const { s3, zk, kafka, deps } = setup();
  const t0 = new Date('2026-01-01T00:00:00Z');
  const before = topicRecord('moved', {
    destination: { ...old },
    topicId: 'm-id',
    createdAt: t0.toISOString(),
  });
  s3.put('old-lake', configObjectKey('', 'moved'), topicConfigObject(before, t0));
  const after = registered(s3, 'moved', {
    topicId: 'm-id',
    createdAt: t0.toISOString(),
    pastDestinations: [{ ...old, since: t0.toISOString(), until: '2026-01-02T00:00:00.000Z' }],
  });
  s3.commit(old, 'moved', 0, 0, 100, 'm-id');
  s3.commit(lake, 'moved', 0, 100, 150, 'm-id');
  kafka.set('moved', 'm-id', [[0, 0n, 200n]]);

  const report = await recoverTopics(deps, [old, lake], false);

  assert.equal(report.topics.length, 1, 'one topic, found twice');
  assert.equal(report.topics[0]!.configObject, 's3://lake/raw/moved/_sluice/config.json');
  assert.deepEqual(report.topics[0]!.partitions, [
    { partition: 0, committedOffset: '150', commitRecords: 2, hole: null },
  ]);
  const stored = (await readTopic(zk, 'moved'))!.record;
  assert.deepEqual(stored.destination, after.destination);
  assert.deepEqual(stored.pastDestinations, after.pastDestinations);
});

test('a dry run says the same and registers nothing; unreadable config objects are reported', async () => {
  const { s3, zk, kafka, deps } = setup();
  registered(s3, 'orders');
  s3.commit(lake, 'orders', 0, 0, 40, 'orders-id');
  s3.put('lake', configObjectKey('raw', 'broken'), '{not json');
  kafka.set('orders', 'orders-id', [[0, 0n, 50n]]);

  const report = await recoverTopics(deps, [lake], true);

  assert.deepEqual(
    report.topics.map((t) => [t.topic, t.outcome, t.partitions.map((p) => p.committedOffset)]),
    [['orders', 'would-recover', ['40']]],
  );
  assert.deepEqual(report.problems, [
    { bucket: 'lake', key: 'raw/broken/_sluice/config.json', problem: 'config object is not JSON' },
  ]);
  assert.equal(await readTopic(zk, 'orders'), null);
});

test('newest config object per topic wins, whatever the order found', () => {
  const a = topicConfigObject(topicRecord('t'), new Date('2026-01-01T00:00:00Z'));
  const b = topicConfigObject(topicRecord('t'), new Date('2026-02-01T00:00:00Z'));
  const found = [
    { bucket: 'y', key: 'k', object: b },
    { bucket: 'x', key: 'k', object: a },
  ];
  assert.equal(newestConfigs(found)[0]!.bucket, 'y');
  assert.equal(newestConfigs([...found].reverse())[0]!.bucket, 'y');
  assert.equal(recoveryDecision(a, false, 'id-1'), null, 'same topic id, not registered: recovered');
});

test('a registration into a destination whose config object lists past destinations resumes after their commit records too', async () => {
  const { s3, kafka } = setup();
  const t0 = '2026-01-01T00:00:00.000Z';
  registered(s3, 'moved', { topicId: 'm-id', pastDestinations: [{ ...old, since: t0, until: t0 }] });
  s3.commit(old, 'moved', 0, 0, 100, 'm-id');
  kafka.set('moved', 'm-id', [[0, 0n, 200n]]);
  const fresh = topicRecord('moved', { destination: { ...lake }, topicId: 'm-id' });

  const again = await resumingRegistration(kafka, s3, fresh, [0], true);
  assert.deepEqual(again.starts, [{ partition: 0, startOffset: '100', resumed: true }]);
  assert.deepEqual(again.pastDestinations, [{ ...old, since: t0, until: t0 }], 'the record keeps them');

  // The config object of another incarnation (other topic id) says nothing of this one.
  const other = await resumingRegistration(kafka, s3, { ...fresh, topicId: 'new-id' }, [0], true);
  assert.deepEqual(other.starts, [{ partition: 0, startOffset: '0', resumed: false }]);
});

test('a topic an operator deleted is not brought back: its config object says when it was deleted', async () => {
  const { s3, zk, kafka, deps } = setup();
  const gone = registered(s3, 'retired', { state: 'deleting', updatedAt: '2026-03-01T00:00:00.000Z' });
  kafka.set('retired', gone.topicId, [[0, 0n, 10n]]);

  const report = await recoverTopics(deps, [lake], false);

  assert.deepEqual(
    report.topics.map((t) => [t.topic, t.outcome]),
    [['retired', 'deleted']],
  );
  assert.match(report.topics[0]!.message, /2026-03-01T00:00:00.000Z/);
  assert.equal(await readTopic(zk, 'retired'), null);
});
