/**
 * Issue 16, "Start where the old pipeline stopped", against the real stack: a topic registered
 * with `startFrom` a consumer group that a real Kafka consumer committed (and was stopped), named
 * offsets, or a time starts each partition exactly there: the records before are not written,
 * none after are missing (the exactly-once end check), the dry run and the stored record show
 * the resolved offsets. A group that still has a consumer, an unknown group, offsets outside
 * the log and a partition the topic lacks are refused with messages that say what to do.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Consumer, MessagesStreamModes } from '@platformatic/kafka';
import { loadStackEnv } from '@sluice/test-kit';
import { verifyEnd } from '../helpers/end-check.ts';
import { highWatermarks, type TestTopic } from '../helpers/kafka.ts';
import { produceAll, toHeaders } from '../helpers/load.ts';
import { uniqueName, waitFor } from '../helpers/processes.ts';
import { makeEvents, type ProducedRecord } from '../helpers/records.ts';
import { topicStack } from '../helpers/topic-stack.ts';

const { kafka, s3, bucket, api, newTopic } = topicStack('start-from');
const prefix = 'migrated';

interface Start {
  partition: number;
  startOffset: string;
  resumed: boolean;
  resolvedBy?: string;
}

function body(t: TestTopic, startFrom: unknown): Record<string, unknown> {
  return {
    topic: t.name,
    destination: { bucket, prefix },
    partitionBy: { kind: 'none' },
    maxRangeMessages: 1000,
    flushIntervalMs: 300,
    startFrom,
  };
}

/** `count` records over two partitions, tagged; produced at once (in order per partition). */
async function produce(t: TestTopic, count: number, tag: string): Promise<ProducedRecord[]> {
  const events = makeEvents(count, { startMs: Date.now(), spanMs: 60_000, partitions: 2, prefix: tag });
  await produceAll(t.producer, t.name, events);
  return events;
}

/** The records of `events` (produced first, to an empty topic) at or after each partition's start. */
function from(events: ProducedRecord[], starts: Map<number, bigint>): ProducedRecord[] {
  const seen = new Map<number, bigint>();
  return events.filter((e) => {
    const offset = seen.get(e.partition) ?? 0n;
    seen.set(e.partition, offset + 1n);
    return offset >= (starts.get(e.partition) ?? 0n);
  });
}

/** `startFrom` as the record keeps it: the object forms' defaults written out. */
function stored(startFrom: Record<string, unknown>): Record<string, unknown> {
  if ('offsets' in startFrom) return { fallback: 'earliest', outOfRange: 'refuse', ...startFrom };
  if ('consumerGroup' in startFrom) return { fallback: 'earliest', ...startFrom };
  return startFrom;
}

/** A dry run and the registration; both must say each partition starts at `expected`, by `resolvedBy`. */
async function register(
  t: TestTopic,
  startFrom: Record<string, unknown>,
  expected: Map<number, [bigint, string]>,
): Promise<void> {
  const want = [...expected]
    .sort(([a], [b]) => a - b)
    .map(([partition, [offset, resolvedBy]]) => ({
      partition,
      startOffset: offset.toString(),
      resumed: false,
      resolvedBy,
    }));
  const pick = (s: Start) => ({
    partition: s.partition,
    startOffset: s.startOffset,
    resumed: s.resumed,
    resolvedBy: s.resolvedBy,
  });
  const dry = await api.post('/api/v1/topics?dryRun=true', body(t, startFrom));
  assert.equal(dry.status, 200, JSON.stringify(dry.body));
  assert.deepEqual(
    (dry.body.partitions as Start[]).map(pick),
    want,
    'the dry run shows the resolved offsets',
  );
  assert.deepEqual(
    dry.body.config.startFrom,
    stored(startFrom),
    'the dry run shows startFrom with its defaults',
  );
  const res = await api.post('/api/v1/topics', body(t, startFrom));
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.deepEqual((res.body.starts as Start[]).map(pick), want, 'the registration answer');
  const got = (await api.get(`/api/v1/topics/${t.name}`)).body;
  assert.deepEqual((got.starts as Start[]).map(pick), want, 'GET shows the stored starts');
  assert.deepEqual(got.startFrom, stored(startFrom), 'GET shows startFrom as registered, with its defaults');
  // Until the leader started them, the status says each partition is committed up to its start.
  for (const p of got.partitions as Array<{
    partition: number;
    started: boolean;
    committedOffset: string;
  }>) {
    if (!p.started) assert.equal(p.committedOffset, expected.get(p.partition)![0].toString());
  }
}

/**
 * The old pipeline: a kafkajs consumer of `group` (the classic protocol, as Secor's and Kafka
 * Connect's) reads all `count` records of `topic`, commits `commits` (partition → the next
 * offset to read, Kafka's convention), runs `whileRunning` while it is still a member, and stops.
 */
async function oldConsumer(
  group: string,
  topic: TestTopic,
  count: number,
  commits: Array<[number, string]>,
  whileRunning: () => Promise<void> = async () => {},
): Promise<void> {
  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic: topic.name, fromBeginning: true });
  let consumed = 0;
  await consumer.run({ autoCommit: false, eachMessage: async () => void consumed++ });
  try {
    await waitFor('the old consumer to read every record', async () => consumed >= count, 60_000);
    await consumer.commitOffsets(
      commits.map(([partition, offset]) => ({ topic: topic.name, partition, offset })),
    );
    await whileRunning();
  } finally {
    await consumer.disconnect();
  }
}

function endCheck(t: TestTopic, produced: ProducedRecord[], starts: Map<number, bigint>) {
  return verifyEnd({
    api,
    s3,
    admin: t.admin,
    bucket,
    prefix,
    topic: t.name,
    produced,
    logStartOffsets: starts,
  });
}

test('a migration from a consumer group: refused while its consumer runs; after it stopped, nothing before its offsets is written and nothing after is missing', async (t) => {
  const topic = await newTopic('sf-group');
  const old = await produce(topic, 120, 'old');
  const group = uniqueName('old-pipeline');
  // The old pipeline got this far: Kafka's convention, the next offset to read.
  await oldConsumer(
    group,
    topic,
    old.length,
    [
      [0, '23'],
      [1, '41'],
    ],
    async () => {
      const active = await api.post('/api/v1/topics?dryRun=true', body(topic, { consumerGroup: group }));
      assert.equal(active.status, 409, JSON.stringify(active.body));
      assert.equal(active.body.code, 'SLUICE_ERR_CONSUMER_GROUP_ACTIVE');
      assert.match(
        active.body.message,
        new RegExp(`consumer group "${group}" has 1 member now .*stop the consumer`),
      );
      assert.match(
        active.body.message,
        /kafka-consumer-groups\.sh --bootstrap-server <brokers> --describe --group/,
      );
      const refused = await api.post('/api/v1/topics', body(topic, { consumerGroup: group }));
      assert.equal(refused.status, 409, 'the registration itself is refused too');
    },
  );

  const starts = new Map([
    [0, 23n],
    [1, 41n],
  ]);
  await register(
    topic,
    { consumerGroup: group },
    new Map([
      [0, [23n, 'consumerGroup']],
      [1, [41n, 'consumerGroup']],
    ]),
  );
  const fresh = await produce(topic, 80, 'new');
  const end = await endCheck(topic, [...from(old, starts), ...fresh], starts);
  t.diagnostic(`started at 23 and 41 of 60 per partition; ${end.commitRecords} commit records`);
});

test('a group that committed nothing for the topic is refused with how to check it; a partition it lacks follows the fallback', async () => {
  const topic = await newTopic('sf-group-partial');
  await produce(topic, 40, 'a');
  const unknown = uniqueName('no-such-group');
  const res = await api.post('/api/v1/topics?dryRun=true', body(topic, { consumerGroup: unknown }));
  assert.equal(res.status, 422, JSON.stringify(res.body));
  assert.equal(res.body.code, 'SLUICE_ERR_START_FROM_UNUSABLE');
  assert.match(
    res.body.message,
    new RegExp(
      `^startFrom.consumerGroup: consumer group "${unknown}" has no committed offsets for topic "${topic.name}"`,
    ),
  );
  assert.match(res.body.message, /kafka-consumer-groups\.sh .*--describe --group/);

  // A group that committed partition 1 only: partition 0 follows `fallback: latest`.
  const group = uniqueName('half');
  await oldConsumer(group, topic, 40, [[1, '7']]);
  const dry = await api.post(
    '/api/v1/topics?dryRun=true',
    body(topic, { consumerGroup: group, fallback: 'latest' }),
  );
  assert.equal(dry.status, 200, JSON.stringify(dry.body));
  assert.deepEqual(
    (dry.body.partitions as Start[]).map((p) => [p.partition, p.startOffset, p.resolvedBy]),
    [
      [0, '20', 'fallback'],
      [1, '7', 'consumerGroup'],
    ],
  );
});

test('a group whose offsets retention has since passed starts there: the deleted records are a reported gap, not hidden', async () => {
  const topic = await newTopic('sf-group-gap');
  const old = await produce(topic, 40, 'old');
  const group = uniqueName('behind');
  await oldConsumer(group, topic, 40, [
    [0, '5'],
    [1, '5'],
  ]);
  // Retention (here DeleteRecords) removes partition 0's offsets below 12 after the old consumer stopped.
  await highWatermarks(topic.admin, topic.name); // kafkajs finds leaders only for topics it fetched
  await topic.admin.deleteTopicRecords({ topic: topic.name, partitions: [{ partition: 0, offset: '12' }] });
  await register(
    topic,
    { consumerGroup: group },
    new Map([
      [0, [5n, 'consumerGroup']],
      [1, [5n, 'consumerGroup']],
    ]),
  );
  const fresh = await produce(topic, 20, 'new');
  const inKafka = new Map([
    [0, 12n],
    [1, 5n],
  ]);
  await endCheck(topic, [...from(old, inKafka), ...fresh], inKafka);
  const audit = await api.get(`/api/v1/topics/${topic.name}/audit?partition=0&fresh=true`);
  assert.equal(audit.status, 200, JSON.stringify(audit.body));
  const gaps = (
    audit.body.findings as Array<{ kind: string; start: string; end: string; cause?: string }>
  ).filter((f) => f.kind === 'gap');
  assert.deepEqual(
    gaps.map((g) => [g.start, g.end, g.cause]),
    [['5', '12', 'retention']],
    'the audit reports what Kafka deleted between the group and Sluice',
  );
});

test("a group of Kafka's newer consumer protocol (KIP-848) is refused while its consumer runs, and read once it stopped", async () => {
  const topic = await newTopic('sf-group-848');
  await produce(topic, 30, 'a');
  const group = uniqueName('kip848');
  const consumer = new Consumer({
    groupId: group,
    clientId: 'old-pipeline-848',
    bootstrapBrokers: loadStackEnv().SLUICE_KAFKA_BROKERS.split(','),
    groupProtocol: 'consumer',
  });
  let consumed = 0;
  try {
    const stream = await consumer.consume({
      topics: [topic.name],
      mode: MessagesStreamModes.EARLIEST,
      autocommit: 100,
    });
    stream.on('data', () => void consumed++);
    await waitFor('the consumer to read and commit', async () => {
      if (consumed < 30) return false;
      // Wait for its autocommit to have committed everything it read.
      const [committed] = await topic.admin.fetchOffsets({ groupId: group, topics: [topic.name] });
      if (!committed?.partitions.every((p) => p.offset === '15')) return false;
      const dry = await api.post('/api/v1/topics?dryRun=true', body(topic, { consumerGroup: group }));
      // Refused while it runs, whether or not it committed yet.
      assert.equal(dry.status, 409, JSON.stringify(dry.body));
      assert.equal(dry.body.code, 'SLUICE_ERR_CONSUMER_GROUP_ACTIVE');
      assert.match(dry.body.message, /old-pipeline-848@/);
      return true;
    });
    await stream.close();
  } finally {
    await consumer.close();
  }
  const dry = await waitFor(
    'the stopped group to be read',
    async () => {
      const r = await api.post('/api/v1/topics?dryRun=true', body(topic, { consumerGroup: group }));
      return r.status === 200 ? r : false;
    },
    30_000,
  );
  assert.deepEqual(
    (dry.body.partitions as Start[]).map((p) => [p.startOffset, p.resolvedBy]),
    [
      ['15', 'consumerGroup'],
      ['15', 'consumerGroup'],
    ],
    'the offsets it committed (autocommit) before it stopped',
  );
});

test('named offsets: refused outside the log or for a partition the topic lacks, clamped when asked; the others follow the fallback', async () => {
  const topic = await newTopic('sf-offsets');
  const old = await produce(topic, 100, 'old');
  const outside = await api.post('/api/v1/topics?dryRun=true', body(topic, { offsets: { '0': '51' } }));
  assert.equal(outside.status, 422, JSON.stringify(outside.body));
  assert.equal(outside.body.code, 'SLUICE_ERR_START_FROM_UNUSABLE');
  assert.equal(
    outside.body.message,
    `startFrom.offsets.0: offset 51 is outside partition 0's log, which holds 0 (log start) to 50 (high watermark); choose an offset in that range, or add "outOfRange": "clamp" to start at the nearer end`,
  );
  const missing = await api.post('/api/v1/topics', body(topic, { offsets: { '0': '1', '2': '0' } }));
  assert.equal(missing.status, 422, JSON.stringify(missing.body));
  assert.match(
    missing.body.message,
    new RegExp(
      `^startFrom.offsets.2: topic "${topic.name}" has no partition 2 \\(its partitions are 0, 1\\)`,
    ),
  );
  const clamped = await api.post(
    '/api/v1/topics?dryRun=true',
    body(topic, { offsets: { '0': '900' }, outOfRange: 'clamp' }),
  );
  assert.equal(clamped.status, 200, JSON.stringify(clamped.body));
  assert.deepEqual(
    (clamped.body.partitions as Start[]).map((p) => [p.startOffset, p.resolvedBy]),
    [
      ['50', 'offsets-clamped'],
      ['0', 'fallback'],
    ],
  );

  const startFrom = { offsets: { '0': '17' }, fallback: 'latest' };
  await register(
    topic,
    startFrom,
    new Map([
      [0, [17n, 'offsets']],
      [1, [50n, 'fallback']],
    ]),
  );
  const fresh = await produce(topic, 60, 'new');
  const starts = new Map([
    [0, 17n],
    [1, 50n],
  ]);
  await endCheck(topic, [...from(old, starts), ...fresh], starts);
});

test('a timestamp: per partition the first record at or after it (ISO-8601 or epoch ms); past the end, the high watermark', async () => {
  const topic = await newTopic('sf-time');
  // Record i is stamped base + i seconds (an hour ago, well inside what Kafka accepts).
  const base = Date.now() - 3_600_000;
  const old = makeEvents(80, { startMs: base, spanMs: 80_000, partitions: 2, prefix: 'old' });
  await topic.producer.send({
    topic: topic.name,
    messages: old.map((r, i) => ({
      partition: r.partition,
      key: r.key,
      value: r.value,
      headers: toHeaders(r.headers),
      timestamp: String(base + i * 1000),
    })),
  });
  // At base + 30.5 s: record 31 (partition 1, its offset 15) and record 32 (partition 0, offset 16).
  const at = base + 30_500;
  const future = await api.post(
    '/api/v1/topics?dryRun=true',
    body(topic, { timestamp: Date.now() + 86_400_000 }),
  );
  assert.equal(future.status, 200, JSON.stringify(future.body));
  assert.deepEqual(
    (future.body.partitions as Start[]).map((p) => p.startOffset),
    ['40', '40'],
    'no record that new: the high watermark',
  );
  await register(
    topic,
    { timestamp: new Date(at).toISOString() },
    new Map([
      [0, [16n, 'timestamp']],
      [1, [15n, 'timestamp']],
    ]),
  );
  const fresh = await produce(topic, 40, 'new');
  const starts = new Map([
    [0, 16n],
    [1, 15n],
  ]);
  await endCheck(topic, [...from(old, starts), ...fresh], starts);
  const hw = await highWatermarks(topic.admin, topic.name);
  assert.deepEqual([...hw.values()], [60n, 60n]);
});
