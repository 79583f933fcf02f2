/** GET /api/v1/status and /api/v1/workers against the real stack. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ApiFixture, apiFixture, json } from '../../packages/master/test/api/api-fixture.ts';

let f: ApiFixture;
let topic: string;

before(async () => {
  f = await apiFixture({}, { stack: true });
  topic = await f.kafkaTopic(2, 7);
  const reg = await f.call('POST', '/api/v1/topics', { topic, destination: { bucket: f.bucket } });
  assert.equal(reg.statusCode, 201, reg.body);
  await f.putLeader({
    v: 1,
    id: 'master-a',
    host: 'host-a',
    httpAddress: 'http://host-a:8080',
    since: '2026-01-01T00:00:00.000Z',
  });
  for (const id of ['worker-1', 'worker-2']) {
    await f.putWorker({
      v: 1,
      id,
      host: `${id}.local`,
      pid: 42,
      version: '0.1.0',
      concurrency: 2,
      httpAddress: null,
      startedAt: '2026-01-01T00:00:00.000Z',
    });
  }
  await f.putPartition(topic, 0, { committedOffset: '1' });
  await f.putRange({ topic, partition: 0, start: '1', end: '3', state: 'active', worker: 'worker-1' });
  await f.putRange({ topic, partition: 0, start: '3', end: '5', state: 'active', worker: 'worker-1' });
  await f.putRange({
    topic,
    partition: 0,
    start: '5',
    end: '7',
    state: 'failed',
    worker: 'worker-2',
    error: 'NoSuchBucket',
  });
});
after(() => f?.close());

test('workers are listed with their registration and active range count', async () => {
  const res = await f.call('GET', '/api/v1/workers', undefined, null);
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(
    json(res).workers.map((w: any) => [w.id, w.host, w.concurrency, w.activeRanges]),
    [
      ['worker-1', 'worker-1.local', 2, 2],
      ['worker-2', 'worker-2.local', 2, 0],
    ],
  );
});

test('status shows the leader, per-partition progress, workers and recent failures', async () => {
  const res = await f.call('GET', '/api/v1/status', undefined, null);
  assert.equal(res.statusCode, 200, res.body);
  const s = json(res);
  assert.deepEqual(s.leader, {
    id: 'master-a',
    host: 'host-a',
    httpAddress: 'http://host-a:8080',
    since: '2026-01-01T00:00:00.000Z',
  });
  assert.deepEqual(s.master, { id: 'master-test', leader: false });
  const t = s.topics.find((x: any) => x.topic === topic);
  assert.equal(t.state, 'active');
  assert.equal(t.kafkaError, null);
  assert.deepEqual(
    t.partitions.map((p: any) => [p.partition, p.committedOffset, p.highWatermark, p.lag, p.ranges]),
    [
      [0, '1', '7', 6, { planned: 0, active: 2, done: 0, failed: 1 }],
      [1, '0', '0', 0, { planned: 0, active: 0, done: 0, failed: 0 }],
    ],
  );
  const [p0, p1] = t.partitions;
  assert.equal(p0.started, true);
  assert.equal(p1.started, false);
  // The oldest record not yet in S3 (offset 1) was produced moments ago.
  assert.ok(p0.lagMs !== null && p0.lagMs >= 0 && p0.lagMs < 120_000, `lagMs ${p0.lagMs}`);
  assert.equal(p1.lagMs, 0, 'nothing behind: no time lag');
  assert.equal(t.lagMs, p0.lagMs);
  assert.deepEqual(p0.head, {
    id: `${topic}-0-1-3`,
    state: 'active',
    attempt: 1,
    worker: 'worker-1',
    failures: 0,
    error: null,
    progressOffset: null,
    updatedAt: p0.head.updatedAt,
  });
  assert.equal(p1.head, null);
  assert.deepEqual(t.ranges, { planned: 0, active: 2, done: 0, failed: 1 });
  assert.ok('m1' in t.throughput && 'm15' in t.throughput);
  assert.ok(Array.isArray(s.throughput.history));
  assert.equal(s.summary.topics >= 1, true);
  assert.deepEqual(s.summary.ranges, { planned: 0, active: 2, done: 0, failed: 1 });
  assert.equal(s.summary.failures, 1);
  assert.equal(t.lag, 6);
  assert.deepEqual(
    s.workers.map((w: any) => [w.id, w.host, w.activeRanges]),
    [
      ['worker-1', 'worker-1.local', 2],
      ['worker-2', 'worker-2.local', 0],
    ],
  );
  assert.equal(s.recentFailures.length, 1);
  assert.equal(s.recentFailures[0].id, `${topic}-0-5-7`);
  assert.equal(s.recentFailures[0].error, 'NoSuchBucket');
  assert.equal(s.recentFailures[0].state, 'failed');
  const w1 = s.workers.find((w: any) => w.id === 'worker-1');
  assert.ok(w1.uptimeSeconds > 0);
  assert.equal(typeof w1.lastHeartbeat === 'string' || w1.lastHeartbeat === null, true);
  assert.deepEqual(s.gaps, []);
  assert.deepEqual(s.queue, { waiting: 0, prioritized: 0, active: 0, delayed: 0, failed: 0 });
  assert.equal(s.queueError, null);
});
