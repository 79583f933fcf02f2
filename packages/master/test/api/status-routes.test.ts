/** GET /api/v1/status and /api/v1/workers against the real stack. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ApiFixture, apiFixture, json } from './api-fixture.ts';

let f: ApiFixture;
let topic: string;

before(async () => {
  f = await apiFixture();
  topic = await f.kafkaTopic(2, 7);
  const reg = await f.call('POST', '/api/v1/topics', { topic, destination: { bucket: 'sluice-lake' } });
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
  assert.deepEqual(t.partitions, [
    {
      partition: 0,
      committedOffset: '1',
      highWatermark: '7',
      lag: 6,
      ranges: { planned: 0, active: 2, done: 0, failed: 1 },
    },
    {
      partition: 1,
      committedOffset: '0',
      highWatermark: '0',
      lag: 0,
      ranges: { planned: 0, active: 0, done: 0, failed: 0 },
    },
  ]);
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
  assert.deepEqual(s.queue, { waiting: 0, prioritized: 0, active: 0, delayed: 0, failed: 0 });
  assert.equal(s.queueError, null);
});
