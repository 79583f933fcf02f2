/**
 * `POST /api/v1/recover` as a caller meets it before any S3 request: it needs the token, and
 * a destination that could not hold Sluice's topics is refused with every problem named.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ApiFixture, apiFixture, json } from './api-fixture.ts';

let f: ApiFixture;
before(async () => {
  f = await apiFixture();
});
after(() => f?.close());

test('recovery is a change: without the token it is 401', async () => {
  const res = await f.call('POST', '/api/v1/recover', { destinations: [{ bucket: 'lake' }] }, null);
  assert.equal(res.statusCode, 401);
});

test('bad destinations are 400, each named by its place in the list', async () => {
  const res = await f.call('POST', '/api/v1/recover', {
    destinations: [
      { bucket: 'lake', prefix: 'raw' },
      { bucket: 'Not_A_Bucket', prefix: '../up' },
    ],
  });
  assert.equal(res.statusCode, 400, res.body);
  const paths = (json(res).problems as Array<{ path: string }>).map((p) => p.path);
  assert.deepEqual(paths, ['destinations[1].bucket', 'destinations[1].prefix']);
});

test('no destination, or an unknown field, is refused by the schema', async () => {
  assert.equal((await f.call('POST', '/api/v1/recover', { destinations: [] })).statusCode, 400);
  const res = await f.call('POST', '/api/v1/recover', { destinations: [{ bucket: 'lake' }], force: true });
  assert.equal(res.statusCode, 400);
  assert.match(json(res).message, /force/);
});
