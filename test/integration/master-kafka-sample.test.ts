/**
 * The registration sample against the real Kafka of the local stack: it reads through the
 * worker's read_committed filter, so an aborted transaction's records and the transaction
 * markers never show in a sample, even when the ABORT marker is in a later answer.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createKafkaAdmin, type KafkaAdmin } from '@sluice/shared';
import { loadStackEnv } from '@sluice/test-kit';
import { type Admin, Kafka, logLevel, type Message, type Producer } from 'kafkajs';
import { type PartitionSample, sampleRecords } from '../../packages/master/src/kafka/kafka-sample.ts';

let kafka: Kafka;
let kadmin: Admin;
let producer: Producer;
let tx: Producer;
let admin: KafkaAdmin;
const topic = `t-sample-${randomUUID().slice(0, 8)}`;
const settings = () => ({
  kafkaBrokers: loadStackEnv().SLUICE_KAFKA_BROKERS.split(','),
  kafkaClientId: 'sluice-test',
  kafkaSsl: false,
  kafkaSasl: null,
});

/** One send per message (one batch each), then the outcome, then its marker is written. */
async function inTransaction(messages: Message[], outcome: 'commit' | 'abort'): Promise<void> {
  const t = await tx.transaction();
  for (const m of messages) await t.send({ topic, messages: [m] });
  await (outcome === 'commit' ? t.commit() : t.abort());
  const until = Date.now() + 30_000;
  for (;;) {
    const [o] = await admin.offsets(topic, [0]);
    if (o && o.lastStable === o.latest) return;
    if (Date.now() > until) throw new Error(`a transaction on ${topic} stayed open`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const values = (s: PartitionSample | undefined) =>
  (s?.records ?? []).map((r) => `${r.offset}:${r.value?.toString() ?? 'null'}`);

before(async () => {
  kafka = new Kafka({
    clientId: 'sluice-test',
    brokers: settings().kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  kadmin = kafka.admin();
  await kadmin.connect();
  await kadmin.createTopics({
    topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  admin = createKafkaAdmin(settings());
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  tx = kafka.producer({ transactionalId: `tx-${topic}`, idempotent: true, maxInFlightRequests: 1 });
  await tx.connect();
});

after(async () => {
  await tx?.disconnect().catch(() => {});
  await producer?.disconnect().catch(() => {});
  await admin?.close();
  await kadmin?.deleteTopics({ topics: [topic] }).catch(() => {});
  await kadmin?.disconnect();
});

test('a sample never shows an aborted transaction’s records nor markers, whole or cut into one batch per answer', async () => {
  await producer.send({ topic, messages: [{ value: 'plain0' }] }); // 0
  await inTransaction([{ value: 'c0' }, { value: 'c1' }], 'commit'); // 1-2, marker 3
  await inTransaction([{ value: 'a0' }, { value: 'a1' }], 'abort'); // 4-5, marker 6
  await inTransaction([{ value: 'a2' }], 'abort'); // 7, marker 8 (the same producer aborts again)
  await inTransaction([{ value: 'c2' }], 'commit'); // 9, marker 10
  await producer.send({ topic, messages: [{ value: 'plain1' }] }); // 11

  const [whole] = await sampleRecords(settings(), topic, [{ partition: 0, offset: 0n }]);
  assert.equal(whole?.error, null);
  assert.deepEqual(values(whole), ['0:plain0', '1:c0', '2:c1', '9:c2', '11:plain1']);

  // One batch per answer: the aborted records arrive before their ABORT marker does.
  for (const offset of [4n, 5n, 7n]) {
    const [cut] = await sampleRecords(settings(), topic, [{ partition: 0, offset }], { maxBytes: 1 });
    assert.equal(cut?.error, null, `sample at ${offset}`);
    assert.deepEqual(values(cut), [], `sample at ${offset}`);
  }
  const [fromMiddle] = await sampleRecords(settings(), topic, [{ partition: 0, offset: 2n }]);
  assert.deepEqual(values(fromMiddle), ['2:c1', '9:c2', '11:plain1']);
});
