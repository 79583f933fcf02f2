/** POST /api/v1/ranges/{id}/retry against the real ZooKeeper of the local stack. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeJson, RETRIES_PATH } from '@sluice/shared';
import { type ApiFixture, apiFixture, json } from './api-fixture.ts';

let f: ApiFixture;
before(async () => {
  f = await apiFixture();
  await f.putRange({
    topic: 'orders.v1',
    partition: 2,
    start: '100',
    end: '200',
    state: 'failed',
    attempt: 3,
  });
  await f.putRange({ topic: 'orders.v1', partition: 2, start: '200', end: '300', state: 'done' });
  await f.putRange({
    topic: 'orders.v1',
    partition: 2,
    start: '400',
    end: '500',
    state: 'planned',
    attempt: 2,
  });
});
after(() => f?.close());

test('a retry of a range in flight is recorded for the leader (202), naming the attempt it retries', async () => {
  const res = await f.call('POST', '/api/v1/ranges/orders.v1-2-100-200/retry');
  assert.equal(res.statusCode, 202, res.body);
  assert.deepEqual(json(res), {
    id: 'orders.v1-2-100-200',
    state: 'failed',
    attempt: 3,
    result: 'requested',
  });
  const node = await f.zk.get(`${RETRIES_PATH}/orders.v1-2-100-200`);
  assert.ok(node, 'the retry request node exists');
  const request = decodeJson<{ rangeId: string; attempt: number }>(node.data, 'retry');
  assert.equal(request.rangeId, 'orders.v1-2-100-200');
  assert.equal(request.attempt, 3);
  // Asking again before the leader acted changes nothing, and says so.
  const again = await f.call('POST', '/api/v1/ranges/orders.v1-2-100-200/retry');
  assert.equal(again.statusCode, 200, again.body);
  assert.equal(json(again).result, 'already-requested');
  assert.equal(json(again).attempt, 3);
});

test('a retry of a range whose requeued attempt waits in the queue is a no-op that says so (200)', async () => {
  const res = await f.call('POST', '/api/v1/ranges/orders.v1-2-400-500/retry');
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(json(res), {
    id: 'orders.v1-2-400-500',
    state: 'planned',
    attempt: 2,
    result: 'already-queued',
  });
  assert.equal(await f.zk.exists(`${RETRIES_PATH}/orders.v1-2-400-500`), false, 'no request recorded');
});

test('a range that is not in flight is 404', async () => {
  const res = await f.call('POST', '/api/v1/ranges/orders.v1-2-300-400/retry');
  assert.equal(res.statusCode, 404);
  assert.equal(json(res).code, 'SLUICE_ERR_RANGE_NOT_FOUND');
  assert.match(json(res).message, /range orders\.v1-2-300-400 is not in flight/);
  assert.equal(await f.zk.exists(`${RETRIES_PATH}/orders.v1-2-300-400`), false);
});

test('a done range is 409', async () => {
  const res = await f.call('POST', '/api/v1/ranges/orders.v1-2-200-300/retry');
  assert.equal(res.statusCode, 409);
  assert.equal(json(res).code, 'SLUICE_ERR_RANGE_STATE');
  assert.match(json(res).message, /is done/);
});

test('malformed range ids are 400 and say what an id looks like', async () => {
  for (const id of ['orders', 'orders-1-20-10', 'bad%20topic-0-1-2', '..-0-1-2']) {
    const res = await f.call('POST', `/api/v1/ranges/${id}/retry`);
    assert.equal(res.statusCode, 400, `${id}: ${res.body}`);
    assert.match(json(res).message, /^params\.id: /);
  }
  const shape = json(await f.call('POST', '/api/v1/ranges/orders/retry'));
  assert.match(shape.message, /must look like "\{topic\}-\{partition\}-\{start\}-\{end\}"/);
});
