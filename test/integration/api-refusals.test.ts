/**
 * What the API refuses, and how it says so, over real HTTP to a master on the local stack
 * (issue 15 point 5, issue 18 point 5): a `__proto__` key is refused by name (the body is valid
 * JSON), a body over the limit is 413 naming the limit, offsets beyond the signed 64-bit range
 * are refused by audits, replays and range ids, and control or format characters never reach a
 * key prefix. The same rules are unit-tested with every variant in
 * packages/master/test/api/request-refusals.test.ts; this file shows them on the wire.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ApiFixture, apiFixture, TOKEN } from '../../packages/master/test/api/api-fixture.ts';

let f: ApiFixture;
let topic: string;
let base: string;

before(async () => {
  f = await apiFixture({}, { stack: true });
  topic = await f.kafkaTopic(1, 5);
  await f.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(f.app.server.address() as { port: number }).port}`;
  const res = await send(
    'POST',
    '/api/v1/topics',
    JSON.stringify({ topic, destination: { bucket: f.bucket } }),
  );
  assert.equal(res.status, 201, JSON.stringify(res.body));
});
after(() => f?.close());

async function send(
  method: string,
  path: string,
  body?: string,
): Promise<{
  status: number;
  body: { code?: string; message?: string; problems?: Array<{ path: string; message: string }> };
}> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body }),
  });
  return { status: res.status, body: (await res.json()) as never };
}

test('a __proto__ key is refused by name and reason, not as invalid JSON; nothing is registered', async () => {
  const res = await send(
    'POST',
    '/api/v1/topics',
    `{"topic":"${topic}-x","destination":{"bucket":"${f.bucket}"},"__proto__":{"paused":true}}`,
  );
  assert.equal(res.status, 400);
  assert.equal(
    res.body.message,
    'body: the key __proto__ is not accepted (it could change object prototypes); remove it',
  );
  assert.equal((await send('GET', `/api/v1/topics/${topic}-x`)).status, 404);
});

test('a body over the limit is 413 and says the limit in bytes', async () => {
  const res = await send(
    'PATCH',
    `/api/v1/topics/${topic}`,
    JSON.stringify({ destination: { bucket: f.bucket, prefix: 'p'.repeat(70_000) } }),
  );
  assert.equal(res.status, 413);
  assert.match(
    res.body.message ?? '',
    /PATCH \/api\/v1\/topics\/\S+ is larger than the limit of 65536 bytes/,
  );
});

test('offsets beyond 2^63 - 1 are refused by the audit, a replay and a range id, naming the field', async () => {
  const audit = await send(
    'GET',
    `/api/v1/topics/${topic}/audit?partition=0&fromOffset=0&toOffset=9223372036854775808`,
  );
  assert.equal(audit.status, 400, JSON.stringify(audit.body));
  assert.match(
    audit.body.problems?.find((p) => p.path === 'querystring.toOffset')?.message ?? '',
    /from 0 to 9223372036854775807/,
  );
  const replay = await send(
    'POST',
    '/api/v1/replays',
    JSON.stringify({
      topic,
      destination: { bucket: f.bucket, prefix: 'again' },
      fromOffset: '0',
      toOffset: '9223372036854775808',
    }),
  );
  assert.equal(replay.status, 400, JSON.stringify(replay.body));
  assert.deepEqual(
    replay.body.problems?.map((p) => p.path),
    ['toOffset'],
  );
  const range = await send('POST', `/api/v1/ranges/${topic}-0-1-9223372036854775808/retry`);
  assert.equal(range.status, 400, JSON.stringify(range.body));
  assert.match(range.body.message ?? '', /above 9223372036854775807/);
});

test('a C1 control or a bidi override in a prefix is refused with its code point, at registration and by PATCH', async () => {
  for (const [prefix, shown] of [
    ['raw\u009b31m', 'U\\+009B'],
    ['raw/\u202Egpj', 'U\\+202E'],
  ] as const) {
    const post = await send(
      'POST',
      '/api/v1/topics',
      JSON.stringify({ topic: `${topic}-y`, destination: { bucket: f.bucket, prefix } }),
    );
    assert.equal(post.status, 400, JSON.stringify(post.body));
    assert.match(
      post.body.problems?.find((p) => p.path === 'destination.prefix')?.message ?? '',
      new RegExp(shown),
    );
    const patch = await send(
      'PATCH',
      `/api/v1/topics/${topic}`,
      JSON.stringify({ destination: { bucket: f.bucket, prefix } }),
    );
    assert.equal(patch.status, 400, JSON.stringify(patch.body));
    assert.match(
      patch.body.problems?.find((p) => p.path === 'destination.prefix')?.message ?? '',
      new RegExp(shown),
    );
  }
  // The stored topic kept its destination.
  const stored = await send('GET', `/api/v1/topics/${topic}`);
  assert.deepEqual((stored.body as unknown as { destination: { prefix: string } }).destination.prefix, '');
});
