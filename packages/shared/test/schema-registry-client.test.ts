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
