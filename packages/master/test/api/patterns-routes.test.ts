/**
 * `/api/v1/patterns` on an in-memory ZooKeeper (no service): a pattern is refused with 400
 * naming the field when its expression does not compile, is catastrophic, or its settings
 * would fail every registration; a good one is stored, listed, changed and deleted; changes
 * need the token. Discovery itself is tested in topics/pattern-discovery.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ApiFixture, apiFixture, json } from './api-fixture.ts';

let f: ApiFixture;
before(async () => {
  f = await apiFixture();
});
after(() => f?.close());

type Refusal = { code: string; message: string; problems: Array<{ path: string; message: string }> };

async function refused(body: unknown): Promise<Refusal> {
  const res = await f.call('POST', '/api/v1/patterns', body);
  assert.equal(res.statusCode, 400, res.body);
  return json<Refusal>(res);
}

test('a pattern that does not compile is refused, naming the field and the problem', async () => {
  const r = await refused({
    name: 'orders',
    pattern: 'orders\\.(eu',
    exclude: ['fine', '[unclosed'],
    settings: { destination: { bucket: f.bucket } },
  });
  assert.equal(r.code, 'SLUICE_ERR_VALIDATION');
  assert.deepEqual(
    r.problems.map((p) => p.path),
    ['pattern', 'exclude[1]'],
  );
  assert.match(r.problems[0]!.message, /not a valid JavaScript regular expression/);
  assert.match(r.message, /pattern: is not a valid JavaScript regular expression/);
});

test('nested quantifiers, a bad name and settings a registration would refuse are all reported at once', async () => {
  const r = await refused({
    name: 'orders/eu',
    pattern: '(a+)+',
    settings: {
      destination: { bucket: 'No_Such_Bucket' },
      maxRangeMessages: 10,
      startFrom: { offsets: { '0': '5' } },
    },
  });
  const paths = r.problems.map((p) => p.path).sort();
  assert.deepEqual(paths, [
    'name',
    'pattern',
    'settings.destination.bucket',
    'settings.maxRangeMessages',
    'settings.startFrom',
  ]);
  assert.match(r.problems.find((p) => p.path === 'pattern')!.message, /must not repeat a group/);
  assert.match(
    r.problems.find((p) => p.path === 'settings.startFrom')!.message,
    /offsets belong to one topic/,
  );
});

test('an unknown field, in the pattern or its settings, is refused by the schema', async () => {
  const r = await refused({
    name: 'orders',
    pattern: 'orders\\..*',
    settings: { destination: { bucket: f.bucket }, topic: 'orders.eu' },
  });
  assert.deepEqual(
    r.problems.map((p) => p.path),
    ['settings.topic'],
  );
  assert.match(r.problems[0]!.message, /is not a known field/);
});

test('a pattern is stored, listed, shown, changed and deleted; a second of the same name is 409', async () => {
  const probedBefore = f.probed.length;
  const body = {
    name: 'orders',
    pattern: 'orders\\.(eu|us)\\..*',
    exclude: ['orders\\.eu\\.test'],
    settings: { destination: { bucket: f.bucket, prefix: 'raw' }, format: 'raw' },
  };
  const created = await f.call('POST', '/api/v1/patterns', body);
  assert.equal(created.statusCode, 201, created.body);
  const view = json(created);
  assert.equal(view.name, 'orders');
  assert.equal(view.pattern, body.pattern);
  assert.deepEqual(view.exclude, body.exclude);
  assert.deepEqual(view.deletedTopics, []);
  assert.equal(view.settings.format, 'raw');
  assert.deepEqual(view.topics, []);
  assert.equal(view.discovery, null);
  assert.deepEqual(f.probed.slice(probedBefore), [f.bucket], 'the destination is probed as a registration’s');

  const again = await f.call('POST', '/api/v1/patterns', body);
  assert.equal(again.statusCode, 409, again.body);
  assert.equal(json(again).code, 'SLUICE_ERR_PATTERN_EXISTS');

  const list = json(await f.call('GET', '/api/v1/patterns'));
  assert.deepEqual(
    list.patterns.map((p: { name: string }) => p.name),
    ['orders'],
  );
  const shown = await f.call('GET', '/api/v1/patterns/orders');
  assert.equal(shown.statusCode, 200);
  assert.equal(json(shown).settings.destination.prefix, 'raw');

  const patched = await f.call('PATCH', '/api/v1/patterns/orders', { exclude: ['orders\\.us\\.tmp'] });
  assert.equal(patched.statusCode, 200, patched.body);
  assert.deepEqual(json(patched).exclude, ['orders\\.us\\.tmp']);
  const badPatch = await f.call('PATCH', '/api/v1/patterns/orders', { exclude: ['(x*)*'] });
  assert.equal(badPatch.statusCode, 400);
  assert.equal(json<Refusal>(badPatch).problems[0]!.path, 'exclude[0]');

  const deleted = await f.call('DELETE', '/api/v1/patterns/orders');
  assert.equal(deleted.statusCode, 200, deleted.body);
  const gone = await f.call('GET', '/api/v1/patterns/orders');
  assert.equal(gone.statusCode, 404);
  assert.equal(json(gone).code, 'SLUICE_ERR_PATTERN_NOT_FOUND');
});

test('changes need the token', async () => {
  const res = await f.call(
    'POST',
    '/api/v1/patterns',
    { name: 'x', pattern: 'x', settings: { destination: { bucket: f.bucket } } },
    null,
  );
  assert.equal(res.statusCode, 401);
  assert.equal((await f.call('DELETE', '/api/v1/patterns/x', undefined, null)).statusCode, 401);
});
