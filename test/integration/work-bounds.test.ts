/**
 * Issue 18 points 6 and 7 against the real stack (a master and no worker, so that jobs stay in
 * the queue where the test can count them): a burst of retry requests of one range makes one
 * new attempt and leaves one job in Redis (the superseded one removed); a retry while that
 * attempt waits is a no-op that says so; a replay beyond SLUICE_MAX_RUNNING_REPLAYS is refused;
 * tiny ranges are refused at the default minimums; a topic registered or moved into another
 * topic's folder is refused.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RANGE_QUEUE_NAME, RETRIES_PATH, rangeJobId } from '@sluice/shared';
import { Queue } from 'bullmq';
import { apiClient } from '../helpers/api.ts';
import type { Api } from '../helpers/end-check.ts';
import { createTopic, kafkaClient, type TestTopic } from '../helpers/kafka.ts';
import { produceAll } from '../helpers/load.ts';
import { TestCluster, uniqueName, waitFor } from '../helpers/processes.ts';
import { makeEvents } from '../helpers/records.ts';
import { createBucket, s3Client } from '../helpers/s3.ts';
import { ZkView } from '../helpers/zk-view.ts';

const kafka = kafkaClient();
const s3 = s3Client();
const cluster = new TestCluster({ name: 'work-bounds', env: { SLUICE_MAX_RUNNING_REPLAYS: '1' } });
// This test checks the documented minimum range sizes: the test cluster's lowered floor is removed.
delete cluster.env.SLUICE_MIN_RANGE_MESSAGES;
const bucket = uniqueName('work-bounds').toLowerCase();
const prefix = 'raw';
let api: Api;
let zk: ZkView;
let queue: Queue;
let topic: TestTopic;
let other: TestTopic;
let dropBucket: () => Promise<void>;

before(async () => {
  dropBucket = (await createBucket(s3, bucket)).delete;
  topic = await createTopic(kafka, uniqueName('bounds'), 1);
  other = await createTopic(kafka, uniqueName('bounds-other'), 1);
  await produceAll(
    topic.producer,
    topic.name,
    makeEvents(2_500, { startMs: Date.now(), spanMs: 60_000, partitions: 1, prefix: 'b' }),
  );
  const master = await cluster.startMaster();
  api = apiClient(master.url, cluster.token);
  zk = await ZkView.open(cluster.env.SLUICE_ZOOKEEPER!);
  queue = new Queue(RANGE_QUEUE_NAME, {
    prefix: cluster.queuePrefix,
    connection: { url: cluster.env.SLUICE_REDIS_URL },
  });
  const res = await api.post('/api/v1/topics', {
    topic: topic.name,
    destination: { bucket, prefix },
    partitionBy: { kind: 'none' },
    maxRangeMessages: 1_000,
    flushIntervalMs: 300,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
});

after(async () => {
  await queue?.close();
  await zk?.close();
  await cluster.stopAll();
  await topic?.delete();
  await other?.delete();
  await dropBucket?.();
});

/** The jobs in Redis of one range, any attempt, as `{id, attempt}`. */
async function jobsOf(start: string): Promise<Array<{ id: string; attempt: number }>> {
  const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active', 'wait']);
  return jobs
    .filter((j) => j.data.topic === topic.name && j.data.start === start && !j.data.replay)
    .map((j) => ({ id: j.id ?? '', attempt: j.data.attempt as number }));
}

test('50 parallel retries of one range make one new attempt and leave one job in Redis; another is a no-op', async () => {
  const range = await waitFor('the first range planned and its job queued', async () => {
    const r = (await zk.ranges(topic.name)).find((x) => x.start === 0n);
    return r && (await jobsOf('0')).length === 1 ? r : null;
  });
  assert.equal(range.record.attempt, 1);
  const id = `${topic.name}-0-${range.start}-${range.end}`;
  const job1 = rangeJobId({
    topic: topic.name,
    partition: 0,
    start: '0',
    end: String(range.end),
    attempt: 1,
  });
  assert.ok(await queue.getJob(job1), 'attempt 1 is queued');

  const answers = await Promise.all(Array.from({ length: 50 }, () => api.post(`/api/v1/ranges/${id}/retry`)));
  const results = answers.map((a) => `${a.status} ${a.body.result}`);
  assert.ok(
    answers.every((a) => [200, 202].includes(a.status)),
    results.join(', '),
  );
  assert.ok(results.includes('202 requested'), results.join(', '));
  for (const a of answers) {
    if (a.status === 200) assert.match(a.body.result, /^already-(requested|queued)$/);
  }

  // Every request has been handled (the leader removes each): the range is at attempt 2 only.
  await waitFor(
    'the retry requests to be handled',
    async () => (await zk.session.children(RETRIES_PATH)).length === 0,
  );
  const after = await zk.range(topic.name, 0, range.start, range.end);
  assert.equal(after?.attempt, 2, 'one new attempt, not one per request');
  assert.equal(after?.requeueReason, 'operator');
  assert.deepEqual(
    await jobsOf('0'),
    [
      {
        id: rangeJobId({ topic: topic.name, partition: 0, start: '0', end: String(range.end), attempt: 2 }),
        attempt: 2,
      },
    ],
    'one job in Redis: the new attempt; the superseded one was removed',
  );
  assert.equal(await queue.getJob(job1), undefined, 'the superseded job is gone from Redis');

  const again = await api.post(`/api/v1/ranges/${id}/retry`);
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.deepEqual(again.body, { id, state: 'planned', attempt: 2, result: 'already-queued' });
  assert.equal((await zk.range(topic.name, 0, range.start, range.end))?.attempt, 2);
});

test('ranges below the default minimums are refused with the minimum, the reason and the setting', async () => {
  const res = await api.post('/api/v1/topics', {
    topic: other.name,
    destination: { bucket, prefix },
    maxRangeMessages: 1,
  });
  assert.equal(res.status, 400, JSON.stringify(res.body));
  assert.match(
    res.body.message,
    /^maxRangeMessages: must be at least 1000 \(SLUICE_MIN_RANGE_MESSAGES\), got 1: each range is a queue job/,
  );
  const patch = await api.patch(`/api/v1/topics/${topic.name}`, { maxRangeBytes: 65_536 });
  assert.equal(patch.status, 400, JSON.stringify(patch.body));
  assert.match(patch.body.message, /^maxRangeBytes: must be at least 1048576 \(SLUICE_MIN_RANGE_BYTES\)/);
  assert.equal((await api.get(`/api/v1/topics/${other.name}`)).status, 404, 'nothing registered');
});

test('a topic registered or moved into another topic’s folder is refused with 409 naming that topic', async () => {
  const inside = { bucket, prefix: `${prefix}/${topic.name}` };
  const folder = `s3://${bucket}/${prefix}/${topic.name}/`;
  const post = await api.post('/api/v1/topics', { topic: other.name, destination: inside });
  assert.equal(post.status, 409, JSON.stringify(post.body));
  assert.equal(post.body.code, 'SLUICE_ERR_DESTINATION_OVERLAP');
  assert.ok(
    post.body.message.includes(`is inside the folder of topic "${topic.name}" (${folder})`),
    post.body.message,
  );
  assert.match(post.body.message, /choose a prefix outside it/);

  const own = await api.post('/api/v1/topics', {
    topic: other.name,
    destination: { bucket, prefix: 'elsewhere' },
    maxRangeMessages: 1_000,
  });
  assert.equal(own.status, 201, JSON.stringify(own.body));
  const moved = await api.patch(`/api/v1/topics/${other.name}`, { destination: inside });
  assert.equal(moved.status, 409, JSON.stringify(moved.body));
  assert.ok(moved.body.message.includes(`inside the folder of topic "${topic.name}"`), moved.body.message);
  assert.equal(
    (await api.get(`/api/v1/topics/${other.name}`)).body.destination.prefix,
    'elsewhere',
    'unchanged',
  );
});

test('a replay beyond SLUICE_MAX_RUNNING_REPLAYS is refused with 429; once the running one is cancelled, it is taken', async () => {
  const replay = (p: string) => ({
    topic: topic.name,
    destination: { bucket, prefix: p },
    fromOffset: '0',
    toOffset: '2000',
  });
  const first = await api.post('/api/v1/replays', replay('replays/one'));
  assert.equal(first.status, 201, JSON.stringify(first.body));
  const second = await api.post('/api/v1/replays', replay('replays/two'));
  assert.equal(second.status, 429, JSON.stringify(second.body));
  assert.equal(second.body.code, 'SLUICE_ERR_LIMIT_REACHED');
  assert.equal(
    second.body.message,
    `the running replays (1: ${first.body.id}) reach SLUICE_MAX_RUNNING_REPLAYS=1; wait until one finishes (GET /api/v1/replays), cancel one (DELETE /api/v1/replays/{id}), or raise SLUICE_MAX_RUNNING_REPLAYS on the masters`,
  );
  assert.equal((await api.del(`/api/v1/replays/${first.body.id}`)).status, 202);
  const third = await api.post('/api/v1/replays', replay('replays/two'));
  assert.equal(third.status, 201, JSON.stringify(third.body));
});
