/**
 * The API's guards without a service (the in-memory fixture and pure pieces): the token bucket
 * of the rate limit, the audit gate (one per topic, cache, window bound), the metrics token,
 * and the redaction of query values in log lines. test/integration/api-guard.test.ts shows the
 * same guards against the real stack and real sockets.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { encodeJson, topicPath } from '@sluice/shared';
import { AuditGate, checkWindowSize, windowOffsets } from '../../src/api/audit-gate.ts';
import { TokenBuckets } from '../../src/api/rate-limit.ts';
import { redactedUrl } from '../../src/api/request-log.ts';
import type { AuditPartition } from '../../src/integrity/audit.ts';
import { type ApiFixture, apiFixture, json } from './api-fixture.ts';

test('a token bucket grants a burst of its size, then one per 60/N seconds, per client', () => {
  let now = 0;
  const b = new TokenBuckets(6, () => now);
  for (let i = 0; i < 6; i++) assert.equal(b.take('a'), 0);
  assert.equal(b.take('a'), 10, 'the next token is 10 s away');
  assert.equal(b.take('b'), 0, 'another client has its own bucket');
  now += 10_000;
  assert.equal(b.take('a'), 0);
  assert.ok(b.take('a') > 0);
});

test('log lines show the path and the query names, never the values', () => {
  assert.equal(redactedUrl('/api/v1/topics'), '/api/v1/topics');
  assert.equal(
    redactedUrl('/a/audit?deep=true&partition=0'),
    '/a/audit?deep=[redacted]&partition=[redacted]',
  );
  assert.equal(redactedUrl('/a?flag&x='), '/a?flag&x=[redacted]');
});

const part = (
  partition: number,
  startOffset: bigint | null,
  committedOffset: bigint | null,
): AuditPartition => ({
  partition,
  startOffset,
  committedOffset,
  committedRecords: null,
});

test('an audit window counts the committed offsets it covers, and a wider one is refused with how to narrow it', () => {
  const parts = [part(0, 100n, 1_100n), part(1, null, 50n), part(2, null, null)];
  assert.equal(windowOffsets(parts, {}), 1_050n);
  assert.equal(windowOffsets(parts, { partition: 0, from: 600n }), 500n);
  assert.equal(windowOffsets(parts, { to: 200n }), 150n);
  checkWindowSize(parts, {}, 1_050);
  assert.throws(
    () => checkWindowSize(parts, {}, 1_000),
    (e: Error) =>
      /would check 1050 offsets, more than the 1000 one audit may check \(SLUICE_AUDIT_MAX_OFFSETS\); narrow it with partition, fromOffset and toOffset \(for example partition=0&fromOffset=100&toOffset=1100; with the CLI: sluice audit --partition 0 --from-offset 100 --to-offset 1100\)/.test(
        e.message,
      ),
  );
});

describe('the audit gate', () => {
  test('a second audit of a topic while one runs is BUSY with a wait; other topics run', async () => {
    const gate = new AuditGate<string>(60_000);
    let finish!: (v: string) => void;
    const first = gate.run('t', 'k1', 'f', () => new Promise<string>((r) => (finish = r)));
    await assert.rejects(
      gate.run('t', 'k2', 'f', async () => 'x'),
      (e: Error & { code?: string; details?: { retryAfterSeconds?: number } }) => {
        assert.equal(e.code, 'SLUICE_ERR_BUSY');
        assert.match(e.message, /an audit of topic t is already running on this master.*try again in 5 s/);
        assert.equal(e.details?.retryAfterSeconds, 5);
        return true;
      },
    );
    assert.equal(await gate.run('u', 'k3', 'f', async () => 'other'), 'other');
    finish('done');
    assert.equal(await first, 'done');
    assert.equal(await gate.run('t', 'k2', 'f', async () => 'after'), 'after', 'free again once it ended');
  });

  test('answers are reused while young and computed from the same state; clear forgets them', async () => {
    let now = 0;
    const gate = new AuditGate<string>(1_000, () => now);
    await gate.run('t', 'k', 'f1', async () => 'a');
    assert.equal(gate.cached('k', 'f1'), 'a');
    assert.equal(gate.cached('k', 'f2'), null, 'something was committed since');
    await gate.run('t', 'k', 'f1', async () => 'b');
    now += 1_000;
    assert.equal(gate.cached('k', 'f1'), null, 'too old');
    await gate.run('t', 'k', 'f1', async () => 'c');
    gate.clear();
    assert.equal(gate.cached('k', 'f1'), null);
    const off = new AuditGate<string>(0, () => now);
    await off.run('t', 'k', 'f1', async () => 'd');
    assert.equal(off.cached('k', 'f1'), null, 'SLUICE_AUDIT_CACHE_MS=0 caches nothing');
  });
});

describe('the API without a service', () => {
  let f: ApiFixture;
  const metricsToken = randomBytes(32).toString('hex');
  before(async () => {
    f = await apiFixture({
      SLUICE_PROTECT_READS: 'true',
      SLUICE_METRICS_TOKEN: metricsToken,
      SLUICE_AUDIT_MAX_OFFSETS: '1000',
    });
  });
  after(() => f?.close());

  test('with reads protected, the metrics token opens /metrics and nothing else; probes stay open', async () => {
    const scrape = await f.call('GET', '/metrics', undefined, metricsToken);
    assert.equal(scrape.statusCode, 200);
    assert.match(scrape.body, /sluice_test_total 3/);
    assert.equal((await f.call('GET', '/metrics')).statusCode, 200, 'the API token works too');
    assert.equal((await f.call('GET', '/metrics', undefined, null)).statusCode, 401);
    assert.equal((await f.call('GET', '/api/v1/status', undefined, metricsToken)).statusCode, 401);
    assert.equal((await f.call('POST', '/api/v1/topics', {}, metricsToken)).statusCode, 401);
    assert.equal((await f.call('GET', '/healthz', undefined, null)).statusCode, 200);
    assert.equal((await f.call('GET', '/readyz', undefined, null)).statusCode, 200);
  });

  test('a 401 answers Connection: close', async () => {
    const res = await f.call('GET', '/api/v1/topics', undefined, null);
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers.connection, 'close');
  });

  test('an audit wider than SLUICE_AUDIT_MAX_OFFSETS is refused before S3 is read', async () => {
    // Only what the audit route reads of a topic record: no S3 exists here, none is asked.
    await f.zk.mkdirp(topicPath('wide'));
    const record = { topic: 'wide', destination: { bucket: 'no-such-bucket', prefix: '' } };
    await f.zk.set(topicPath('wide'), encodeJson(record), -1);
    await f.putPartition('wide', 0, { startOffset: '0', committedOffset: '5000' });
    const res = await f.call('GET', '/api/v1/topics/wide/audit');
    assert.equal(res.statusCode, 400, res.body);
    assert.match(json(res).message, /would check 5000 offsets, more than the 1000/);
  });
});
