/**
 * The audit, replay and dry-run answers a user gets for mistakes, and the status fields of
 * integrity, against the real ZooKeeper and Kafka of the local stack (`buildApi` + inject).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { REPLAYS_PATH } from '@sluice/shared';
import { type ApiFixture, apiFixture, json } from '../../packages/master/test/api/api-fixture.ts';

let f: ApiFixture;
let topic: string;
before(async () => {
  f = await apiFixture({}, { stack: true });
  topic = await f.kafkaTopic(2, 20);
  const res = await f.call('POST', '/api/v1/topics', {
    topic,
    destination: { bucket: f.bucket, prefix: 'raw' },
    finalizeLatenessMs: 120_000,
  });
  assert.equal(res.statusCode, 201, res.body);
  assert.equal(json(res).finalizeLatenessMs, 120_000);
});
after(() => f?.close());

test('finalizeLatenessMs is validated like every setting', async () => {
  const res = await f.call('PATCH', `/api/v1/topics/${topic}`, { finalizeLatenessMs: -1 });
  assert.equal(res.statusCode, 400);
  assert.match(json(res).message, /finalizeLatenessMs/);
  const ok = await f.call('PATCH', `/api/v1/topics/${topic}`, { finalizeLatenessMs: 0 });
  assert.equal(json(ok).finalizeLatenessMs, 0);
});

test('an audit of an unknown topic is 404; a reversed window is 400', async () => {
  assert.equal((await f.call('GET', '/api/v1/topics/nope-nothing/audit')).statusCode, 404);
  const res = await f.call('GET', `/api/v1/topics/${topic}/audit?fromOffset=10&toOffset=5`);
  assert.equal(res.statusCode, 400);
  assert.match(json(res).message, /toOffset: must be greater than fromOffset/);
  assert.equal((await f.call('GET', `/api/v1/topics/${topic}/audit?deep=yes`)).statusCode, 400);
});

test('a replay needs a registered topic, one kind of window and a destination of its own', async () => {
  const base = { topic, destination: { bucket: f.bucket, prefix: 'replays/x' } };
  const mixed = await f.call('POST', '/api/v1/replays', {
    ...base,
    fromOffset: '0',
    toTimestamp: '2026-11-25T08:00:00Z',
  });
  assert.equal(mixed.statusCode, 400);
  assert.match(json(mixed).message, /offsets or timestamps, not both/);
  const badTime = await f.call('POST', '/api/v1/replays', { ...base, fromTimestamp: 'yesterday' });
  assert.equal(badTime.statusCode, 400);
  assert.match(json(badTime).message, /fromTimestamp: must be an ISO-8601 time or epoch milliseconds/);
  const inside = await f.call('POST', '/api/v1/replays', {
    ...base,
    destination: { bucket: f.bucket, prefix: 'raw' },
  });
  assert.equal(inside.statusCode, 409);
  assert.equal(json(inside).code, 'SLUICE_ERR_DESTINATION_OVERLAP');
  assert.match(json(inside).message, /inside the folder of topic/);
  const unregistered = await f.call('POST', '/api/v1/replays', { ...base, topic: 'not-registered-here' });
  assert.equal(unregistered.statusCode, 404);
  assert.equal((await f.call('POST', '/api/v1/replays', { ...base, partition: 7 })).statusCode, 400);
  assert.deepEqual(await f.zk.children(REPLAYS_PATH), [], 'nothing was stored');
  assert.equal((await f.call('POST', '/api/v1/replays', base, null)).statusCode, 401);
});

test('a replay is stored with its window resolved, listed, shown, cancelled', async () => {
  const res = await f.call('POST', '/api/v1/replays', {
    topic,
    destination: { bucket: f.bucket, prefix: 'replays/y' },
    partition: 0,
    toOffset: '15',
    format: 'raw',
  });
  assert.equal(res.statusCode, 201, res.body);
  const r = json(res);
  assert.deepEqual(r.partitions, [{ partition: 0, start: '0', end: '15' }]);
  assert.equal(r.output.format, 'raw');
  assert.equal(r.output.compression, 'gzip', 'the topic’s');
  assert.equal(r.progress.remaining, '15');
  const list = json(await f.call('GET', '/api/v1/replays'));
  assert.deepEqual(
    list.replays.map((x: { id: string }) => x.id),
    [r.id],
  );
  assert.equal(json(await f.call('GET', `/api/v1/replays/${r.id}`)).state, 'running');
  assert.equal((await f.call('GET', '/api/v1/replays/r-nothing')).statusCode, 404);
  const cancelled = await f.call('DELETE', `/api/v1/replays/${r.id}`);
  assert.equal(cancelled.statusCode, 202);
  assert.equal(json(cancelled).state, 'cancelled');
  const status = json(await f.call('GET', '/api/v1/status'));
  assert.equal(status.replays.find((x: { id: string }) => x.id === r.id).state, 'cancelled');
  const mine = status.topics.find((t: { topic: string }) => t.topic === topic);
  assert.deepEqual([mine.audit, mine.finalizer, mine.verifyMismatches.count], [null, null, 0]);
});

test('a dry run of a registered topic is 409, of a missing one 404', async () => {
  const again = await f.call('POST', '/api/v1/topics?dryRun=true', {
    topic,
    destination: { bucket: f.bucket },
  });
  assert.equal(again.statusCode, 409);
  const missing = await f.call('POST', '/api/v1/topics?dryRun=true', {
    topic: 'no-such-topic-in-kafka',
    destination: { bucket: f.bucket },
  });
  assert.equal(missing.statusCode, 404);
  const fresh = await f.kafkaTopic(1, 5);
  const dry = await f.call('POST', '/api/v1/topics?dryRun=true', {
    topic: fresh,
    destination: { bucket: f.bucket },
    format: 'raw',
  });
  assert.equal(dry.statusCode, 200, dry.body);
  assert.equal(json(dry).backlog.records, '5');
  assert.equal(json(dry).estimate.bytesPerRecord, 3, 'raw: the value and a newline');
  assert.equal((await f.call('GET', `/api/v1/topics/${fresh}`)).statusCode, 404);
});
