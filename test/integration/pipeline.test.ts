/**
 * The pipeline end to end on the real local stack: a master and two workers (real
 * processes) move topics registered through the REST API into S3, exactly once.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { apiClient } from '../helpers/api.ts';
import { waitCommitted } from '../helpers/end-check.ts';
import { createTopic, highWatermarks, kafkaClient } from '../helpers/kafka.ts';
import { type SluiceProcess, TestCluster, uniqueName, waitFor } from '../helpers/processes.ts';
import { hourFolder, makeEvents, type ProducedRecord, verifyExactlyOnce } from '../helpers/records.ts';
import { createBucket, getBytes, listAll, s3Client } from '../helpers/s3.ts';

const kafka = kafkaClient();
const s3 = s3Client();

async function produceAll(producer: import('kafkajs').Producer, topic: string, records: ProducedRecord[]) {
  for (let i = 0; i < records.length; i += 2000) {
    const slice = records.slice(i, i + 2000);
    await producer.send({
      topic,
      messages: slice.map((r) => ({
        partition: r.partition,
        key: r.key,
        value: r.value,
        headers: toHeaders(r.headers),
      })),
    });
  }
}

function toHeaders(h: Array<[string, string]>): Record<string, string[]> {
  // kafkajs sends a header key with an array value as repeated headers, in order.
  const out: Record<string, string[]> = {};
  for (const [k, v] of h) {
    out[k] = [...(out[k] ?? []), v];
  }
  return out;
}

describe('pipeline', () => {
  const cluster = new TestCluster({ name: 'pipeline' });
  const bucket = uniqueName('it-pipeline').toLowerCase();
  let master: SluiceProcess;
  let api: ReturnType<typeof apiClient>;
  let dropBucket: () => Promise<void>;

  before(async () => {
    dropBucket = (await createBucket(s3, bucket)).delete;
    // Hour folders are finalized on the first pass only: the checks below list the topic's
    // objects and expect data objects and commit records, so a later pass under load must not
    // add `_SUCCESS` markers while the test still runs.
    master = await cluster.startMaster({ SLUICE_FINALIZE_INTERVAL_MS: '3600000' });
    await cluster.startWorker({ SLUICE_WORKER_CONCURRENCY: '2' });
    await cluster.startWorker({ SLUICE_WORKER_CONCURRENCY: '2' });
    api = apiClient(master.url, cluster.token);
  });

  after(async () => {
    await cluster.stopAll();
    await dropBucket?.();
  });

  test('200,000 JSON events over 8 partitions land in their event-time hour folders exactly once', async () => {
    const topic = uniqueName('events');
    const t = await createTopic(kafka, topic, 8);
    try {
      // Event times spread over three hours that cross midnight UTC.
      const startMs = Date.parse('2026-11-24T22:30:00Z');
      const produced = makeEvents(200_000, {
        startMs,
        spanMs: 3 * 3600_000,
        partitions: 8,
        tombstoneEvery: 101,
      });
      await produceAll(t.producer, topic, produced);
      const hw = await highWatermarks(t.admin, topic);
      assert.equal(
        [...hw.values()].reduce((a, b) => a + b, 0n),
        200_000n,
      );

      const res = await api.post('/api/v1/topics', {
        topic,
        destination: { bucket, prefix: 'logs/raw' },
        format: 'jsonl',
        compression: 'gzip',
        partitionBy: { kind: 'event-time', field: 'event.ts', granularity: 'hour' },
        maxRangeMessages: 6000,
        flushIntervalMs: 1000,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.topic, topic);
      assert.equal(res.body.startFrom, 'earliest');

      await waitCommitted(api, topic, hw);
      await verifyExactlyOnce({
        s3,
        bucket,
        prefix: 'logs/raw',
        topic,
        produced,
        highWatermarks: hw,
        folderOf: (line, p) => hourFolder(p.eventMs ?? line.timestamp),
        checkLineText: (text, p) => {
          if (p.value !== null)
            assert.match(text, /"big":1234567890123456789\d[,}]/, 'big integers keep their digits');
        },
      });
      // The three hours cross midnight: folders of two days exist.
      const keys = (await listAll(s3, bucket, `logs/raw/${topic}/`)).map((o) => o.key);
      assert.ok(keys.some((k) => k.includes('/dt=2026-11-24/hr=23/')));
      assert.ok(keys.some((k) => k.includes('/dt=2026-11-25/hr=00/')));
      assert.ok(
        keys.every((k) =>
          /\.jsonl\.gz$|\/_sluice\/commits\/partition=\d+\/\d{20}-\d{20}\.json$|\/_sluice\/config\.json$/.test(
            k,
          ),
        ),
        'only data objects, commit records and the config object',
      );
    } finally {
      await t.delete();
    }
  });

  test('a raw topic without compression, and a retry of a completed range leaves every object as it was', async () => {
    const topic = uniqueName('rawlogs');
    const t = await createTopic(kafka, topic, 2);
    try {
      const produced = makeEvents(3000, { startMs: Date.now(), spanMs: 1000, partitions: 2 });
      await produceAll(t.producer, topic, produced);
      const hw = await highWatermarks(t.admin, topic);
      const res = await api.post('/api/v1/topics', {
        topic,
        destination: { bucket, prefix: 'raw' },
        format: 'raw',
        compression: 'none',
        partitionBy: { kind: 'none' },
        maxRangeMessages: 1000,
        flushIntervalMs: 500,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      await waitCommitted(api, topic, hw);
      const objects = (await listAll(s3, bucket, `raw/${topic}/`)).filter(
        (o) => !o.key.includes('/_sluice/'),
      );
      assert.ok(
        objects.every((o) => /^raw\/[^/]+\/[^/]+-\d-\d{20}-\d{20}\.txt$/.test(o.key)),
        objects.map((o) => o.key).join(),
      );
      const lines = new Set<string>();
      for (const o of objects) {
        for (const l of (await getBytes(s3, bucket, o.key)).toString('utf8').split('\n')) if (l) lines.add(l);
      }
      assert.equal(lines.size, produced.length, 'each value once, as its raw bytes');
      for (const p of produced) assert.ok(lines.has(p.value!), `value of ${p.key}`);

      // Run a completed range's job again: nothing may change.
      const before = new Map<string, string>();
      for (const o of await listAll(s3, bucket, `raw/${topic}/`)) {
        before.set(
          o.key,
          createHash('sha256')
            .update(await getBytes(s3, bucket, o.key))
            .digest('hex') + String(o.lastModified?.getTime()),
        );
      }
      const { Queue } = await import('bullmq');
      const queue = new Queue('ranges', {
        prefix: cluster.queuePrefix,
        connection: { url: cluster.env.SLUICE_REDIS_URL },
      });
      const first = objects[0]!.key.match(/-(\d)-(\d{20})-(\d{20})\.txt$/)!;
      const [partition, start, end] = [
        Number(first[1]),
        BigInt(first[2]!).toString(),
        BigInt(first[3]!).toString(),
      ];
      const topicRec = (await api.get(`/api/v1/topics/${topic}`)).body;
      const job = await queue.add(
        'range',
        {
          v: 1,
          topic,
          topicId: topicRec.topicId,
          partition,
          start,
          end,
          attempt: 1,
          output: {
            destination: topicRec.destination,
            format: topicRec.format,
            compression: topicRec.compression,
            partitionBy: topicRec.partitionBy,
            serverSideEncryption: topicRec.serverSideEncryption,
            kmsKeyId: topicRec.kmsKeyId,
            storageClass: topicRec.storageClass,
          },
          plannedAt: new Date().toISOString(),
        },
        { jobId: `${topic}-${partition}-${start}-${end}-again` },
      );
      await waitFor('the repeated job to finish', async () => {
        const state = await job.getState();
        return state === 'completed' || state === 'unknown' || state === 'failed' ? state : false;
      });
      await queue.close();
      for (const o of await listAll(s3, bucket, `raw/${topic}/`)) {
        const now =
          createHash('sha256')
            .update(await getBytes(s3, bucket, o.key))
            .digest('hex') + String(o.lastModified?.getTime());
        assert.equal(now, before.get(o.key), `${o.key} changed after a retry of a completed range`);
      }
      assert.equal((await listAll(s3, bucket, `raw/${topic}/`)).length, before.size);
    } finally {
      await t.delete();
    }
  });
  test('a compacted topic with offset gaps is taken whole, up to its high watermark', async () => {
    const topic = uniqueName('compacted');
    const t = await createTopic(kafka, topic, 1, [
      { name: 'cleanup.policy', value: 'compact' },
      { name: 'segment.ms', value: '500' },
      { name: 'min.cleanable.dirty.ratio', value: '0.001' },
      { name: 'min.compaction.lag.ms', value: '0' },
      { name: 'delete.retention.ms', value: '100' },
    ]);
    try {
      const latest = new Map<string, ProducedRecord>();
      for (let round = 0; round < 5; round++) {
        const batch: ProducedRecord[] = [];
        for (let k = 0; k < 100; k++) {
          const r: ProducedRecord = {
            key: `user-${k}`,
            value: JSON.stringify({ user: k, round }),
            headers: [['round', String(round)]],
            eventMs: null,
            partition: 0,
          };
          batch.push(r);
          latest.set(r.key, r);
        }
        await produceAll(t.producer, topic, batch);
      }
      await new Promise((r) => setTimeout(r, 1500));
      // New keys only: they roll the segment so the cleaner can compact the old one.
      const tail: ProducedRecord[] = [];
      for (let k = 0; k < 10; k++)
        tail.push({
          key: `tail-${k}`,
          value: JSON.stringify({ tail: k }),
          headers: [],
          eventMs: null,
          partition: 0,
        });
      await produceAll(t.producer, topic, tail);
      for (const r of tail) latest.set(r.key, r);
      const hw = await highWatermarks(t.admin, topic);
      assert.equal(hw.get(0), 510n);

      // Wait until the log cleaner has really removed the overwritten records.
      await waitFor(
        'the log cleaner to compact the topic',
        async () => {
          const consumer = kafka.consumer({ groupId: uniqueName('count') });
          await consumer.connect();
          await consumer.subscribe({ topic, fromBeginning: true });
          let n = 0;
          await consumer.run({
            eachMessage: async () => {
              n++;
            },
          });
          await new Promise((r) => setTimeout(r, 2500));
          await consumer.disconnect();
          return n > 0 && n < 510 ? n : false;
        },
        90_000,
        1000,
      );

      const res = await api.post('/api/v1/topics', {
        topic,
        destination: { bucket, prefix: 'compacted' },
        partitionBy: { kind: 'none' },
        maxRangeMessages: 64,
        flushIntervalMs: 500,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      await waitCommitted(api, topic, hw);
      const lines = await verifyExactlyOnce({
        s3,
        bucket,
        prefix: 'compacted',
        topic,
        produced: [...latest.values()],
        highWatermarks: hw,
        allowOffsetGaps: true,
      }).catch(async (err) => {
        // Compaction keeps the latest record of each key; records it has not reached yet may remain.
        throw err;
      });
      for (const [key, line] of lines) assert.deepEqual(line.value, JSON.parse(latest.get(key)!.value!));
    } finally {
      await t.delete();
    }
  });

  test('aborted transactions are not written, and no range reaches past the last stable offset', async () => {
    const topic = uniqueName('txn');
    const t = await createTopic(kafka, topic, 1);
    const producer = kafka.producer({
      transactionalId: uniqueName('tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    try {
      const committed: ProducedRecord[] = [];
      const mk = (tag: string, n: number) =>
        Array.from(
          { length: n },
          (_, i): ProducedRecord => ({
            key: `${tag}-${i}`,
            value: JSON.stringify({ tag, i }),
            headers: [],
            eventMs: null,
            partition: 0,
          }),
        );
      const sendTx = async (records: ProducedRecord[], commit: boolean) => {
        const tx = await producer.transaction();
        await tx.send({
          topic,
          messages: records.map((r) => ({ partition: 0, key: r.key, value: r.value })),
        });
        if (commit) await tx.commit();
        else await tx.abort();
      };
      const a = mk('a', 100);
      await sendTx(a, true);
      await sendTx(mk('aborted', 50), false);
      const b = mk('b', 100);
      await sendTx(b, true);
      committed.push(...a, ...b);
      // 100 + marker + 50 aborted + marker + 100 + marker; markers land just after commit()/abort() return.
      const lso = await waitFor('the transaction markers to be written', async () => {
        const hw = (await highWatermarks(t.admin, topic)).get(0)!;
        return hw === 253n ? hw : false;
      });
      // An open transaction holds the last stable offset back.
      const open = await producer.transaction();
      const c = mk('c', 20);
      await open.send({ topic, messages: c.map((r) => ({ partition: 0, key: r.key, value: r.value })) });

      const res = await api.post('/api/v1/topics', {
        topic,
        destination: { bucket, prefix: 'txn' },
        partitionBy: { kind: 'none' },
        maxRangeMessages: 40,
        flushIntervalMs: 300,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      await waitFor('the committed offset to reach the last stable offset', async () => {
        const body = (await api.get(`/api/v1/topics/${topic}`)).body;
        const p = body.partitions[0];
        for (const r of p.ranges ?? [])
          assert.ok(
            BigInt(r.end) <= lso,
            `range ${r.start}-${r.end} reaches past the last stable offset ${lso}`,
          );
        assert.ok(
          BigInt(p.committedOffset) <= lso,
          `committed ${p.committedOffset} past the last stable offset ${lso}`,
        );
        return BigInt(p.committedOffset) === lso;
      });
      // Still held back a few planning rounds later.
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(
        BigInt((await api.get(`/api/v1/topics/${topic}`)).body.partitions[0].committedOffset),
        lso,
      );

      await open.commit();
      committed.push(...c);
      // Kafka writes the commit marker just after commit() returns: wait for it to count.
      const hw = await waitFor('the commit marker to be written', async () => {
        const now = await highWatermarks(t.admin, topic);
        return now.get(0) === lso + BigInt(c.length) + 1n ? now : false;
      });
      await waitCommitted(api, topic, hw);
      await verifyExactlyOnce({
        s3,
        bucket,
        prefix: 'txn',
        topic,
        produced: committed,
        highWatermarks: hw,
        allowOffsetGaps: true,
      });
    } finally {
      await producer.disconnect().catch(() => {});
      await t.delete();
    }
  });
});
