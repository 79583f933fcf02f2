/**
 * What a stranger on the network can no longer do to the master's API (issue 18, points 1 and
 * 4), against the real ZooKeeper, Kafka and S3 of the local stack: audits need the token while
 * reads are open, one audit per topic runs at a time, a trickling client is cut off by the
 * request timeout, a 401 closes the connection, changes are rate-limited, a foreign Host is
 * refused, and refusals are logged at debug with query values redacted.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { commitRecordKey, createS3Client, mapLimit } from '@sluice/shared';
import pino from 'pino';
import { type ApiFixture, apiFixture, json, TOKEN } from '../../packages/master/test/api/api-fixture.ts';

/** Every line the master's API logged, parsed. */
const logged: Array<{ level: number; msg: string; url?: string; statusCode?: number }> = [];
const log = pino({ level: 'debug' }, { write: (line: string) => void logged.push(JSON.parse(line)) });

const REQUEST_TIMEOUT_MS = 1_000;

let f: ApiFixture;
let topic: string;
let port: number;

before(async () => {
  f = await apiFixture(
    {
      SLUICE_HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      SLUICE_HTTP_HEADERS_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      SLUICE_RATE_LIMIT_PER_MINUTE: '20',
      SLUICE_ALLOWED_HOSTS: 'localhost,127.0.0.1',
      SLUICE_HTTP_MAX_CONNECTIONS: '3',
    },
    { stack: true, log },
  );
  topic = await f.kafkaTopic(1, 5);
  const res = await f.call('POST', '/api/v1/topics', {
    topic,
    destination: { bucket: f.bucket, prefix: 'raw' },
  });
  assert.equal(res.statusCode, 201, res.body);
  await f.app.listen({ host: '127.0.0.1', port: 0 });
  port = (f.app.server.address() as { port: number }).port;
});
after(() => f?.close());

/** A raw connection to the master, with everything it answered. */
function rawClient(): { socket: Socket; received: () => string; closed: Promise<void> } {
  const socket = connect({ host: '127.0.0.1', port });
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    text += d;
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => {});
  return { socket, received: () => text, closed };
}

describe('reads that cost', () => {
  test('a deep audit without a token is 401 although reads are open; topics are still readable', async () => {
    assert.equal(f.config.protectReads, false);
    assert.equal((await f.call('GET', `/api/v1/topics/${topic}`, undefined, null)).statusCode, 200);
    const res = await f.call('GET', `/api/v1/topics/${topic}/audit?deep=true`, undefined, null);
    assert.equal(res.statusCode, 401);
    assert.equal(json(res).code, 'SLUICE_ERR_UNAUTHORIZED');
    assert.match(json(res).message, /needs a token whether or not reads are protected/);
    const ok = await f.call('GET', `/api/v1/topics/${topic}/audit?deep=true`);
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(json(ok).cached, false);
  });

  test('two audits of one topic at once: one answers, the other is 429 with Retry-After', async () => {
    // Enough commit records (junk: the audit reports them) that an audit reads S3 for a while.
    const s3 = createS3Client(f.config);
    const keys = Array.from({ length: 1_500 }, (_, i) =>
      commitRecordKey('raw', { topic, partition: 0, start: BigInt(i * 10), end: BigInt(i * 10 + 10) }),
    );
    await mapLimit(keys, 32, (Key) => s3.send(new PutObjectCommand({ Bucket: f.bucket, Key, Body: '{}' })));
    s3.destroy();
    const url = `/api/v1/topics/${topic}/audit?fresh=true`;
    const answers = await Promise.all([f.call('GET', url), f.call('GET', url)]);
    assert.deepEqual(
      answers.map((r) => r.statusCode).sort(),
      [200, 429],
      answers.map((r) => r.body).join('\n'),
    );
    const busy = answers.find((r) => r.statusCode === 429)!;
    assert.equal(json(busy).code, 'SLUICE_ERR_BUSY');
    assert.match(json(busy).message, new RegExp(`an audit of topic ${topic} is already running`));
    assert.ok(Number(busy.headers['retry-after']) >= 1, String(busy.headers['retry-after']));
    const done = json(answers.find((r) => r.statusCode === 200)!);
    assert.equal(done.ok, false, 'the junk commit records are found');

    // The same audit again is answered from the cache, saying when it was computed.
    const again = await f.call('GET', `/api/v1/topics/${topic}/audit`);
    assert.equal(again.statusCode, 200);
    assert.equal(json(again).cached, true);
    assert.equal(json(again).checkedAt, done.checkedAt);
  });
});

describe('connections', () => {
  test('a client trickling a body is cut off by the request timeout (408, connection closed)', async () => {
    const c = rawClient();
    const length = 200;
    c.socket.write(
      `POST /api/v1/topics HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`,
    );
    // One byte at a time, far slower than the body could be sent: it would take 40 s in all.
    let sent = 0;
    let open = true;
    void c.closed.then(() => {
      open = false;
    });
    while (open && sent < length) {
      c.socket.write(sent === 0 ? '{' : ' ');
      sent++;
      await new Promise((r) => setTimeout(r, 200));
    }
    await c.closed;
    assert.ok(sent < length, `the whole body was accepted (${sent} bytes): nothing cut the client off`);
    assert.match(c.received(), /^HTTP\/1\.1 408 /);
  });

  test('a 401 closes the connection', async () => {
    const c = rawClient();
    c.socket.write(`GET /api/v1/topics/${topic}/audit HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    await c.closed;
    assert.match(c.received(), /^HTTP\/1\.1 401 /);
    assert.match(c.received(), /\r\nconnection: close\r\n/i);
  });

  test('connections beyond SLUICE_HTTP_MAX_CONNECTIONS are closed; those within are served', async () => {
    const held = [rawClient(), rawClient(), rawClient()];
    await Promise.all(held.map((c) => new Promise((r) => c.socket.once('connect', r))));
    const extra = rawClient();
    extra.socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await extra.closed;
    assert.equal(extra.received(), '', 'the connection over the cap got no answer');
    const first = held[0]!;
    first.socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    await first.closed;
    assert.match(first.received(), /^HTTP\/1\.1 200 /);
    for (const c of held) c.socket.destroy();
    await Promise.all(held.map((c) => c.closed));
  });

  test('a request for another Host name is refused (421); probes answer any Host', async () => {
    const res = await f.app.inject({
      method: 'GET',
      url: '/api/v1/topics',
      headers: { host: 'evil.example:8080' },
    });
    assert.equal(res.statusCode, 421);
    assert.equal(json(res).code, 'SLUICE_ERR_HOST_NOT_ALLOWED');
    assert.match(json(res).message, /does not answer for Host "evil\.example:8080".*SLUICE_ALLOWED_HOSTS/);
    const named = await f.app.inject({
      method: 'GET',
      url: '/api/v1/topics',
      headers: { host: 'localhost:8080' },
    });
    assert.equal(named.statusCode, 200);
    const probe = await f.app.inject({ method: 'GET', url: '/healthz', headers: { host: '10.1.2.3:8080' } });
    assert.equal(probe.statusCode, 200);
  });

  test('changes beyond the rate limit get 429 with Retry-After', async () => {
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<ApiFixture['call']>> | undefined;
    for (let i = 0; i < 30 && !limited; i++) {
      const res = await f.call('PATCH', `/api/v1/topics/${topic}`, { paused: i % 2 === 0 });
      statuses.push(res.statusCode);
      if (res.statusCode === 429) limited = res;
    }
    assert.ok(limited, `no 429 in ${statuses.length} changes: ${statuses.join()}`);
    assert.equal(json(limited).code, 'SLUICE_ERR_RATE_LIMITED');
    assert.match(json(limited).message, /at most 20 a minute \(SLUICE_RATE_LIMIT_PER_MINUTE\)/);
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    // Reads are not limited.
    assert.equal((await f.call('GET', `/api/v1/topics/${topic}`)).statusCode, 200);
  });
});

test('refused requests are logged at debug, never info, and query values are redacted', async () => {
  const path = `/api/v1/topics/${topic}/audit`;
  const before = logged.length;
  await f.call('GET', `${path}?deep=true&partition=0`, undefined, null);
  await f.call('GET', `/api/v1/topics?secretish=hunter2`);
  const lines = logged.slice(before);
  const refused = lines.filter((l) => l.url?.startsWith(path));
  assert.ok(refused.length > 0, JSON.stringify(lines));
  for (const l of refused) assert.equal(l.level, 20, `refusal logged at ${l.level}: ${JSON.stringify(l)}`);
  assert.ok(
    refused.some((l) => l.url === `${path}?deep=[redacted]&partition=[redacted]`),
    JSON.stringify(refused),
  );
  const served = lines.find((l) => l.url?.startsWith('/api/v1/topics?'));
  assert.equal(served?.url, '/api/v1/topics?secretish=[redacted]');
  assert.equal(served?.level, 30);
  const all = JSON.stringify(logged);
  assert.doesNotMatch(all, /hunter2|deep=true/);
  assert.ok(
    logged.every((l) => !(l.level >= 30 && (l.statusCode ?? 0) >= 400 && (l.statusCode ?? 0) < 500)),
    'no 4xx at info or above',
  );
});
