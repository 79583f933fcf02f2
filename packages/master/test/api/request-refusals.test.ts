/**
 * Requests the API refuses say what was refused and why (issue 15 point 5, issue 18 point 5):
 * prototype keys, bodies over the limit (and their 413 in the OpenAPI document), offsets outside the signed 64-bit range and control
 * or format characters in key prefixes. In-memory ZooKeeper; no service.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { topicRecord } from '@sluice/test-kit';
import { createTopic } from '../../src/stores/topic-store.ts';
import { type ApiFixture, apiFixture, json, TOKEN } from './api-fixture.ts';

let f: ApiFixture;
before(async () => {
  f = await apiFixture();
  // A registered topic, for replays (their destination is checked after the topic is found).
  await createTopic(f.zk, topicRecord('orders'));
});
after(() => f?.close());

function post(url: string, payload: string) {
  return f.app.inject({
    method: 'POST',
    url,
    payload,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
  });
}

test('a __proto__ key is refused by name, not as invalid JSON', async () => {
  const res = await post(
    '/api/v1/topics',
    '{"topic":"t","destination":{"bucket":"abc"},"__proto__":{"x":1}}',
  );
  assert.equal(res.statusCode, 400, res.body);
  assert.equal(json(res).code, 'SLUICE_ERR_VALIDATION');
  assert.equal(
    json(res).message,
    'body: the key __proto__ is not accepted (it could change object prototypes); remove it',
  );
  assert.doesNotMatch(json(res).message, /not valid JSON/);
  const nested = await post('/api/v1/replays', '{"topic":"t","destination":{"bucket":"abc","__proto__":{}}}');
  assert.equal(nested.statusCode, 400, nested.body);
  assert.deepEqual(json(nested).problems, [
    {
      path: 'destination',
      message: 'the key __proto__ is not accepted (it could change object prototypes); remove it',
    },
  ]);
  const ctor = await post('/api/v1/topics', '{"constructor":{"prototype":{"x":1}}}');
  assert.equal(ctor.statusCode, 400, ctor.body);
  assert.match(json(ctor).message, /^body: the key constructor with a prototype inside is not accepted/);
});

test('a body that is not JSON says so, with where', async () => {
  const res = await post('/api/v1/topics', '{"topic":');
  assert.equal(res.statusCode, 400);
  assert.match(json(res).message, /^body: is not valid JSON/);
  const empty = await post('/api/v1/topics', '');
  assert.equal(empty.statusCode, 400);
  assert.match(json(empty).message, /^body: /);
});

test('a body over the limit is 413 naming the request and the limit in bytes', async () => {
  const res = await post('/api/v1/topics?x=1', JSON.stringify({ topic: 'a'.repeat(70_000) }));
  assert.equal(res.statusCode, 413);
  assert.equal(json(res).code, 'FST_ERR_CTP_BODY_TOO_LARGE');
  assert.match(json(res).message, /POST \/api\/v1\/topics is larger than the limit of 65536 bytes/);
});

test('the OpenAPI document lists the 413 of every operation a body can be sent to', async () => {
  const doc = json(await f.call('GET', '/docs/json'));
  const withBody: string[] = [];
  for (const [path, ops] of Object.entries(
    doc.paths as Record<string, Record<string, { responses: object }>>,
  )) {
    for (const [method, op] of Object.entries(ops)) {
      const has413 = Object.hasOwn(op.responses, '413');
      if (method === 'get' || method === 'head') assert.equal(has413, false, `${method} ${path}`);
      else {
        assert.equal(has413, true, `${method} ${path} lacks 413`);
        withBody.push(`${method} ${path}`);
      }
    }
  }
  assert.ok(withBody.includes('post /api/v1/topics'), withBody.join(', '));
  assert.ok(withBody.includes('patch /api/v1/topics/{topic}'), withBody.join(', '));
  assert.ok(withBody.includes('post /api/v1/replays'), withBody.join(', '));
});

test('offsets outside the signed 64-bit range are refused by audits, naming the field and the range', async () => {
  for (const [query, field] of [
    ['fromOffset=9223372036854775808', 'querystring.fromOffset'],
    ['toOffset=99999999999999999999', 'querystring.toOffset'],
    ['fromOffset=-1', 'querystring.fromOffset'],
  ] as const) {
    const res = await f.call('GET', `/api/v1/topics/orders/audit?${query}`);
    assert.equal(res.statusCode, 400, `${query}: ${res.body}`);
    const problem = json(res).problems.find((p: { path: string }) => p.path === field);
    assert.ok(problem, `${query}: ${res.body}`);
    assert.match(problem.message, /from 0 to 9223372036854775807/);
  }
  // The largest offset passes the check (404: the topic is not registered).
  const max = await f.call('GET', '/api/v1/topics/payments/audit?fromOffset=9223372036854775807');
  assert.equal(max.statusCode, 404, max.body);
});

test('offsets outside the signed 64-bit range are refused by replays', async () => {
  const res = await f.call('POST', '/api/v1/replays', {
    topic: 'orders',
    destination: { bucket: 'abc', prefix: 'again' },
    fromOffset: '0',
    toOffset: '9223372036854775808',
  });
  assert.equal(res.statusCode, 400, res.body);
  assert.deepEqual(
    json(res).problems.map((p: { path: string }) => p.path),
    ['toOffset'],
  );
  assert.match(json(res).message, /^toOffset: must be a decimal integer from 0 to 9223372036854775807/);
  const negative = await f.call('POST', '/api/v1/replays', {
    topic: 'orders',
    destination: { bucket: 'abc' },
    fromOffset: '-5',
  });
  assert.equal(negative.statusCode, 400, negative.body);
  assert.match(
    json(negative).message,
    /^fromOffset: must be a decimal integer from 0 to 9223372036854775807/,
  );
});

test('range ids with offsets above the 64-bit range are 400', async () => {
  const res = await f.call('POST', '/api/v1/ranges/orders-0-1-9223372036854775808/retry');
  assert.equal(res.statusCode, 400, res.body);
  assert.match(json(res).message, /above 9223372036854775807/);
});

test('control and format characters in a key prefix are refused with their code point', async () => {
  for (const [prefix, shown] of [
    ['raw\u009b31m', 'U+009B'],
    ['raw/\u202Egpj', 'U+202E'],
    ['raw\u200Bx', 'U+200B'],
    ['\uFEFFraw', 'U+FEFF'],
    ['raw\u0007', 'U+0007'],
  ] as const) {
    for (const url of ['/api/v1/topics', '/api/v1/replays']) {
      const res = await f.call('POST', url, { topic: 'orders', destination: { bucket: 'abc', prefix } });
      assert.equal(res.statusCode, 400, `${url} ${shown}: ${res.body}`);
      const problem = json(res).problems?.find((p: { path: string }) => p.path === 'destination.prefix');
      assert.ok(problem, `${url} ${shown}: ${res.body}`);
      assert.match(
        problem.message,
        new RegExp(`control characters or format characters.*${shown.replace('+', '\\+')}`),
      );
    }
  }
});

test('a PATCH of a topic refuses the same characters in its prefix, and a KMS key id with them', async () => {
  const res = await f.call('PATCH', '/api/v1/topics/orders', {
    destination: { bucket: 'abc', prefix: 'raw\u2067x' },
    serverSideEncryption: 'aws:kms',
    kmsKeyId: 'key\u009b',
  });
  assert.equal(res.statusCode, 400, res.body);
  const problems = json(res).problems as Array<{ path: string; message: string }>;
  assert.match(problems.find((p) => p.path === 'destination.prefix')?.message ?? '', /U\+2067/);
  assert.match(problems.find((p) => p.path === 'kmsKeyId')?.message ?? '', /U\+009B/);
});

test('compressionLevel: refused out of its codec range with 400 naming it; stored and answered by GET', async () => {
  const res = await f.call('POST', '/api/v1/topics', {
    topic: 'levels',
    destination: { bucket: 'abc' },
    compression: 'gzip',
    compressionLevel: 12,
  });
  assert.equal(res.statusCode, 400, res.body);
  const problem = (json(res).problems as Array<{ path: string; message: string }>).find(
    (p) => p.path === 'compressionLevel',
  );
  assert.match(problem?.message ?? '', /from 1 to 9 for gzip/);
  await createTopic(f.zk, { ...topicRecord('leveled'), compression: 'zstd', compressionLevel: 1 });
  const got = await f.call('GET', '/api/v1/topics/leveled');
  assert.equal(got.statusCode, 200, got.body);
  assert.equal(json(got).compressionLevel, 1);
});
