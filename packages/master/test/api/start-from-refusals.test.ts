/**
 * A registration's `startFrom` refused before Kafka is asked (issue 16): a shape that is none
 * of the accepted ones lists them; an object of one shape reports that shape's problems only,
 * naming the field; partition keys, offsets, times and group ids are checked. In-memory
 * ZooKeeper and Kafka; no service.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ApiFixture, apiFixture, json } from './api-fixture.ts';

let f: ApiFixture;
before(async () => {
  f = await apiFixture();
});
after(() => f?.close());

async function refusal(
  startFrom: unknown,
): Promise<{ code: string; problems: Array<{ path: string; message: string }> }> {
  const res = await f.call('POST', '/api/v1/topics?dryRun=true', {
    topic: 'orders',
    destination: { bucket: f.bucket },
    startFrom,
  });
  assert.equal(res.statusCode, 400, res.body);
  return json(res);
}

test('a startFrom of no accepted shape lists the shapes', async () => {
  for (const bad of ['newest', 7, { group: 'x' }, { offsets: {}, timestamp: 1 }]) {
    const r = await refusal(bad);
    assert.equal(r.code, 'SLUICE_ERR_VALIDATION');
    assert.deepEqual(
      r.problems.map((p) => p.path),
      ['startFrom'],
      JSON.stringify(bad),
    );
    assert.match(
      r.problems[0]!.message,
      /^must be "earliest", or "latest", or an object with "offsets", or an object with "timestamp", or an object with "consumerGroup", got /,
    );
  }
});

test('an object of one shape reports the problems of that shape, by field', async () => {
  const offsets = await refusal({ offsets: { '0': 'ten' }, fallback: 'middle', clamp: true });
  assert.deepEqual(offsets.problems.map((p) => p.path).sort(), [
    'startFrom.clamp',
    'startFrom.fallback',
    'startFrom.offsets[0]',
  ]);
  assert.match(
    offsets.problems.find((p) => p.path === 'startFrom.fallback')!.message,
    /^must be one of earliest, latest/,
  );
  assert.match(
    offsets.problems.find((p) => p.path === 'startFrom.clamp')!.message,
    /is not a known field; known fields are offsets, fallback, outOfRange/,
  );
  assert.match(
    offsets.problems.find((p) => p.path === 'startFrom.offsets[0]')!.message,
    /^must be a decimal integer from 0 to 9223372036854775807/,
  );
  const group = await refusal({ consumerGroup: 42 });
  assert.deepEqual(group.problems, [
    { path: 'startFrom.consumerGroup', message: 'must be a string, got 42' },
  ]);
  const empty = await refusal({ offsets: {} });
  assert.equal(empty.problems[0]!.path, 'startFrom.offsets');
});

test('partition keys, times and group ids are checked with a reason', async () => {
  const keys = await refusal({ offsets: { '-1': '5', '01': '5' } });
  assert.deepEqual(keys.problems.map((p) => p.path).sort(), ['startFrom.offsets.-1', 'startFrom.offsets.01']);
  assert.match(
    keys.problems[0]!.message,
    /^must name a partition as a decimal number from 0 to 2147483647 without leading zeros/,
  );
  const flag = await refusal({ timestamp: true });
  assert.deepEqual(flag.problems, [
    { path: 'startFrom.timestamp', message: 'must be an integer, or a string, got true' },
  ]);
  const time = await refusal({ timestamp: 'last tuesday' });
  assert.deepEqual(
    time.problems.map((p) => p.path),
    ['startFrom.timestamp'],
  );
  assert.match(time.problems[0]!.message, /ISO-8601 text with a date and a time/);
  const group = await refusal({ consumerGroup: '' });
  assert.match(group.problems[0]!.message, /^must not be empty: name the consumer group/);
});

test('the OpenAPI document shows the shapes of startFrom', async () => {
  const doc = json(await f.call('GET', '/docs/json'));
  const body = doc.paths['/api/v1/topics'].post.requestBody.content['application/json'].schema;
  const branches = body.properties.startFrom.anyOf as Array<{ required?: string[]; enum?: string[] }>;
  assert.deepEqual(
    branches.map((b) => b.enum ?? b.required),
    [['earliest', 'latest'], ['offsets'], ['timestamp'], ['consumerGroup']],
  );
});
