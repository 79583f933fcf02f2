/**
 * The registry client's cache and its two kinds of failure: a schema id is asked for once and
 * kept (bounded, least recently used first out); an id the registry does not have rejects the
 * record and is asked again later; a registry that cannot be reached or answers an error is a
 * retryable SLUICE_ERR_SCHEMA_REGISTRY. No server: the transport is a function.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes, isSluiceError } from '../src/errors.ts';
import { type RegistryGet, SchemaRegistryClient } from '../src/schema-registry/registry-client.ts';

const avroAnswer = (id: number) =>
  JSON.stringify({ schema: `{"type":"record","name":"R${id}","fields":[]}`, references: [] });

/** A registry that knows ids 1 to 9 and counts the paths it was asked for. */
function fakeRegistry(): { get: RegistryGet; asked: string[] } {
  const asked: string[] = [];
  const get: RegistryGet = async (path) => {
    asked.push(path);
    const id = Number(/\/schemas\/ids\/(\d+)$/.exec(path)?.[1]);
    if (id >= 1 && id <= 9) return { status: 200, body: avroAnswer(id) };
    return { status: 404, body: '{"error_code":40403,"message":"Schema not found"}' };
  };
  return { get, asked };
}

test('a schema id is fetched once and then answered from the cache; concurrent lookups share one request', async () => {
  const fake = fakeRegistry();
  const client = new SchemaRegistryClient({ url: 'http://registry:8081/', get: fake.get });
  const [a, b] = await Promise.all([client.schemaById(3), client.schemaById(3)]);
  assert.equal(a, b);
  assert.deepEqual(a, {
    id: 3,
    schemaType: 'AVRO',
    schema: '{"type":"record","name":"R3","fields":[]}',
    references: [],
  });
  assert.equal(await client.schemaById(3), a);
  assert.equal(client.cached(3), a);
  assert.deepEqual(fake.asked, ['/schemas/ids/3']);
  assert.equal(client.url, 'http://registry:8081');
});

test('the cache is bounded: the least recently used schema goes first', async () => {
  const fake = fakeRegistry();
  const client = new SchemaRegistryClient({ url: 'http://r', get: fake.get, maxCached: 2 });
  await client.schemaById(1);
  await client.schemaById(2);
  client.cached(1); // 1 is now more recent than 2
  await client.schemaById(3);
  assert.ok(client.cached(1) !== undefined);
  assert.equal(client.cached(2), undefined);
  assert.ok(client.cached(3) !== undefined);
  await client.schemaById(2);
  assert.deepEqual(fake.asked, ['/schemas/ids/1', '/schemas/ids/2', '/schemas/ids/3', '/schemas/ids/2']);
});

test('an id the registry does not have is a rejection, not cached: it is asked again', async () => {
  const fake = fakeRegistry();
  const client = new SchemaRegistryClient({ url: 'http://r', get: fake.get });
  const first = await client.schemaById(42);
  assert.ok('reject' in first);
  assert.match(first.reject, /schema id 42 is not in the Schema Registry at http:\/\/r \(404/);
  await client.schemaById(42);
  assert.equal(fake.asked.length, 2);
});

test('an unreachable registry, an error answer or a foreign body is a retryable SLUICE_ERR_SCHEMA_REGISTRY, not cached', async () => {
  const answers: Array<() => Promise<{ status: number; body: string }>> = [
    async () => {
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    },
    async () => ({ status: 503, body: 'unavailable' }),
    async () => ({ status: 401, body: 'unauthorized' }),
    async () => ({ status: 200, body: '<html>a proxy page</html>' }),
    async () => ({ status: 200, body: avroAnswer(5) }),
  ];
  const client = new SchemaRegistryClient({ url: 'http://r', get: () => answers.shift()!() });
  const expected = [
    /cannot reach the Schema Registry at http:\/\/r \(ECONNREFUSED\) for schema id 5; check SLUICE_SCHEMA_REGISTRY_URL/,
    /answered GET \/schemas\/ids\/5 with HTTP 503/,
    /HTTP 401 .*check SLUICE_SCHEMA_REGISTRY_USERNAME and SLUICE_SCHEMA_REGISTRY_PASSWORD/,
    /a body that is not JSON/,
  ];
  for (const message of expected) {
    await assert.rejects(client.schemaById(5), (err) => {
      assert.ok(isSluiceError(err, ErrorCodes.SCHEMA_REGISTRY));
      assert.equal(err.retryable, true);
      assert.match(err.message, message);
      return true;
    });
  }
  const found = await client.schemaById(5);
  assert.ok(!('reject' in found) && found.id === 5);
});

test('schemaType: absent means AVRO; JSON and PROTOBUF kept; references kept', async () => {
  const bodies: Record<string, string> = {
    '/schemas/ids/1': JSON.stringify({ schema: '{}', schemaType: 'JSON' }),
    '/schemas/ids/2': JSON.stringify({
      schema: 'syntax = "proto3";',
      schemaType: 'PROTOBUF',
      references: [{ name: 'a.proto', subject: 'a', version: 1 }],
    }),
    '/subjects/a/versions/1': JSON.stringify({ schema: 'message A {}', schemaType: 'PROTOBUF' }),
  };
  const client = new SchemaRegistryClient({
    url: 'http://r',
    get: async (path) => ({ status: 200, body: bodies[path]! }),
  });
  const json = await client.schemaById(1);
  const proto = await client.schemaById(2);
  assert.ok(!('reject' in json) && json.schemaType === 'JSON');
  assert.ok(!('reject' in proto) && proto.schemaType === 'PROTOBUF');
  assert.deepEqual(proto.references, [{ name: 'a.proto', subject: 'a', version: 1 }]);
});

/** A registry of subject versions (path → answer) that counts the paths it was asked for. */
function registryOf(bodies: Record<string, object>): { get: RegistryGet; asked: string[] } {
  const asked: string[] = [];
  const get: RegistryGet = async (path) => {
    asked.push(path);
    const body = bodies[path];
    return body === undefined
      ? { status: 404, body: '{"error_code":40402,"message":"Version not found"}' }
      : { status: 200, body: JSON.stringify(body) };
  };
  return { get, asked };
}

const ref = (name: string, subject: string, version = 1) => ({ name, subject, version });

test('references are fetched with the schema, transitively, dependencies first, each subject version once', async () => {
  const fake = registryOf({
    '/schemas/ids/7': {
      schema: 'order',
      schemaType: 'PROTOBUF',
      references: [ref('a.proto', 'a'), ref('b.proto', 'b')],
    },
    '/schemas/ids/8': { schema: 'other', schemaType: 'PROTOBUF', references: [ref('b.proto', 'b')] },
    '/subjects/a/versions/1': { schema: 'A', schemaType: 'PROTOBUF', references: [ref('c.proto', 'c', 2)] },
    '/subjects/b/versions/1': { schema: 'B', schemaType: 'PROTOBUF', references: [ref('c.proto', 'c', 2)] },
    '/subjects/c/versions/2': { schema: 'C', schemaType: 'PROTOBUF' },
  });
  const client = new SchemaRegistryClient({ url: 'http://r', get: fake.get });
  const order = await client.schemaById(7);
  assert.ok(!('reject' in order));
  assert.deepEqual(
    order.resolved?.map((r) => [r.name, r.subject, r.version, r.schema]),
    [
      ['c.proto', 'c', 2, 'C'],
      ['a.proto', 'a', 1, 'A'],
      ['b.proto', 'b', 1, 'B'],
    ],
  );
  // A second schema reuses the subject versions already fetched; a cached id asks nothing.
  const other = await client.schemaById(8);
  assert.ok(!('reject' in other));
  assert.deepEqual(
    other.resolved?.map((r) => r.schema),
    ['C', 'B'],
  );
  await client.schemaById(7);
  assert.deepEqual(fake.asked, [
    '/schemas/ids/7',
    '/subjects/a/versions/1',
    '/subjects/c/versions/2',
    '/subjects/b/versions/1',
    '/schemas/ids/8',
  ]);
});

test('a reference the registry does not have, a cycle of references or a reference to "latest" rejects the schema; it is asked again later', async () => {
  const fake = registryOf({
    '/schemas/ids/1': { schema: 's', schemaType: 'JSON', references: [ref('gone.json', 'gone', 3)] },
    '/schemas/ids/2': { schema: 's', schemaType: 'JSON', references: [ref('x.json', 'x')] },
    '/subjects/x/versions/1': { schema: 'x', schemaType: 'JSON', references: [ref('y.json', 'y')] },
    '/subjects/y/versions/1': { schema: 'y', schemaType: 'JSON', references: [ref('x.json', 'x')] },
    '/schemas/ids/3': { schema: 's', schemaType: 'JSON', references: [ref('x.json', 'x', -1)] },
  });
  const client = new SchemaRegistryClient({ url: 'http://r', get: fake.get });
  const missing = await client.schemaById(1);
  assert.ok('reject' in missing);
  assert.match(
    missing.reject,
    /^schema id 1 refers to "gone.json" \(subject gone version 3\), which the Schema Registry at http:\/\/r does not have \(404/,
  );
  const cycle = await client.schemaById(2);
  assert.ok('reject' in cycle);
  assert.equal(
    cycle.reject,
    'schema id 2 has references that form a cycle: "x.json" (subject x version 1) → "y.json" (subject y version 1) → "x.json" (subject x version 1); a schema cannot contain itself',
  );
  const latest = await client.schemaById(3);
  assert.ok('reject' in latest);
  assert.match(
    latest.reject,
    /^schema id 3 refers to "x.json" \(subject x\) by version -1, not a concrete version/,
  );
  assert.equal(client.cached(1), undefined);
  await client.schemaById(1);
  assert.equal(fake.asked.filter((p) => p === '/subjects/gone/versions/3').length, 2);
});

test('a registry unreachable while references are fetched is a retryable SLUICE_ERR_SCHEMA_REGISTRY naming the reference', async () => {
  let up = false;
  const fake = registryOf({
    '/schemas/ids/4': { schema: '{}', schemaType: 'JSON', references: [ref('a.json', 'a')] },
    '/subjects/a/versions/1': { schema: '{}', schemaType: 'JSON' },
  });
  const client = new SchemaRegistryClient({
    url: 'http://r',
    get: async (path) => {
      if (path.startsWith('/subjects/') && !up)
        throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
      return fake.get(path);
    },
  });
  await assert.rejects(client.schemaById(4), (err: unknown) => {
    assert.ok(isSluiceError(err) && err.code === ErrorCodes.SCHEMA_REGISTRY && err.retryable);
    assert.match(
      (err as Error).message,
      /cannot reach the Schema Registry at http:\/\/r \(ECONNREFUSED\) for reference "a.json" \(subject a version 1\)/,
    );
    return true;
  });
  assert.equal(client.cached(4), undefined);
  up = true;
  const ok = await client.schemaById(4);
  assert.ok(!('reject' in ok) && ok.resolved?.length === 1);
});
