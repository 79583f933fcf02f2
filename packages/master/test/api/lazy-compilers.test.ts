/**
 * The API compiles a route's schemas at its first use (lazy-compilers.ts, issue 14: start-up):
 * every schema still compiles, and a refusal on a route never called before still names every
 * problem. In-memory ZooKeeper.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { compileRouteSchemas } from '../../src/api/index.ts';
import { type ApiFixture, apiFixture, json } from './api-fixture.ts';

let f: ApiFixture;
before(async () => {
  f = await apiFixture();
});
after(() => f?.close());

test('a refusal on the first request of a route names every problem, as when compiled at start', async () => {
  const res = await f.call('POST', '/api/v1/topics', {
    topic: 7,
    destination: { bucket: 'abc' },
    colour: 'red',
  });
  assert.equal(res.statusCode, 400, res.body);
  assert.equal(json(res).code, 'SLUICE_ERR_VALIDATION');
  assert.match(json(res).message, /topic/);
  assert.match(json(res).message, /colour/);
});

test('every route schema not used yet compiles, once', () => {
  assert.ok(compileRouteSchemas(f.app) > 50, 'the API has more than 50 schemas left to compile');
  assert.equal(compileRouteSchemas(f.app), 0);
});
