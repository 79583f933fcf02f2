/**
 * Smoke test of the local Kafka broker: topics, plain and transactional producing, a
 * read_committed group consumer (kafkajs), and a group-free, leader-directed read of an
 * offset range with @platformatic/kafka's `Consumer.fetch` (what the worker builds on).
 *
 * The partition this test writes, offset by offset:
 *
 *   0-2   plain-0..2          idempotent producer, no transaction
 *   3-6   committed-0..3      transaction 1, committed
 *   7     COMMIT marker
 *   8-10  aborted-0..2        transaction 2, aborted
 *   11    ABORT marker
 *   12-13 tail-0..1           idempotent producer, no transaction
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  FetchIsolationLevels,
  IS_CONTROL,
  IS_TRANSACTIONAL,
  Consumer as PlatformaticConsumer,
} from '@platformatic/kafka';
import { loadStackEnv, uniqueName } from '@sluice/test-kit';
import { type Admin, Kafka, logLevel } from 'kafkajs';

interface AbortedTransaction {
  producerId: bigint;
  firstOffset: bigint;
}

type FetchResponse = Awaited<ReturnType<PlatformaticConsumer['fetch']>>;

interface ReadRecord {
  offset: bigint;
  value: string;
}

const EXPECTED_COMMITTED: ReadRecord[] = [
  ...['plain-0', 'plain-1', 'plain-2'].map((value, i) => ({ offset: BigInt(i), value })),
  ...['committed-0', 'committed-1', 'committed-2', 'committed-3'].map((value, i) => ({
    offset: BigInt(3 + i),
    value,
  })),
  { offset: 12n, value: 'tail-0' },
  { offset: 13n, value: 'tail-1' },
];
const HIGH_WATERMARK = 14n;

/**
 * Reads the committed records of [start, end) of one partition without a consumer group:
 * Fetch requests sent straight to the partition leader, READ_COMMITTED.
 *
 * `Consumer.fetch` drops an aborted transaction's batches only when its ABORT marker is in
 * the same response (@platformatic/kafka 2.12, `#filterUncommittedMessages`); a response cut
 * off by `partitionMaxBytes` before the marker still carries the aborted records. So, as the
 * Java client does, this keeps the aborted transactions the broker lists in each response
 * across fetches and skips a transactional batch while its producer is inside one, until
 * the producer's ABORT marker. Control batches (markers) are skipped but advance the position.
 */
async function readRange(
  consumer: PlatformaticConsumer,
  topic: string,
  partition: number,
  start: bigint,
  end: bigint,
  partitionMaxBytes: number,
): Promise<{ records: ReadRecord[]; fetches: number; position: bigint }> {
  const metadata = await consumer.metadata({ topics: [topic], forceUpdate: true });
  const topicMetadata = metadata.topics.get(topic);
  assert.ok(topicMetadata, `no metadata for ${topic}`);
  const leader = topicMetadata.partitions[partition];
  assert.ok(leader, `no partition ${partition} in ${topic}`);

  const records: ReadRecord[] = [];
  const pendingAborts: AbortedTransaction[] = [];
  const seenAborts = new Set<string>();
  const abortingProducers = new Set<bigint>();
  let position = start;
  let fetches = 0;
  while (position < end) {
    fetches++;
    assert.ok(fetches < 1000, 'the range read does not advance');
    const response: FetchResponse = await consumer.fetch({
      node: leader.leader,
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      maxWaitTime: 200,
      minBytes: 1,
      maxBytes: Math.max(partitionMaxBytes, 1024),
      topics: [
        {
          topicId: topicMetadata.id,
          partitions: [
            {
              partition,
              fetchOffset: position,
              currentLeaderEpoch: leader.leaderEpoch,
              lastFetchedEpoch: -1,
              partitionMaxBytes,
            },
          ],
        },
      ],
    });
    const data = response.responses[0]?.partitions.find((p) => p.partitionIndex === partition);
    assert.ok(data, 'the fetch response lacks the partition');
    assert.equal(data.errorCode, 0, `fetch error code ${data.errorCode}`);
    for (const aborted of data.abortedTransactions ?? []) {
      const key = `${aborted.producerId}@${aborted.firstOffset}`;
      if (!seenAborts.has(key)) {
        seenAborts.add(key);
        pendingAborts.push(aborted);
      }
    }
    pendingAborts.sort((a, b) =>
      a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
    );
    const batches = data.records ?? [];
    if (batches.length === 0) {
      // Nothing readable at `position`: the range must end at or before the last stable offset.
      assert.ok(
        data.lastStableOffset > position,
        `range [${start}, ${end}) reaches past the last stable offset ${data.lastStableOffset}`,
      );
      continue;
    }
    for (const batch of batches) {
      const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta);
      if (lastOffset < position) continue; // a batch the broker returns whole, already read
      while (pendingAborts.length > 0 && pendingAborts[0]!.firstOffset <= lastOffset) {
        abortingProducers.add(pendingAborts.shift()!.producerId);
      }
      if (batch.attributes & IS_CONTROL) {
        // The control record's key: version (int16), type (int16: 0 ABORT, 1 COMMIT).
        if (batch.records[0]?.key?.readInt16BE(2) === 0) abortingProducers.delete(batch.producerId);
      } else if (!(batch.attributes & IS_TRANSACTIONAL && abortingProducers.has(batch.producerId))) {
        for (const record of batch.records) {
          const offset = batch.firstOffset + BigInt(record.offsetDelta);
          if (offset >= position && offset < end) {
            records.push({ offset, value: record.value?.toString('utf8') ?? '' });
          }
        }
      }
      // A batch may straddle `end`; the next range starts exactly at `end`.
      position = lastOffset + 1n < end ? lastOffset + 1n : end;
      if (position === end) break;
    }
  }
  return { records, fetches, position };
}

async function waitForHighWatermark(admin: Admin, topic: string, expected: bigint): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const [partition] = await admin.fetchTopicOffsets(topic);
    const high = BigInt(partition?.high ?? -1);
    if (high === expected) return;
    assert.ok(high < expected && Date.now() < deadline, `high watermark ${high}, expected ${expected}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('kafka (local stack)', () => {
  const topic = uniqueName('smoke-kafka');
  const groupId = uniqueName('smoke-group');
  let brokers: string[];
  let kafka: Kafka;
  let admin: Admin | undefined;

  before(async () => {
    // In the hook, not the suite body: a missing stack fails every test instead of none.
    brokers = loadStackEnv().SLUICE_KAFKA_BROKERS.split(',');
    kafka = new Kafka({
      clientId: 'sluice-smoke',
      brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 5, initialRetryTime: 200 },
    });
    admin = kafka.admin();
    await admin.connect();
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    assert.equal(created, true, `topic ${topic} was not created`);

    const plain = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await plain.connect();
    await plain.send({ topic, messages: ['plain-0', 'plain-1', 'plain-2'].map((value) => ({ value })) });

    const transactional = kafka.producer({
      transactionalId: uniqueName('smoke-tx'),
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await transactional.connect();
    const committed = await transactional.transaction();
    await committed.send({
      topic,
      messages: ['committed-0', 'committed-1', 'committed-2', 'committed-3'].map((value) => ({ value })),
    });
    await committed.commit();
    // EndTxn returns before the coordinator has written the markers; wait for the COMMIT
    // marker so that the next records land at the offsets laid out above.
    await waitForHighWatermark(admin, topic, 8n);
    const aborted = await transactional.transaction();
    await aborted.send({
      topic,
      messages: ['aborted-0', 'aborted-1', 'aborted-2'].map((value) => ({ value })),
    });
    await aborted.abort();
    await waitForHighWatermark(admin, topic, 12n);
    await transactional.disconnect();

    await plain.send({ topic, messages: ['tail-0', 'tail-1'].map((value) => ({ value })) });
    await plain.disconnect();
  });

  after(async () => {
    await admin?.deleteGroups([groupId]).catch(() => {});
    await admin?.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin?.disconnect();
  });

  test('the partition holds data, markers and the tail up to the expected high watermark', async () => {
    const [offsets] = await admin!.fetchTopicOffsets(topic);
    assert.equal(BigInt(offsets?.high ?? -1), HIGH_WATERMARK);
  });

  test('a read_committed group consumer (kafkajs) sees the committed records only', async () => {
    const consumer = kafka.consumer({ groupId, readUncommitted: false, allowAutoTopicCreation: false });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const seen: ReadRecord[] = [];
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`read ${seen.length} records before the timeout`)),
          30_000,
        );
        consumer
          .run({
            eachMessage: async ({ message }) => {
              seen.push({ offset: BigInt(message.offset), value: message.value?.toString('utf8') ?? '' });
              if (BigInt(message.offset) === HIGH_WATERMARK - 1n) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch(reject);
      });
      assert.deepEqual(seen, EXPECTED_COMMITTED);
    } finally {
      await consumer.disconnect();
    }
  });

  test('Consumer.fetch reads an offset range group-free, committed records only, in order', async () => {
    const consumer = new PlatformaticConsumer({
      clientId: 'sluice-smoke-range',
      // Required by the options schema; fetch() never joins or commits to this group.
      groupId: uniqueName('smoke-unused-group'),
      bootstrapBrokers: brokers,
      retries: 3,
    });
    try {
      const whole = await readRange(consumer, topic, 0, 0n, HIGH_WATERMARK, 1024 * 1024);
      assert.deepEqual(whole.records, EXPECTED_COMMITTED);
      assert.equal(whole.position, HIGH_WATERMARK);

      // A range that starts inside the plain records, spans both transactions and ends
      // inside the tail: exactly its committed records, and the position reaches its end.
      const expected = EXPECTED_COMMITTED.filter((r) => r.offset >= 2n && r.offset < 13n);
      const middle = await readRange(consumer, topic, 0, 2n, 13n, 1024 * 1024);
      assert.deepEqual(middle.records, expected);
      assert.equal(middle.position, 13n);

      // One batch per response (partitionMaxBytes of 1 byte: the broker still returns the
      // first batch whole): the aborted batch and its ABORT marker arrive in different fetches.
      const small = await readRange(consumer, topic, 0, 2n, 13n, 1);
      assert.deepEqual(small.records, expected);
      assert.equal(small.position, 13n);
      assert.ok(small.fetches >= 5, `expected one batch per fetch, got ${small.fetches} fetches`);

      // A range that holds nothing but the aborted transaction and its marker: empty, yet done.
      const abortedOnly = await readRange(consumer, topic, 0, 8n, 12n, 1);
      assert.deepEqual(abortedOnly.records, []);
      assert.equal(abortedOnly.position, 12n);
    } finally {
      await consumer.close();
    }
  });
});
