/**
 * The topics-file loop's way into the API (topics-file-converger.ts), on the API built in memory:
 * a refusal keeps the API's code and message and points at the file's line (the refused field's
 * line for a validation problem), the token rule holds for the file as for an operator, and a
 * syntax error's line is read from the parser's error. Applying files on the real stack is
 * test/integration/topics-file.test.ts.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { TopicsFileEntry } from '@sluice/shared';
import { apiConverger } from '../../src/topics/topics-file-converger.ts';
import { TopicRefused } from '../../src/topics/topics-file-loop.ts';
import { apiFixture } from '../api/api-fixture.ts';

const fx = await apiFixture();
after(() => fx.close());

const FILE = [
  'defaults:',
  '  destination: { bucket: test-bucket }',
  'topics:',
  '  - topic: orders',
  '    flushIntervalMs: 5',
  '  - topic: clicks',
  '',
].join('\n');

const converger = () => apiConverger({ app: () => fx.app, zk: () => fx.zk, config: fx.config });

async function refusal(p: Promise<unknown>): Promise<TopicRefused> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof TopicRefused, `expected a refusal, got ${String(err)}`);
  return err;
}

test("a refused field is reported at its line of the file with the API's code", async () => {
  const c = converger();
  const file = c.parse(FILE, 'topics.yaml');
  const orders = file.topics[0] as TopicsFileEntry;
  const r = await refusal(c.apply(orders));
  assert.equal(r.code, 'SLUICE_ERR_VALIDATION');
  assert.equal(r.line, 5);
  assert.match(r.message, /^topics\.yaml:5: orders: flushIntervalMs: must be at least 100/);
});

test("a topic the API refuses for another reason keeps the API's message and the entry's line", async () => {
  const c = converger();
  const clicks = c.parse(FILE, 'topics.yaml').topics[1] as TopicsFileEntry;
  const r = await refusal(c.apply(clicks));
  assert.equal(r.code, 'SLUICE_ERR_TOPIC_NOT_IN_KAFKA');
  assert.equal(r.line, 6);
  assert.match(r.message, /create it in Kafka first/);
  assert.equal((await refusal(c.remove('clicks'))).code, 'SLUICE_ERR_TOPIC_NOT_REGISTERED');
});

test('on a master without an API token the file changes nothing, as the API does for anyone', async () => {
  const bare = await apiFixture({ SLUICE_API_TOKEN: '' });
  after(() => bare.close());
  const c = apiConverger({ app: () => bare.app, zk: () => bare.zk, config: bare.config });
  const clicks = c.parse(FILE, 'topics.yaml').topics[1] as TopicsFileEntry;
  const r = await refusal(c.apply(clicks));
  assert.equal(r.code, 'SLUICE_ERR_FORBIDDEN');
  assert.match(r.message, /changes are disabled because no token is configured: set SLUICE_API_TOKEN/);
});

test("a syntax error's line is read from the parser's error", () => {
  const c = converger();
  let err: unknown;
  try {
    c.parse('topics:\n  - topic: a\n    flushIntervalMs: 5 :\n', 'topics.yaml');
  } catch (e) {
    err = e;
  }
  assert.equal(c.errorLine(err), 3);
  assert.equal(c.errorLine(new Error('topics.yaml:3:1: not ours')), null);
});
