/**
 * The range reader against the real Kafka of the local stack (`npm run stack:up`); fails when
 * the stack is not there. Each test makes its own topic (kafkajs) and deletes it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createKafkaAdmin, ErrorCodes, type KafkaAdmin, SluiceError } from '@sluice/shared';
import { loadStackEnv } from '@sluice/test-kit';
import { type Admin, CompressionTypes, Kafka, logLevel, type Message, type Producer } from 'kafkajs';
import { pino } from 'pino';
import {
  createRangeReader,
  type RangeReader,
  type ReadBatch,
  type ReadRange,
} from '../../packages/worker/src/range-reader.ts';
import { KafkaFrontProxy } from '../helpers/kafka-front-proxy.ts';

/** The stack's brokers; throws (the test fails) when the stack is not running. */
function stackBrokers(): string[] {
  return loadStackEnv().SLUICE_KAFKA_BROKERS.split(',');
}

async function readAll(reader: RangeReader, range: ReadRange, signal?: AbortSignal): Promise<ReadBatch[]> {
  const out: ReadBatch[] = [];
  for await (const b of reader.read(range, signal)) out.push(b);
  return out;
}

const values = (batches: ReadBatch[]) =>
  batches.flatMap((b) => b.records.map((r) => `${r.offset}:${r.value?.toString() ?? 'null'}`));

describe('RangeReader (real Kafka)', () => {
  let brokers: string[];
  let kafka: Kafka;
  let kadmin: Admin;
  let producer: Producer;
  let admin: KafkaAdmin;
  let reader: RangeReader;
  const topics: string[] = [];
  const txProducers: Producer[] = [];

  const settings = () => ({
    kafkaBrokers: brokers,
    kafkaClientId: 'sluice-test',
    kafkaSsl: false,
    kafkaSasl: null,
    fetchMaxBytes: 1024 * 1024,
  });

  /** A one-partition topic; returns what a range needs. */
  async function newTopic(configEntries: Array<{ name: string; value: string }> = []) {
    const topic = `t-reader-${randomUUID().slice(0, 8)}`;
    topics.push(topic);
    await kadmin.createTopics({
      topics: [{ topic, numPartitions: 1, replicationFactor: 1, configEntries }],
      waitForLeaders: true,
    });
    const md = (await admin.topicMetadata([topic])).get(topic);
    assert.ok(md);
    return { topic, topicId: md.topicId, partition: 0 };
  }

  async function txProducer(topic: string): Promise<Producer> {
    const p = kafka.producer({ transactionalId: `tx-${topic}`, idempotent: true, maxInFlightRequests: 1 });
    await p.connect();
    txProducers.push(p);
    return p;
  }

  async function inTransaction(p: Producer, topic: string, messages: Message[], outcome: 'commit' | 'abort') {
    const tx = await p.transaction();
    // One send per message: one batch each, so the ABORT marker can land in a later fetch.
    for (const m of messages) await tx.send({ topic, messages: [m] });
    await (outcome === 'commit' ? tx.commit() : tx.abort());
    // The coordinator writes the COMMIT/ABORT marker after commit()/abort() return; wait for
    // it, so that what is produced next lands after it and the offsets below are exact.
    await noOpenTransaction(topic);
  }

  async function noOpenTransaction(topic: string): Promise<void> {
    const until = Date.now() + 30_000;
    for (;;) {
      const [o] = await admin.offsets(topic, [0]);
      if (o && o.lastStable === o.latest) return;
      if (Date.now() > until)
        throw new Error(
          `a transaction on ${topic} stayed open (last stable ${o?.lastStable}, high watermark ${o?.latest})`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function lastStable(topic: string): Promise<bigint> {
    const [o] = await admin.offsets(topic, [0]);
    assert.ok(o);
    return o.lastStable;
  }

  before(async () => {
    brokers = stackBrokers();
    kafka = new Kafka({ clientId: 'sluice-test', brokers, logLevel: logLevel.NOTHING });
    kadmin = kafka.admin();
    await kadmin.connect();
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    admin = createKafkaAdmin({ ...settings() });
    reader = createRangeReader(settings());
  });

  after(async () => {
    await reader?.close();
    await admin?.close();
    for (const p of txProducers) await p.disconnect().catch(() => {});
    await producer?.disconnect();
    if (topics.length > 0) await kadmin?.deleteTopics({ topics }).catch(() => {});
    await kadmin?.disconnect();
  });

  test('reads exactly [start, end): keys, tombstones, timestamps and repeated headers in order', async () => {
    const t = await newTopic();
    await producer.send({
      topic: t.topic,
      messages: [
        { key: 'k0', value: 'v0', timestamp: '1700000000000' },
        { key: 'k1', value: null, timestamp: '1700000000001' },
        {
          key: null,
          value: 'v2',
          timestamp: '1700000000002',
          headers: { h: ['first', 'second'], other: 'x' },
        },
        { key: 'k3', value: Buffer.alloc(0), timestamp: '1700000000003' },
        { key: 'k4', value: 'v4', timestamp: '1700000000004' },
      ],
    });
    const batches = await readAll(reader, { ...t, start: 1n, end: 4n });
    const records = batches.flatMap((b) => b.records);
    assert.deepEqual(
      records.map((r) => r.offset),
      [1n, 2n, 3n],
    );
    assert.equal(batches.at(-1)?.nextOffset, 4n);
    const [tomb, withHeaders, empty] = records;
    assert.equal(tomb?.key?.toString(), 'k1');
    assert.equal(tomb?.value, null, 'a tombstone keeps its null value');
    assert.equal(tomb?.timestamp, 1700000000001n);
    assert.equal(withHeaders?.key, null);
    assert.deepEqual(
      withHeaders?.headers.map(([k, v]) => [k.toString(), v?.toString()]),
      [
        ['h', 'first'],
        ['h', 'second'],
        ['other', 'x'],
      ],
    );
    assert.equal(empty?.value?.length, 0, 'an empty value is not a tombstone');
    assert.ok(batches.every((b) => b.gap === undefined));

    // The same reader reads again (connections are reused), and an empty range yields nothing.
    assert.deepEqual(values(await readAll(reader, { ...t, start: 0n, end: 5n })), [
      '0:v0',
      '1:null',
      '2:v2',
      '3:',
      '4:v4',
    ]);
    assert.deepEqual(await readAll(reader, { ...t, start: 2n, end: 2n }), []);
  });

  test('a range in the middle of a compressed batch is clipped to [start, end)', async () => {
    const t = await newTopic();
    await producer.send({
      topic: t.topic,
      compression: CompressionTypes.GZIP,
      messages: Array.from({ length: 10 }, (_, i) => ({ value: `m${i}` })),
    });
    const batches = await readAll(reader, { ...t, start: 3n, end: 7n });
    assert.deepEqual(values(batches), ['3:m3', '4:m4', '5:m5', '6:m6']);
    assert.equal(batches.at(-1)?.nextOffset, 7n);
  });

  test('committed and aborted transactions: aborted records never appear, markers are skipped, the position reaches end', async () => {
    const t = await newTopic();
    const tx = await txProducer(t.topic);
    await producer.send({ topic: t.topic, messages: [{ value: 'plain0' }, { value: 'plain1' }] }); // 0-1
    await inTransaction(tx, t.topic, [{ value: 'c0' }, { value: 'c1' }], 'commit'); // 2-3, marker 4
    await inTransaction(tx, t.topic, [{ value: 'a0' }, { value: 'a1' }], 'abort'); // 5-6, marker 7
    // The same producer aborts again: @platformatic/kafka's own filter keeps one aborted
    // transaction per producer and lets the first one through.
    await inTransaction(tx, t.topic, [{ value: 'a2' }], 'abort'); // 8, marker 9
    await inTransaction(tx, t.topic, [{ value: 'c2' }], 'commit'); // 10, marker 11
    await producer.send({ topic: t.topic, messages: [{ value: 'plain2' }] }); // 12
    const end = await lastStable(t.topic);
    assert.equal(end, 13n);
    const expected = ['0:plain0', '1:plain1', '2:c0', '3:c1', '10:c2', '12:plain2'];
    const batches = await readAll(reader, { ...t, start: 0n, end });
    assert.deepEqual(values(batches), expected);
    assert.equal(batches.at(-1)?.nextOffset, end);

    // Fetches cut after one batch each: the ABORT markers arrive in later answers than the
    // aborted records, and the records still must not appear.
    const small = createRangeReader({ ...settings(), fetchMaxBytes: 1 });
    try {
      assert.deepEqual(values(await readAll(small, { ...t, start: 0n, end })), expected);
      // A range that holds only an aborted transaction and its marker: no records, but done.
      const onlyAborted = await readAll(small, { ...t, start: 5n, end: 10n });
      assert.deepEqual(values(onlyAborted), []);
      assert.equal(onlyAborted.at(-1)?.nextOffset, 10n);
    } finally {
      await small.close();
    }
  });

  test('offsets missing inside a range (markers, aborted records) end it at end, not after a count', async () => {
    const t = await newTopic();
    const tx = await txProducer(t.topic);
    await inTransaction(tx, t.topic, [{ value: 'x0' }, { value: 'x1' }, { value: 'x2' }], 'abort'); // 0-2, marker 3
    await producer.send({ topic: t.topic, messages: [{ value: 'after' }] }); // 4
    const end = await lastStable(t.topic);
    // [1, 5): offsets 1-3 hold nothing a reader may see; only offset 4 does.
    const batches = await readAll(reader, { ...t, start: 1n, end });
    assert.deepEqual(values(batches), ['4:after']);
    assert.equal(batches.at(-1)?.nextOffset, end);
    // [0, 4): nothing at all, and the read still ends.
    const none = await readAll(reader, { ...t, start: 0n, end: 4n });
    assert.deepEqual(values(none), []);
    assert.equal(none.at(-1)?.nextOffset, 4n);
  });

  test('retention: a start below the log start offset is reported as a gap, the rest is read', async () => {
    const t = await newTopic();
    await producer.send({
      topic: t.topic,
      messages: Array.from({ length: 10 }, (_, i) => ({ value: `r${i}` })),
    });
    await kadmin.fetchTopicMetadata({ topics: [t.topic] }); // kafkajs needs it to find the leader
    await kadmin.deleteTopicRecords({ topic: t.topic, partitions: [{ partition: 0, offset: '6' }] });

    const batches = await readAll(reader, { ...t, start: 0n, end: 10n });
    assert.deepEqual(batches[0], {
      records: [],
      nextOffset: 6n,
      gap: { start: 0n, end: 6n, cause: 'retention' },
    });
    assert.deepEqual(values(batches), ['6:r6', '7:r7', '8:r8', '9:r9']);
    assert.equal(batches.at(-1)?.nextOffset, 10n);

    // A range wholly deleted: one gap, up to its end, no records.
    assert.deepEqual(await readAll(reader, { ...t, start: 2n, end: 5n }), [
      { records: [], nextOffset: 5n, gap: { start: 2n, end: 5n, cause: 'retention' } },
    ]);
  });

  test('a topic deleted and re-created under the same name: SLUICE_ERR_TOPIC_RECREATED, not retryable', async () => {
    const t = await newTopic();
    await producer.send({ topic: t.topic, messages: [{ value: 'old' }] });
    assert.deepEqual(values(await readAll(reader, { ...t, start: 0n, end: 1n })), ['0:old']);
    await kadmin.deleteTopics({ topics: [t.topic] });
    const until = Date.now() + 30_000;
    for (;;) {
      try {
        if (
          await kadmin.createTopics({ topics: [{ topic: t.topic, numPartitions: 1 }], waitForLeaders: true })
        )
          break;
      } catch (err) {
        if (Date.now() > until) throw err;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    await producer.send({ topic: t.topic, messages: [{ value: 'new' }] });
    await assert.rejects(readAll(reader, { ...t, start: 0n, end: 1n }), (err) => {
      assert.ok(err instanceof SluiceError);
      assert.equal(err.code, ErrorCodes.TOPIC_RECREATED);
      assert.equal(err.retryable, false);
      assert.match(err.message, new RegExp(t.topicId));
      return true;
    });
  });

  test('never hangs: an abort ends a read at once, and a range beyond what Kafka has fails', async () => {
    const t = await newTopic();
    await producer.send({ topic: t.topic, messages: [{ value: 'only' }] });

    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(new Error('worker stopping')), 300);
    await assert.rejects(readAll(reader, { ...t, start: 0n, end: 100n }, ac.signal), /worker stopping/);
    assert.ok(Date.now() - started < 5_000, 'the abort was honoured promptly');

    const impatient = createRangeReader(settings(), undefined, { stallTimeoutMs: 1_000, maxWaitMs: 200 });
    try {
      await assert.rejects(readAll(impatient, { ...t, start: 0n, end: 100n }), (err) => {
        assert.ok(err instanceof SluiceError);
        assert.equal(err.code, ErrorCodes.KAFKA);
        assert.equal(err.retryable, true);
        assert.match(err.message, /no record at offset 1 /);
        return true;
      });
    } finally {
      await impatient.close();
    }
  });

  test('a topic Kafka does not have: SLUICE_ERR_TOPIC_NOT_IN_KAFKA after a few tries', async () => {
    const r = createRangeReader(settings(), undefined, { unknownTopicAttempts: 2 });
    try {
      await assert.rejects(
        readAll(r, {
          topic: `t-reader-missing-${randomUUID().slice(0, 8)}`,
          topicId: randomUUID(),
          partition: 0,
          start: 0n,
          end: 1n,
        }),
        (err) => {
          assert.ok(err instanceof SluiceError);
          assert.equal(err.code, ErrorCodes.TOPIC_NOT_IN_KAFKA);
          return true;
        },
      );
    } finally {
      await r.close();
    }
  });
});

describe('RangeReader across a broker restart and leader errors (real Kafka behind a proxy)', () => {
  test('connections cut mid-read and refused for a while, then NOT_LEADER_OR_FOLLOWER: the read resumes where it was, nothing lost or repeated', async () => {
    const brokers = stackBrokers();
    const kafka = new Kafka({ clientId: 'sluice-test', brokers, logLevel: logLevel.NOTHING });
    const kadmin = kafka.admin();
    await kadmin.connect();
    const topic = `t-reader-${randomUUID().slice(0, 8)}`;
    const proxy = await KafkaFrontProxy.start(brokers[0] as string);
    const cfg = {
      kafkaBrokers: [proxy.address],
      kafkaClientId: 'sluice-test',
      kafkaSsl: false,
      kafkaSasl: null,
    };
    const admin = createKafkaAdmin(cfg);
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
    const reader = createRangeReader({ ...cfg, fetchMaxBytes: 64 * 1024 }, log);
    try {
      await kadmin.createTopics({
        topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      const producer = kafka.producer();
      await producer.connect();
      const total = 20_000;
      for (let i = 0; i < total; i += 2_000) {
        await producer.send({
          topic,
          messages: Array.from({ length: 2_000 }, (_, j) => ({ value: `r${i + j}`.padEnd(100, '.') })),
        });
      }
      await producer.disconnect();
      const md = (await admin.topicMetadata([topic])).get(topic);
      assert.ok(md);

      const seen: bigint[] = [];
      let batches = 0;
      for await (const b of reader.read({
        topic,
        topicId: md.topicId,
        partition: 0,
        start: 0n,
        end: BigInt(total),
      })) {
        for (const r of b.records) {
          assert.equal(r.value?.toString().replace(/\.+$/, ''), `r${r.offset}`);
          seen.push(r.offset);
        }
        batches++;
        if (batches === 3) proxy.cut(1_500);
        // Then the "broker" says it is no longer the leader, three times in a row.
        if (batches === 8) proxy.failFetches(3, 6);
      }
      assert.ok(proxy.cuts > 0, 'the proxy cut connections');
      assert.ok((proxy.requests.get(1) ?? 0) > 3, 'the fetches went through the proxy');
      assert.ok(
        warnings.some((w) => w.includes('Connection closed')),
        'the reader retried after the cut',
      );
      assert.equal(
        warnings.filter((w) => w.includes('NOT_LEADER_OR_FOLLOWER')).length,
        3,
        'the reader refreshed the leader and retried after each NOT_LEADER_OR_FOLLOWER',
      );
      assert.equal(seen.length, total);
      assert.ok(
        seen.every((o, i) => o === BigInt(i)),
        'every offset once, in order',
      );
    } finally {
      await reader.close();
      await admin.close();
      await kadmin.deleteTopics({ topics: [topic] }).catch(() => {});
      await kadmin.disconnect();
      await proxy.close();
    }
  });
});
