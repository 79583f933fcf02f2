/**
 * Issue 15 point 2, second half: every stuck topic has a way out. A topic registered into a
 * real bucket loses it (every object deleted, then DeleteBucket) while records keep arriving:
 * its ranges fail against the missing bucket and hold the in-flight limit. Against the real
 * stack (a master and a worker as processes, Kafka, ZooKeeper, Redis, S3):
 *
 *  1. PATCHing the destination to a good bucket gets the topic going again: the ranges that
 *     never wrote follow the new destination, and every offset is in S3 exactly once across
 *     the two destinations (the old bucket checked before it was removed, the new one after).
 *  2. `DELETE ?force=true` removes the topic within seconds; the record of what was abandoned
 *     lists exactly the unfinished offsets, and the audit (of the topic registered again
 *     elsewhere) reports them as abandoned.
 *
 * The bucket is removed when nothing is in flight, so that no range has begun an upload into
 * it: such a range keeps its destination (its keys may exist there) and only the forced
 * DELETE or a re-created bucket frees it; that rule is tested without S3 in
 * packages/shared/test/output-follow.test.ts and packages/master/test/leadership/leader-term.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import {
  type AbandonedRecord,
  abandonedPath,
  abandonedRecordKey,
  abandonedTopicPath,
  RANGE_QUEUE_NAME,
  topicPath,
} from '@sluice/shared';
import { Queue } from 'bullmq';
import { apiClient } from '../helpers/api.ts';
import { type Api, verifyEnd, waitCommitted } from '../helpers/end-check.ts';
import { createTopic, highWatermarks, kafkaClient, type TestTopic } from '../helpers/kafka.ts';
import { produceTagged } from '../helpers/load.ts';
import { type SluiceProcess, TestCluster, uniqueName, waitFor } from '../helpers/processes.ts';
import { createBucket, getText, s3Client } from '../helpers/s3.ts';
import { ZkView } from '../helpers/zk-view.ts';

const kafka = kafkaClient();
const s3 = s3Client();
const cluster = new TestCluster({ name: 'topic-stuck' });
const prefix = 'stuck';
const topics: TestTopic[] = [];
/** Buckets made by the tests, by name: `delete` empties and removes one (also at the end). */
const buckets = new Map<string, { delete(): Promise<void> }>();
let api: Api;
let zk: ZkView;
let worker: SluiceProcess;

before(async () => {
  const master = await cluster.startMaster();
  worker = await cluster.startWorker();
  api = apiClient(master.url, cluster.token);
  zk = await ZkView.open(cluster.env.SLUICE_ZOOKEEPER!);
});

after(async () => {
  await zk?.session.close();
  await cluster.stopAll();
  for (const t of topics) await t.delete();
  for (const b of buckets.values()) await b.delete();
});

async function newBucket(tag: string): Promise<string> {
  const name = uniqueName(`stuck-${tag}`).toLowerCase();
  buckets.set(name, await createBucket(s3, name));
  return name;
}

async function newTopic(name: string): Promise<TestTopic> {
  const t = await createTopic(kafka, uniqueName(name), 2);
  topics.push(t);
  return t;
}

const produce = produceTagged;

/** Every object deleted, then DeleteBucket, as an operator would; done when S3 says the bucket is gone. */
async function removeBucket(bucket: string): Promise<void> {
  await waitFor(`bucket ${bucket} to be removed`, async () => {
    await buckets.get(bucket)!.delete();
    try {
      await s3.send(new HeadBucketCommand({ Bucket: bucket }));
      return false;
    } catch {
      return true;
    }
  });
}

/** Ids of the topic's jobs in the cluster's queue, whatever their state. */
async function queuedJobs(topic: string): Promise<string[]> {
  const queue = new Queue(RANGE_QUEUE_NAME, {
    prefix: cluster.queuePrefix,
    connection: { url: cluster.env.SLUICE_REDIS_URL },
  });
  try {
    const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active', 'failed', 'completed']);
    return jobs.map((j) => j?.id ?? '').filter((id) => id.startsWith(`${topic}-`));
  } finally {
    await queue.close();
  }
}

/** Registers the topic (201); returns where each partition starts (`starts` of the answer). */
async function register(
  t: TestTopic,
  bucket: string,
): Promise<Array<{ partition: number; startOffset: string; resumed: boolean }>> {
  const res = await api.post('/api/v1/topics', {
    topic: t.name,
    destination: { bucket, prefix },
    partitionBy: { kind: 'none' },
    maxRangeMessages: 50,
    flushIntervalMs: 300,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.starts;
}

interface RangeView {
  id: string;
  state: string;
  error: string | null;
}

/** Waits until ranges planned up to `hw` are in flight and each has failed at least once against the missing bucket. */
async function waitStuck(t: TestTopic, hw: Map<number, bigint>): Promise<RangeView[]> {
  return waitFor(
    `${t.name}: ranges up to the high watermark failing against the missing bucket`,
    async () => {
      const ranges = await zk.ranges(t.name);
      for (const [p, high] of hw) {
        const mine = ranges.filter((r) => r.partition === p);
        if (mine.length === 0 || mine[mine.length - 1]!.end !== high) return false;
        if (!mine.every((r) => r.record.error !== null || r.record.failures > 0)) return false;
      }
      const res = await api.get(`/api/v1/topics/${t.name}`);
      return (res.body.partitions as Array<{ ranges: RangeView[] }>).flatMap((p) => p.ranges);
    },
    180_000,
    500,
  );
}

test('a bucket removed under a registered topic: PATCHing the destination gets it going again, every offset once across both buckets', async (t) => {
  const topic = await newTopic('stuck-patch');
  const gone = await newBucket('gone');
  const good = await newBucket('good');
  const first = await produce(topic, 200, 'a');
  await register(topic, gone);
  const hw1 = await highWatermarks(topic.admin, topic.name);
  await waitCommitted(api, topic.name, hw1);
  // What the first bucket holds is checked before the operator removes it.
  await verifyEnd({ api, s3, admin: topic.admin, bucket: gone, prefix, topic: topic.name, produced: first });
  await removeBucket(gone);

  const stuckBatch = await produce(topic, 200, 'b');
  const stuck = await waitStuck(topic, await highWatermarks(topic.admin, topic.name));
  assert.ok(
    stuck.some((r) => r.error?.includes(gone)),
    `the failures name the missing bucket: ${JSON.stringify(stuck)}`,
  );

  const patched = await api.patch(`/api/v1/topics/${topic.name}`, { destination: { bucket: good, prefix } });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  const after = await produce(topic, 100, 'c');
  const end = await verifyEnd({
    api,
    s3,
    admin: topic.admin,
    bucket: good,
    prefix,
    topic: topic.name,
    produced: [...stuckBatch, ...after],
    logStartOffsets: hw1,
  });
  t.diagnostic(
    `[0, ${[...hw1.values()].join('|')}) in ${gone} before it went; the rest in ${good}: ${end.commitRecords} commit records; ${stuck.length} stuck ranges followed`,
  );
});

test('a bucket removed under a registered topic: DELETE ?force=true removes it within seconds, records exactly the unfinished offsets, and the audit reports them as abandoned', async (t) => {
  const topic = await newTopic('stuck-force');
  const gone = await newBucket('gone');
  const first = await produce(topic, 200, 'a');
  await register(topic, gone);
  const hw1 = await highWatermarks(topic.admin, topic.name);
  assert.equal(
    [...hw1.values()].reduce((a, b) => a + b, 0n),
    BigInt(first.length),
  );
  await waitCommitted(api, topic.name, hw1);
  await removeBucket(gone);
  await produce(topic, 200, 'b');
  const hw2 = await highWatermarks(topic.admin, topic.name);
  await waitStuck(topic, hw2);

  // A plain DELETE waits for the ranges in flight, which cannot finish.
  const plain = await api.del(`/api/v1/topics/${topic.name}`);
  assert.equal(plain.status, 202);
  assert.equal(plain.body.state, 'deleting');
  assert.equal(plain.body.forcedAt, undefined);
  assert.equal((await api.get(`/api/v1/topics/${topic.name}`)).status, 200, 'still there, deleting');

  const forced = await api.del(`/api/v1/topics/${topic.name}?force=true`);
  assert.equal(forced.status, 202, JSON.stringify(forced.body));
  assert.equal(typeof forced.body.forcedAt, 'string');
  await waitFor(
    `${topic.name} to be removed`,
    async () => (await api.get(`/api/v1/topics/${topic.name}`)).status === 404,
    30_000,
    250,
  );
  assert.equal(await zk.session.exists(topicPath(topic.name)), false);

  // The record lists exactly the offsets not committed: [hw1, hw2) of each partition.
  const names = await zk.session.children(abandonedTopicPath(topic.name));
  assert.equal(names.length, 1, 'one record of the forced deletion');
  const node = await zk.session.get(abandonedPath(topic.name, names[0]!));
  const record = JSON.parse(node!.data.toString('utf8')) as AbandonedRecord;
  assert.deepEqual(record.destination, { bucket: gone, prefix });
  assert.match(record.reason, /force=true/);
  for (const [p, high] of hw2) {
    const spans = record.ranges.filter((r) => r.partition === p);
    assert.ok(spans.length > 0, `partition ${p} has abandoned ranges`);
    assert.equal(spans[0]!.start, hw1.get(p)!.toString(), `partition ${p}: from the committed offset`);
    assert.equal(spans[spans.length - 1]!.end, high.toString(), `partition ${p}: to the high watermark`);
    for (let i = 1; i < spans.length; i++)
      assert.equal(spans[i]!.start, spans[i - 1]!.end, 'no gap, no overlap');
    assert.ok(
      spans.every((r) => r.keys.length === 0 && r.error !== null),
      'each says why it had not finished',
    );
  }
  const abandonedOffsets = record.ranges.reduce((n, r) => n + BigInt(r.end) - BigInt(r.start), 0n);
  assert.equal(abandonedOffsets, 200n, 'the 200 records produced after the bucket went');
  // Jobs waiting are removed at once; one a worker holds ends when it finds its range gone.
  await waitFor(
    `no job of ${topic.name} left in the queue`,
    async () => (await queuedJobs(topic.name)).length === 0,
    60_000,
  );

  // The topic registered again into a good bucket: its audit reports the abandoned offsets.
  const good = await newBucket('good');
  await register(topic, good);
  await waitCommitted(api, topic.name, hw2);
  const audit = await api.get(`/api/v1/topics/${topic.name}/audit`);
  assert.equal(audit.status, 200, JSON.stringify(audit.body));
  const reported = (
    audit.body.abandoned as Array<{ partition: number; start: string; end: string; destination: string }>
  ).map((a) => [a.partition, a.start, a.end, a.destination]);
  assert.deepEqual(
    reported,
    record.ranges.map((r) => [r.partition, r.start, r.end, `${gone}/${prefix}`]),
    'the audit lists exactly the abandoned ranges and where they were going',
  );
  assert.equal(audit.body.ok, true, JSON.stringify(audit.body.findings));
  t.diagnostic(`abandoned ${record.ranges.length} ranges (${abandonedOffsets} offsets) in ${names[0]}`);
});

test('a forced DELETE of a topic whose destination works also leaves the record beside the commit records, which the audit reads', async () => {
  const topic = await newTopic('stuck-copy');
  const bucket = await newBucket('copy');
  // No worker: every range stays planned, so the forced DELETE has something to abandon.
  await worker.stop();
  try {
    await produce(topic, 100, 'a');
    const hw = await highWatermarks(topic.admin, topic.name);
    await register(topic, bucket);
    await waitFor(`${topic.name}: ranges planned up to the high watermark`, async () => {
      const ranges = await zk.ranges(topic.name);
      return [...hw].every(([p, high]) => ranges.filter((r) => r.partition === p).at(-1)?.end === high);
    });
    assert.equal((await api.del(`/api/v1/topics/${topic.name}?force=true`)).status, 202);
    await waitFor(
      `${topic.name} to be removed`,
      async () => (await api.get(`/api/v1/topics/${topic.name}`)).status === 404,
      30_000,
      250,
    );
    const [name] = await zk.session.children(abandonedTopicPath(topic.name));
    const inZk = JSON.parse((await zk.session.get(abandonedPath(topic.name, name!)))!.data.toString('utf8'));
    const inS3 = JSON.parse(await getText(s3, bucket, abandonedRecordKey(prefix, topic.name, name!)));
    assert.deepEqual(inS3, inZk, 'the same record in ZooKeeper and beside the commit records');
    assert.deepEqual(
      (inZk as AbandonedRecord).ranges.reduce((n, r) => n + BigInt(r.end) - BigInt(r.start), 0n),
      100n,
      'every offset produced was abandoned: nothing ran',
    );
  } finally {
    worker = await cluster.startWorker();
  }
  // Registered again into the same bucket, it resumes after the abandoned offsets as after
  // commit records (a done range above an abandoned one must not be copied twice); the audit
  // is clean, lists the abandoned ranges once (two copies read), and the record in S3 is no
  // extra object.
  const hw = await highWatermarks(topic.admin, topic.name);
  const starts = await register(topic, bucket);
  assert.deepEqual(
    [...starts].sort((a, b) => a.partition - b.partition),
    [...hw]
      .sort(([a], [b]) => a - b)
      .map(([partition, o]) => ({ partition, startOffset: o.toString(), resumed: true })),
  );
  await waitCommitted(api, topic.name, hw);
  const audit = await api.get(`/api/v1/topics/${topic.name}/audit`);
  assert.equal(audit.body.ok, true, JSON.stringify(audit.body.findings));
  const spans = (audit.body.abandoned as Array<{ start: string; end: string }>).reduce(
    (n, a) => n + BigInt(a.end) - BigInt(a.start),
    0n,
  );
  assert.equal(spans, 100n);
});
