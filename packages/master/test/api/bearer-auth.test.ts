/** Who may call what: the bearer-token hook, against a real API on the local stack. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { tokenAccepted } from '../../src/api/bearer-auth.ts';
import { type ApiFixture, apiFixture, json, OTHER_TOKEN, TOKEN } from './api-fixture.ts';

test('tokens are compared by digest, every accepted one checked', () => {
  const d = (t: string) => createHash('sha256').update(t).digest();
  assert.equal(tokenAccepted('b', [d('a'), d('b')]), true);
  assert.equal(tokenAccepted('c', [d('a'), d('b')]), false);
  assert.equal(tokenAccepted('', []), false);
});

describe('with tokens configured', () => {
  let f: ApiFixture;
  before(async () => {
    f = await apiFixture();
  });
  after(() => f?.close());

  test('a change without a token is 401 and says how to send one', async () => {
    const res = await f.call('POST', '/api/v1/topics', { topic: 'x', destination: { bucket: 'abc' } }, null);
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="sluice"');
    assert.deepEqual(json(res), {
      statusCode: 401,
      code: 'SLUICE_ERR_UNAUTHORIZED',
      error: 'Unauthorized',
      message:
        'missing bearer token: send Authorization: Bearer <token> (set SLUICE_API_TOKEN on the master)',
    });
  });

  test('a wrong token is 401 "token not accepted"', async () => {
    for (const method of ['POST', 'PATCH', 'DELETE'] as const) {
      const res = await f.call(method, '/api/v1/topics/some-topic', { paused: true }, 'not-the-token');
      assert.equal(res.statusCode, 401, `${method}: ${res.body}`);
      assert.equal(
        json(res).message,
        'token not accepted: it is not one of the tokens in SLUICE_API_TOKEN on the master',
      );
    }
    const retry = await f.call('POST', '/api/v1/ranges/t-0-0-10/retry', undefined, 'nope');
    assert.equal(retry.statusCode, 401);
  });

  test('a header that is not a bearer token is 401', async () => {
    const res = await f.app.inject({
      method: 'DELETE',
      url: '/api/v1/topics/some-topic',
      headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
    });
    assert.equal(res.statusCode, 401);
    assert.match(json(res).message, /not a bearer token/);
  });

  test('both tokens of a rotation are accepted (the request then goes on to its own checks)', async () => {
    for (const token of [TOKEN, OTHER_TOKEN]) {
      const res = await f.call('DELETE', '/api/v1/topics/not-registered-anywhere', undefined, token);
      assert.equal(res.statusCode, 404, res.body);
    }
  });

  test('the token is checked before the body', async () => {
    const res = await f.call('POST', '/api/v1/topics', { nonsense: true }, null);
    assert.equal(res.statusCode, 401);
  });

  test('reads need no token', async () => {
    for (const url of [
      '/api/v1/topics',
      '/api/v1/status',
      '/api/v1/workers',
      '/metrics',
      '/healthz',
      '/docs/json',
    ]) {
      const res = await f.call('GET', url, undefined, null);
      assert.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 200)}`);
    }
  });
});

describe('with SLUICE_PROTECT_READS', () => {
  let f: ApiFixture;
  before(async () => {
    f = await apiFixture({ SLUICE_PROTECT_READS: 'true' });
  });
  after(() => f?.close());

  test('reads need the token too, except the probes', async () => {
    for (const url of ['/api/v1/topics', '/api/v1/status', '/api/v1/workers', '/metrics', '/docs/json']) {
      const res = await f.call('GET', url, undefined, null);
      assert.equal(res.statusCode, 401, url);
      assert.equal((await f.call('GET', url)).statusCode, 200, url);
    }
    assert.equal((await f.call('GET', '/healthz', undefined, null)).statusCode, 200);
    assert.equal((await f.call('GET', '/readyz', undefined, null)).statusCode, 200);
    const refused = json(await f.call('GET', '/api/v1/status', undefined, null));
    assert.match(refused.message, /reads are protected on this master \(SLUICE_PROTECT_READS\)/);
  });

  test('the dashboard page and its assets open without a token (they hold no data)', async () => {
    for (const url of ['/dashboard', '/dashboard/app.js', '/dashboard/style.css']) {
      const res = await f.call('GET', url, undefined, null);
      assert.equal(res.statusCode, 200, url);
    }
    assert.equal((await f.call('GET', '/', undefined, null)).statusCode, 302);
  });
});

describe('with no token configured', () => {
  let f: ApiFixture;
  before(async () => {
    f = await apiFixture({ SLUICE_API_TOKEN: '' });
  });
  after(() => f?.close());

  test('changes are refused with 403 explaining SLUICE_API_TOKEN', async () => {
    const res = await f.call(
      'POST',
      '/api/v1/topics',
      { topic: 'x', destination: { bucket: 'abc' } },
      'anything',
    );
    assert.equal(res.statusCode, 403);
    assert.equal(json(res).code, 'SLUICE_ERR_FORBIDDEN');
    assert.match(json(res).message, /set SLUICE_API_TOKEN on the master/);
    assert.equal((await f.call('GET', '/api/v1/topics', undefined, null)).statusCode, 200);
  });
});

describe('logging', () => {
  let f: ApiFixture;
  const lines: string[] = [];
  before(async () => {
    const log = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
    f = await apiFixture({}, { log });
  });
  after(() => f?.close());

  test('tokens never reach the log, even at trace level', async () => {
    await f.call(
      'POST',
      '/api/v1/topics',
      { topic: 'x', destination: { bucket: 'abc' } },
      'wrong-secret-token',
    );
    await f.call('DELETE', '/api/v1/topics/not-here');
    await f.call('GET', '/api/v1/topics');
    assert.ok(lines.length > 3, 'requests were logged');
    const all = lines.join('\n');
    assert.doesNotMatch(all, /wrong-secret-token/);
    assert.doesNotMatch(all, new RegExp(TOKEN));
  });
});
