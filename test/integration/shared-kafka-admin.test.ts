/**
 * KafkaAdmin against the real Kafka of the local stack (`npm run stack:up`); fails when the
 * stack is not there. Each test makes its own topics (kafkajs admin) and deletes them.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  createKafkaAdmin,
  ErrorCodes,
  type KafkaAdmin,
  type KafkaSettings,
  SluiceError,
} from '@sluice/shared';
import { loadStackEnv } from '@sluice/test-kit';
import { type Admin, Kafka, logLevel } from 'kafkajs';

/** The stack's brokers; throws (the test fails) when the stack is not running. */
function stackBrokers(): string[] {
  return loadStackEnv().SLUICE_KAFKA_BROKERS.split(',');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}

describe('KafkaAdmin (real Kafka)', () => {
  let brokers: string[];
  let settings: KafkaSettings;
  let kafka: Kafka;
  let kadmin: Admin;
  let admin: KafkaAdmin;
  const topics: string[] = [];

  async function newTopic(partitions: number): Promise<string> {
    const name = `t-admin-${randomUUID().slice(0, 8)}`;
    topics.push(name);
    await kadmin.createTopics({
      topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    return name;
  }

  before(async () => {
    brokers = stackBrokers();
    settings = { kafkaBrokers: brokers, kafkaClientId: 'sluice-test', kafkaSsl: false, kafkaSasl: null };
    kafka = new Kafka({ clientId: 'sluice-test', brokers, logLevel: logLevel.NOTHING });
    kadmin = kafka.admin();
    await kadmin.connect();
    admin = createKafkaAdmin(settings);
  });

  after(async () => {
    await admin?.close();
    if (topics.length > 0) await kadmin?.deleteTopics({ topics }).catch(() => {});
    await kadmin?.disconnect();
  });

  test('describes a topic by id and partitions, and a topic Kafka lacks as null, in one answer', async () => {
    const topic = await newTopic(3);
    const missing = `t-admin-missing-${randomUUID().slice(0, 8)}`;
    const md = await admin.topicMetadata([topic, missing]);
    assert.equal(md.size, 2);
    assert.equal(md.get(missing), null);
    const t = md.get(topic);
    assert.ok(t);
    assert.equal(t.topic, topic);
    assert.match(t.topicId, UUID);
    assert.notEqual(t.topicId, '00000000-0000-0000-0000-000000000000');
    assert.deepEqual(t.partitions, [0, 1, 2]);
    assert.deepEqual(await admin.topicMetadata([]), new Map());
  });

  test('the topic id changes when a topic is deleted and re-created under the same name', async () => {
    const topic = await newTopic(1);
    const first = (await admin.topicMetadata([topic])).get(topic);
    assert.ok(first);
    await kadmin.deleteTopics({ topics: [topic] });
    await eventually('topic deletion', async () =>
      (await admin.topicMetadata([topic])).get(topic) === null ? true : undefined,
    );
    await eventually('re-creation', async () =>
      (await kadmin.createTopics({
        topics: [{ topic, numPartitions: 2, replicationFactor: 1 }],
        waitForLeaders: true,
      }))
        ? true
        : undefined,
    );
    const second = (await admin.topicMetadata([topic])).get(topic);
    assert.ok(second);
    assert.match(second.topicId, UUID);
    assert.notEqual(second.topicId, first.topicId);
    assert.deepEqual(second.partitions, [0, 1]);
  });

  test('offsets: earliest, latest and last stable, an open transaction holding the last stable offset back', async () => {
    const topic = await newTopic(2);
    assert.deepEqual(await admin.offsets(topic, [0, 1]), [
      { partition: 0, earliest: 0n, latest: 0n, lastStable: 0n },
      { partition: 1, earliest: 0n, latest: 0n, lastStable: 0n },
    ]);

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic, messages: [0, 1, 2, 3, 4].map((i) => ({ partition: 0, value: `v${i}` })) });
    await producer.disconnect();
    assert.deepEqual(await admin.offsets(topic, [0, 1]), [
      { partition: 0, earliest: 0n, latest: 5n, lastStable: 5n },
      { partition: 1, earliest: 0n, latest: 0n, lastStable: 0n },
    ]);

    const tx = kafka.producer({ transactionalId: `tx-${topic}`, idempotent: true, maxInFlightRequests: 1 });
    await tx.connect();
    try {
      const open = await tx.transaction();
      await open.send({ topic, messages: [0, 1, 2].map((i) => ({ partition: 0, value: `t${i}` })) });
      // Three records written, none stable: the high watermark moves, the last stable offset
      // stays at the first offset of the open transaction.
      assert.deepEqual(await admin.offsets(topic, [0]), [
        { partition: 0, earliest: 0n, latest: 8n, lastStable: 5n },
      ]);
      await open.commit();
    } finally {
      await tx.disconnect();
    }
    // The commit marker takes offset 8; the coordinator writes it after commit() returns.
    const afterCommit = await eventually('the commit marker', async () => {
      const [o] = await admin.offsets(topic, [0]);
      return o && o.lastStable === o.latest ? o : undefined;
    });
    assert.deepEqual(afterCommit, { partition: 0, earliest: 0n, latest: 9n, lastStable: 9n });

    // kafkajs finds the leader only for topics whose metadata it has fetched.
    await kadmin.fetchTopicMetadata({ topics: [topic] });
    await kadmin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '3' }] });
    assert.deepEqual(await admin.offsets(topic, [0, 1]), [
      { partition: 0, earliest: 3n, latest: 9n, lastStable: 9n },
      { partition: 1, earliest: 0n, latest: 0n, lastStable: 0n },
    ]);
  });

  test('offsets of a topic Kafka lacks: SLUICE_ERR_TOPIC_NOT_IN_KAFKA; of a partition it lacks: a validation error', async () => {
    await assert.rejects(admin.offsets(`t-admin-missing-${randomUUID().slice(0, 8)}`, [0]), (err) => {
      assert.ok(err instanceof SluiceError);
      assert.equal(err.code, ErrorCodes.TOPIC_NOT_IN_KAFKA);
      return true;
    });
    const topic = await newTopic(1);
    await assert.rejects(admin.offsets(topic, [0, 4]), (err) => {
      assert.ok(err instanceof SluiceError);
      assert.equal(err.code, ErrorCodes.VALIDATION);
      assert.match(err.message, /no partition 4/);
      return true;
    });
  });

  test('topicOffsets: metadata and every offset of many topics in one answer, a topic Kafka lacks as null', async () => {
    const a = await newTopic(3);
    const b = await newTopic(2);
    const missing = `t-admin-missing-${randomUUID().slice(0, 8)}`;
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic: a, messages: [0, 1, 2, 3].map((i) => ({ partition: 1, value: `a${i}` })) });
    await producer.send({ topic: b, messages: [0, 1].map((i) => ({ partition: 0, value: `b${i}` })) });
    await producer.disconnect();
    await kadmin.fetchTopicMetadata({ topics: [b] });
    await kadmin.deleteTopicRecords({ topic: b, partitions: [{ partition: 0, offset: '1' }] });
    const tx = kafka.producer({ transactionalId: `tx-${a}`, idempotent: true, maxInFlightRequests: 1 });
    await tx.connect();
    try {
      const open = await tx.transaction();
      await open.send({ topic: a, messages: [{ partition: 2, value: 'open' }] });
      const md = await admin.topicMetadata([a, b]);
      const answers = await admin.topicOffsets([a, missing, b]);
      assert.deepEqual([...answers.keys()].sort(), [a, b, missing].sort());
      assert.deepEqual(answers.get(missing), { metadata: null, offsets: null, error: null });
      assert.deepEqual(answers.get(a), {
        metadata: md.get(a),
        offsets: [
          { partition: 0, earliest: 0n, latest: 0n, lastStable: 0n },
          { partition: 1, earliest: 0n, latest: 4n, lastStable: 4n },
          // The open transaction's record: written, not stable.
          { partition: 2, earliest: 0n, latest: 1n, lastStable: 0n },
        ],
        error: null,
      });
      assert.deepEqual(answers.get(b), {
        metadata: md.get(b),
        offsets: [
          { partition: 0, earliest: 1n, latest: 2n, lastStable: 2n },
          { partition: 1, earliest: 0n, latest: 0n, lastStable: 0n },
        ],
        error: null,
      });
      // The same figures as asking topic by topic.
      assert.deepEqual(answers.get(b)?.offsets, await admin.offsets(b, [0, 1]));
      await open.abort();
    } finally {
      await tx.disconnect();
    }
    const down = createKafkaAdmin({ ...settings, kafkaBrokers: ['127.0.0.1:1'] }, { attempts: 2 });
    try {
      await assert.rejects(down.topicOffsets([a]), (err) => {
        assert.ok(err instanceof SluiceError);
        assert.equal(err.code, ErrorCodes.KAFKA);
        assert.match(err.message, /127\.0\.0\.1:1/);
        return true;
      });
    } finally {
      await down.close();
    }
  });

  test('topicOffsets with what was seen last: a partition whose watermark stayed keeps it, one that moved is asked afresh', async () => {
    const topic = await newTopic(2);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic, messages: [0, 1, 2].map((i) => ({ partition: 0, value: `a${i}` })) });
    await producer.send({ topic, messages: [0, 1].map((i) => ({ partition: 1, value: `b${i}` })) });
    await producer.disconnect();
    const fresh = await admin.topicOffsets([topic]);
    assert.deepEqual(fresh?.get(topic)?.offsets, [
      { partition: 0, earliest: 0n, latest: 3n, lastStable: 3n },
      { partition: 1, earliest: 0n, latest: 2n, lastStable: 2n },
    ]);
    // Partition 0 as seen, with a log start offset Kafka would not give (so that keeping it
    // shows); partition 1 seen before its last record.
    const known = new Map([
      [
        topic,
        new Map([
          [0, { partition: 0, earliest: 2n, latest: 3n, lastStable: 3n }],
          [1, { partition: 1, earliest: 0n, latest: 1n, lastStable: 1n }],
        ]),
      ],
    ]);
    const again = await admin.topicOffsets([topic], known);
    assert.deepEqual(again?.get(topic)?.offsets, [
      { partition: 0, earliest: 2n, latest: 3n, lastStable: 3n },
      { partition: 1, earliest: 0n, latest: 2n, lastStable: 2n },
    ]);
  });

  test('topicOffsets with metadataMaxAgeMs: a topic where nothing moved is answered from its last Metadata; its age or a moved watermark asks it afresh', async () => {
    const quietTopic = await newTopic(1);
    const movingTopic = await newTopic(1);
    const both = [quietTopic, movingTopic];
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      for (const topic of both) await producer.send({ topic, messages: [{ partition: 0, value: 'a' }] });
      const fresh = await admin.topicOffsets(both);
      const seen = (answer: typeof fresh) =>
        new Map(both.map((t) => [t, new Map((answer.get(t)?.offsets ?? []).map((o) => [o.partition, o]))]));
      const partitions = (answer: typeof fresh, t: string) => answer.get(t)?.metadata?.partitions;
      await kadmin.createPartitions({ topicPartitions: both.map((topic) => ({ topic, count: 2 })) });
      await eventually('the new partitions in the metadata', async () =>
        [...(await admin.topicMetadata(both)).values()].every((m) => m?.partitions.length === 2)
          ? true
          : undefined,
      );
      const quiet = await admin.topicOffsets(both, seen(fresh), { metadataMaxAgeMs: 600_000 });
      assert.deepEqual(partitions(quiet, quietTopic), [0], 'nothing moved: the last Metadata answered');
      assert.deepEqual(partitions(quiet, movingTopic), [0]);
      assert.deepEqual(quiet.get(quietTopic)?.offsets, fresh.get(quietTopic)?.offsets);

      await producer.send({ topic: movingTopic, messages: [{ partition: 0, value: 'b' }] });
      const moved = await admin.topicOffsets(both, seen(fresh), { metadataMaxAgeMs: 600_000 });
      assert.deepEqual(partitions(moved, quietTopic), [0], 'the quiet topic still from its last Metadata');
      assert.deepEqual(partitions(moved, movingTopic), [0, 1], 'the topic that moved asked afresh');
      assert.deepEqual(moved.get(movingTopic)?.offsets, [
        { partition: 0, earliest: 0n, latest: 2n, lastStable: 2n },
        { partition: 1, earliest: 0n, latest: 0n, lastStable: 0n },
      ]);

      const aged = await admin.topicOffsets(both, seen(fresh), { metadataMaxAgeMs: 0 });
      assert.deepEqual(partitions(aged, quietTopic), [0, 1], 'too old: asked afresh');
    } finally {
      await producer.disconnect();
    }
  });

  test('unreachable brokers: a retryable SLUICE_ERR_KAFKA naming the brokers and the setting to fix', async () => {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    const down = createKafkaAdmin({ ...settings, kafkaBrokers: ['127.0.0.1:1'] }, { attempts: 2 });
    try {
      await assert.rejects(down.topicMetadata(['x']), (err) => {
        assert.ok(err instanceof SluiceError);
        assert.equal(err.code, ErrorCodes.KAFKA);
        assert.equal(err.retryable, true);
        assert.match(err.message, /127\.0\.0\.1:1/);
        assert.match(err.message, /SLUICE_KAFKA_BROKERS/);
        return true;
      });
    } finally {
      await down.close();
    }
  });
});
