/**
 * Registry schemas with references, decoded and laid out as a producer meant them: an Avro
 * record using a named type of another subject, a .proto importing another subject's file and
 * google/protobuf's Timestamp and wrappers (which no registry stores), a JSON Schema `$ref` to
 * another subject. What cannot be resolved rejects the records, saying what is missing. No
 * server: the registry is a function (test/integration/registry-references.test.ts runs the
 * same against the stack's registry, read back with pyarrow, DuckDB and fastavro).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { outputSpecOf, SchemaRegistryClient, TOPIC_DEFAULTS, wireHeader } from '@sluice/shared';
import {
  AVRO_ADDR,
  AVRO_ORDER,
  JSON_ADDR,
  JSON_ORDER,
  PROTO_MONEY,
  PROTO_ORDER,
  protoProducerRoot,
} from '@sluice/test-kit';
import avro from 'avsc';
import { RangeWriter } from '../src/range-writer.ts';
import { type RegistryColumns, registryColumnsOf } from '../src/registry-columns.ts';
import { avroSchemaOf, type RegistryValue, RegistryValueDecoder } from '../src/registry-values.ts';
import { memorySink } from './helpers/memory-sink.ts';

const JOB_PROTO = `syntax = "proto3";
import "google/protobuf/duration.proto";
import "google/protobuf/any.proto";
import "google/protobuf/field_mask.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/empty.proto";
import "google/protobuf/timestamp.proto";
message Job {
  google.protobuf.Duration took = 1;
  google.protobuf.Any detail = 2;
  google.protobuf.FieldMask mask = 3;
  repeated google.protobuf.Timestamp seen = 4;
  map<string, google.protobuf.Timestamp> last = 5;
}
message Loose { google.protobuf.Struct attrs = 1; }
message Nothing { google.protobuf.Empty none = 1; }`;

const ref = (name: string, subject: string) => ({ name, subject, version: 1 });
const ANSWERS: Record<string, object> = {
  '/subjects/addr/versions/1': { schema: JSON.stringify(AVRO_ADDR) },
  '/schemas/ids/1': { schema: JSON.stringify(AVRO_ORDER), references: [ref('common.Addr', 'addr')] },
  '/subjects/common/versions/1': { schemaType: 'PROTOBUF', schema: PROTO_MONEY },
  '/schemas/ids/2': {
    schemaType: 'PROTOBUF',
    schema: PROTO_ORDER,
    references: [ref('money.proto', 'common')],
  },
  '/subjects/jaddr/versions/1': { schemaType: 'JSON', schema: JSON.stringify(JSON_ADDR) },
  '/schemas/ids/3': {
    schemaType: 'JSON',
    schema: JSON.stringify(JSON_ORDER),
    references: [ref('addr.json', 'jaddr')],
  },
  // Imports a file it names no reference for.
  '/schemas/ids/4': { schemaType: 'PROTOBUF', schema: PROTO_ORDER },
  // A $ref to a document that is none of its references.
  '/schemas/ids/5': {
    schemaType: 'JSON',
    schema: JSON.stringify({ type: 'object', properties: { a: { $ref: 'other.json' } } }),
    references: [ref('addr.json', 'jaddr')],
  },
  '/schemas/ids/7': { schemaType: 'PROTOBUF', schema: JOB_PROTO },
  // A reference to a subject version the registry does not have (deleted, or another registry's).
  '/schemas/ids/9': { schema: JSON.stringify(AVRO_ORDER), references: [ref('common.Addr', 'gone')] },
  // An Avro schema whose reference is a JSON Schema.
  '/schemas/ids/6': { schema: JSON.stringify(AVRO_ORDER), references: [ref('common.Addr', 'jaddr')] },
};

const registry = () =>
  new SchemaRegistryClient({
    url: 'http://r',
    get: async (path) => {
      const answer = ANSWERS[path];
      return answer ? { status: 200, body: JSON.stringify(answer) } : { status: 404, body: '' };
    },
  });

function decoder(): RegistryValueDecoder {
  return new RegistryValueDecoder(registry(), { avroOnly: null });
}

const wire = (id: number, ...parts: Uint8Array[]) => Buffer.concat([wireHeader(id), ...parts]);

/** Column name → [physical or converted type, repetition], for the columns named in `want`. */
function columnsOf(cols: RegistryColumns, names: string[]): Record<string, unknown> {
  const got = new Map(
    cols.layout.schema.map((e) => [
      e.name,
      [e.type ?? 'group', e.repetition_type, e.logical_type?.type ?? e.converted_type ?? null],
    ]),
  );
  return Object.fromEntries(names.map((n) => [n, got.get(n)]));
}

function decoded(v: RegistryValue | { reject: string }): RegistryValue {
  assert.ok(!('reject' in v), JSON.stringify(v));
  return v;
}

test('an Avro record using a named type of another subject decodes, lays out, and is one self-contained schema', async () => {
  const d = decoder();
  const reg: Record<string, avro.Type> = {};
  avro.Type.forSchema(AVRO_ADDR as avro.Schema, { registry: reg });
  const Order = avro.Type.forSchema(AVRO_ORDER as avro.Schema, { registry: reg });
  const value = { id: 7, ship: { city: 'Oslo', kind: 'HOME' }, bill: { city: 'Bergen', kind: 'WORK' } };
  const v = decoded(await d.decode(wire(1, Order.toBuffer(value))));
  assert.deepEqual(JSON.parse(JSON.stringify(v.value)), value);
  // The file header's schema needs no registry: the referenced type is inlined where first used.
  const whole = avroSchemaOf(v.schema) as typeof AVRO_ORDER;
  assert.deepEqual(whole.fields[1]!.type, {
    type: 'record',
    name: 'common.Addr',
    fields: AVRO_ADDR.fields,
  });
  assert.deepEqual(whole.fields[2]!.type, ['null', 'common.Addr']);
  assert.ok(avro.Type.forSchema(whole as avro.Schema).equals(Order));
  const cols = registryColumnsOf(v.schema);
  assert.ok(!('reject' in cols));
  assert.deepEqual(columnsOf(cols, ['ship', 'city', 'kind', 'bill']), {
    ship: ['group', 'REQUIRED', null],
    city: ['BYTE_ARRAY', 'REQUIRED', 'UTF8'],
    kind: ['BYTE_ARRAY', 'REQUIRED', 'UTF8'],
    bill: ['group', 'OPTIONAL', null],
  });
  assert.deepEqual(cols.valueRow(v.value), { id: 7n, ship: value.ship, bill: value.bill });
  const wrongKind = await d.decode(wire(6, Order.toBuffer(value)));
  assert.ok('reject' in wrongKind);
  assert.match(wrongKind.reject, /reference "common.Addr" \(subject jaddr version 1\) is a JSON schema/);
});

test('a .proto importing another subject and google/protobuf types: Timestamp → epoch ms, wrappers → nullable scalars', async () => {
  const d = decoder();
  const Order = protoProducerRoot(PROTO_MONEY, PROTO_ORDER).lookupType('shop.Order');
  const full = Order.encode(
    Order.fromObject({
      id: '12',
      total: { currency: 'EUR', units: '1500' },
      at: { seconds: '1700000000', nanos: 123_456_789 },
      note: { value: 'gift' },
      qty: { value: '0' },
    }),
  ).finish();
  const v = decoded(await d.decode(wire(2, Buffer.from([0]), full)));
  assert.deepEqual(v.value, {
    id: '12',
    total: { currency: 'EUR', units: '1500' },
    at: 1_700_000_000_123,
    note: 'gift',
    qty: '0',
  });
  const empty = decoded(await d.decode(wire(2, Buffer.from([0]), Order.encode({ id: '1' }).finish())));
  assert.deepEqual(empty.value, { id: '1', total: null, at: null, note: null, qty: null });
  const cols = registryColumnsOf(v.schema, v.message);
  assert.ok(!('reject' in cols));
  assert.deepEqual(columnsOf(cols, ['total', 'units', 'at', 'note', 'qty']), {
    total: ['group', 'OPTIONAL', null],
    units: ['INT64', 'OPTIONAL', null],
    at: ['INT64', 'OPTIONAL', 'TIMESTAMP'],
    note: ['BYTE_ARRAY', 'OPTIONAL', 'UTF8'],
    qty: ['INT64', 'OPTIONAL', null],
  });
  assert.deepEqual(cols.valueRow(v.value), {
    id: 12n,
    total: { currency: 'EUR', units: 1500n },
    at: 1_700_000_000_123n,
    note: 'gift',
    qty: 0n,
  });
  // Without a reference for money.proto the import cannot be had: the record is rejected.
  const missing = await d.decode(wire(4, Buffer.from([0]), full));
  assert.ok('reject' in missing);
  assert.match(
    missing.reject,
    /schema id 4 .*imports "money.proto", neither among its references nor a google\/protobuf well-known type/,
  );
});

test('a JSON Schema $ref to another subject, by its reference name or a URL ending in it, lays out its columns', async () => {
  const d = decoder();
  const v = decoded(await d.decode(wire(3, Buffer.from('{"id":1,"addr":{"city":"Rome"},"zip":100}'))));
  const cols = registryColumnsOf(v.schema);
  assert.ok(!('reject' in cols));
  assert.deepEqual(columnsOf(cols, ['id', 'addr', 'city', 'zip']), {
    id: ['INT64', 'REQUIRED', null],
    addr: ['group', 'OPTIONAL', null],
    city: ['BYTE_ARRAY', 'REQUIRED', 'UTF8'],
    zip: ['INT64', 'OPTIONAL', null],
  });
  assert.deepEqual(cols.valueRow(v.value), { id: 1n, addr: { city: 'Rome' }, zip: 100n, code: null });
  const other = decoded(await d.decode(wire(5, Buffer.from('{"a":1}'))));
  const none = registryColumnsOf(other.schema);
  assert.ok('reject' in none);
  assert.match(none.reject, /a refers to other.json, which is none of the schema's references \(addr.json\)/);
});

test('other well-known types: Duration, Any and FieldMask are structs, Timestamps in lists and maps instants; Struct (recursive) and Empty (no fields) are refused', async () => {
  const d = decoder();
  const Job = protoProducerRoot(JOB_PROTO).lookupType('Job');
  const job = Job.encode(
    Job.fromObject({
      took: { seconds: '90', nanos: 5 },
      detail: { type_url: 'type.googleapis.com/x.Y', value: Buffer.from('hi') },
      mask: { paths: ['a.b'] },
      seen: [{ seconds: '1', nanos: 2_000_000 }],
      last: { x: { seconds: '-1', nanos: 0 } },
    }),
  ).finish();
  const v = decoded(await d.decode(wire(7, Buffer.from([0]), job)));
  const cols = registryColumnsOf(v.schema, v.message);
  assert.ok(!('reject' in cols));
  assert.deepEqual(cols.valueRow(v.value), {
    took: { seconds: 90n, nanos: 5 },
    detail: { type_url: 'type.googleapis.com/x.Y', value: Buffer.from('hi') },
    mask: { paths: ['a.b'] },
    seen: [1002n],
    last: [{ key: 'x', value: -1000n }],
  });
  for (const [index, why] of [
    [1, /message .google.protobuf.Struct contains itself/],
    [2, /message .google.protobuf.Empty has no fields/],
  ] as const) {
    const other = decoded(await d.decode(wire(7, Buffer.from([2, index * 2]), Buffer.alloc(0))));
    const refused = registryColumnsOf(other.schema, other.message);
    assert.ok('reject' in refused);
    assert.match(refused.reject, why);
  }
});

test('an Avro file of a schema with references: the same bytes on a retry; a record whose reference is gone is rejected with the reason', async () => {
  const reg: Record<string, avro.Type> = {};
  avro.Type.forSchema(AVRO_ADDR as avro.Schema, { registry: reg });
  const Order = avro.Type.forSchema(AVRO_ORDER as avro.Schema, { registry: reg });
  const records = [1, 9, 1].map((id, offset) => ({
    offset: BigInt(offset),
    timestamp: BigInt(Date.UTC(2026, 10, 25) + offset),
    key: null,
    value: wire(id, Order.toBuffer({ id: offset, ship: { city: 'c', kind: 'HOME' }, bill: null })),
    headers: [],
  }));
  const writeRange = async () => {
    const objects = new Map<string, Buffer>();
    const writer = new RangeWriter({
      spec: outputSpecOf({
        ...TOPIC_DEFAULTS,
        destination: { bucket: 'lake', prefix: 'rf' },
        format: 'avro',
        partitionBy: { kind: 'none' },
        schema: { source: 'registry' },
      }),
      range: { topic: 'orders', partition: 0, start: 0n, end: 3n },
      schemas: registry(),
      target: { openObjects: async (keys) => keys.map((k) => memorySink(k, objects)) },
    });
    await writer.write(records);
    const entries = await writer.finish();
    return { objects, entries, rejected: writer.stats().rejected };
  };
  const first = await writeRange();
  assert.deepEqual(
    first.entries.map((e) => [e.key, e.records]),
    [['rf/orders/orders-0-00000000000000000000-00000000000000000003-s1.avro', 2]],
  );
  assert.equal(first.rejected?.records, 1);
  const [line] = first.objects.get(first.rejected!.key)!.toString().trim().split('\n');
  const { offset, reason } = JSON.parse(line!) as { offset: number | string; reason: string };
  assert.equal(String(offset), '1');
  assert.match(
    reason,
    /^schema id 9 refers to "common.Addr" \(subject gone version 1\), which the Schema Registry at http:\/\/r does not have \(404/,
  );
  const again = await writeRange();
  for (const [key, bytes] of first.objects) assert.ok(again.objects.get(key)?.equals(bytes), key);
});
