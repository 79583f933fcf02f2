/** A known path with a method it does not take: 405 with Allow, not 404 (found by the API fuzz). */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { routeRegex } from '../../src/api/method-not-allowed.ts';
import { type ApiFixture, apiFixture, json, TOKEN } from './api-fixture.ts';

let f: ApiFixture;
before(async () => {
  f = await apiFixture();
});
after(() => f?.close());

test('route patterns match one segment per parameter', () => {
  const r = routeRegex('/api/v1/topics/:topic');
  assert.ok(r.test('/api/v1/topics/weblogs'));
  assert.ok(!r.test('/api/v1/topics/a/b'));
  assert.ok(!r.test('/api/v1/topics/'));
});

test('TRACE, QUERY or PUT on a known path is 405 and lists the methods it takes', async () => {
  for (const [method, url] of [
    ['TRACE', '/api/v1/status'],
    ['PUT', '/api/v1/topics'],
    ['TRACE', '/api/v1/topics/weblogs'],
    ['QUERY', '/api/v1/ranges/t-0-0-10/retry'],
  ] as const) {
    const res = await f.app.inject({
      method: method as 'PUT',
      url,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(res.statusCode, 405, `${method} ${url}: ${res.body}`);
    const allow = String(res.headers.allow);
    assert.match(
      json(res).message,
      new RegExp(`^${method} is not allowed on ${url.replace(/[/.]/g, '\\$&')}; use `),
    );
    if (url === '/api/v1/topics/weblogs') assert.equal(allow, 'DELETE, GET, HEAD, PATCH, PUT');
    if (url === '/api/v1/topics') assert.equal(allow, 'GET, HEAD, POST');
  }
});

test('without a valid token a change is 401 whatever its method', async () => {
  const res = await f.call('PUT', '/api/v1/topics/weblogs', undefined, null);
  assert.equal(res.statusCode, 401);
});

test('an unknown path is still 404', async () => {
  const res = await f.call('TRACE', '/api/v2/nothing');
  assert.equal(res.statusCode, 404);
});
