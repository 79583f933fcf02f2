/**
 * Registry values as Parquet: every Avro type and logical type lands in the column type
 * parquet-avro gives it, a decoded value fills the row exactly (longs beyond 2^53, decimals,
 * unions), and the range writer writes one Parquet object per writer schema id, read back here
 * with hyparquet (test/integration/registry-parquet.test.ts reads with pyarrow and DuckDB).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { zstdDecompressSync } from 'node:zlib';
import {
  ErrorCodes,
  outputSpecOf,
  type RegisteredSchema,
  SchemaRegistryClient,
  type SluiceError,
  TOPIC_DEFAULTS,
  wireHeader,
} from '@sluice/shared';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import protobuf from 'protobufjs';
import type { FetchedRecord } from '../src/range-reader.ts';
import { RangeWriter } from '../src/range-writer.ts';
import { type RegistryColumns, registryColumnsOf, unscaledOf } from '../src/registry-columns.ts';
import { avroTypeOf } from '../src/registry-values.ts';
import { memorySink } from './helpers/memory-sink.ts';

const MONEY = { type: 'fixed', name: 'Money', size: 8, logicalType: 'decimal', precision: 18, scale: 2 };
const ALL = {
  type: 'record',
  name: 'Everything',
  namespace: 'x',
  fields: [
    { name: 'b', type: 'boolean' },
    { name: 'i', type: 'int' },
    { name: 'l', type: 'long' },
    { name: 'f', type: 'float' },
    { name: 'd', type: 'double' },
    { name: 's', type: 'string' },
    { name: 'raw', type: 'bytes' },
    { name: 'e', type: { type: 'enum', name: 'Color', symbols: ['RED', 'GREEN'] } },
    { name: 'fx', type: { type: 'fixed', name: 'Four', size: 4 } },
    { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'tus', type: { type: 'long', logicalType: 'timestamp-micros' } },
    { name: 'day', type: { type: 'int', logicalType: 'date' } },
    { name: 'tm', type: { type: 'int', logicalType: 'time-millis' } },
    { name: 'tmu', type: { type: 'long', logicalType: 'time-micros' } },
    { name: 'price', type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 } },
    { name: 'money', type: MONEY },
    { name: 'again', type: 'Money' },
    { name: 'id', type: { type: 'string', logicalType: 'uuid' } },
    { name: 'opt', type: ['null', 'string'] },
    { name: 'either', type: ['null', 'int', 'string'] },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'attrs', type: { type: 'map', values: ['null', 'long'] } },
    {
      name: 'addr',
      type: { type: 'record', name: 'Addr', fields: [{ name: 'city', type: 'string' }] },
    },
  ],
};

const registered = (
  id: number,
  schema: unknown,
  schemaType: 'AVRO' | 'JSON' | 'PROTOBUF' = 'AVRO',
): RegisteredSchema => ({
  id,
  schemaType,
  schema: typeof schema === 'string' && schemaType === 'PROTOBUF' ? schema : JSON.stringify(schema),
  references: [],
});

/** Asserts the physical (else converted) type and the repetition of the columns named in `want`. */
function assertColumns(cols: RegistryColumns, want: Record<string, [string, string]>): void {
  const got = new Map(
    cols.layout.schema.map((e) => [e.name, [e.type ?? e.converted_type ?? 'group', e.repetition_type]]),
  );
  assert.deepEqual(Object.fromEntries(Object.keys(want).map((name) => [name, got.get(name)])), want);
}

test('JSON Schema: properties → columns as Kafka Connect maps them; required is non-null; wrong types are rejections', () => {
  const schema = {
    type: 'object',
    required: ['id'],
    properties: {
      id: { type: 'integer' },
      name: { type: ['string', 'null'] },
      price: { type: 'number' },
      ok: { type: 'boolean' },
      tags: { type: 'array', items: { type: 'string' } },
      attrs: { type: 'object', additionalProperties: { type: 'integer' } },
      addr: { $ref: '#/definitions/Addr' },
      kind: { enum: ['a', 'b'] },
    },
    definitions: { Addr: { type: 'object', properties: { city: { type: 'string' } } } },
  };
  const cols = registryColumnsOf(registered(31, schema, 'JSON'));
  assert.ok(!('reject' in cols), JSON.stringify(cols));
  assertColumns(cols, {
    id: ['INT64', 'REQUIRED'],
    name: ['BYTE_ARRAY', 'OPTIONAL'],
    price: ['DOUBLE', 'OPTIONAL'],
    ok: ['BOOLEAN', 'OPTIONAL'],
    tags: ['LIST', 'OPTIONAL'],
    attrs: ['MAP', 'OPTIONAL'],
    addr: ['group', 'OPTIONAL'],
    city: ['BYTE_ARRAY', 'OPTIONAL'],
    kind: ['BYTE_ARRAY', 'OPTIONAL'],
  });
  const row = cols.valueRow({
    id: 7,
    name: null,
    tags: ['x'],
    attrs: { a: 1 },
    addr: { city: 'Oslo' },
    more: 1,
  });
  assert.deepEqual(row, {
    id: 7n,
    name: null,
    price: null,
    ok: null,
    tags: ['x'],
    attrs: [{ key: 'a', value: 1n }],
    addr: { city: 'Oslo' },
    kind: null,
  });
  assert.throws(() => cols.valueRow({ id: 'seven' }), /id: expected an int64/);
  assert.throws(() => cols.valueRow({ name: 'no id' }), /id: is required/);
});

test('Protobuf: the message named by the record → struct columns; repeated → LIST, map → MAP, enum → string', () => {
  const proto = `syntax = "proto3";
package shop;
enum Color { RED = 0; GREEN = 1; }
message Order { int64 id = 1; string item = 2; repeated string tags = 3; map<string, int32> counts = 4;
  Line first = 5; Color color = 6; float ratio = 7; uint32 small = 8; bytes raw = 9; bool ok = 10;
  message Line { string sku = 1; int32 qty = 2; } }`;
  const Order = protobuf.parse(proto, { keepCase: true }).root.lookupType('shop.Order');
  const cols = registryColumnsOf(registered(41, proto, 'PROTOBUF'), Order);
  assert.ok(!('reject' in cols), JSON.stringify(cols));
  assertColumns(cols, {
    id: ['INT64', 'OPTIONAL'],
    item: ['BYTE_ARRAY', 'OPTIONAL'],
    tags: ['LIST', 'REQUIRED'],
    counts: ['MAP', 'REQUIRED'],
    first: ['group', 'OPTIONAL'],
    color: ['BYTE_ARRAY', 'OPTIONAL'],
    ratio: ['FLOAT', 'OPTIONAL'],
    small: ['INT64', 'OPTIONAL'],
    raw: ['BYTE_ARRAY', 'OPTIONAL'],
  });
  const msg = Order.decode(
    Order.encode({
      id: '9007199254740993',
      item: 'pen',
      tags: ['a'],
      counts: { x: 2 },
      first: { sku: 's', qty: 1 },
      color: 1,
      ratio: 0.5,
      small: 4_000_000_000,
      raw: Buffer.from([1, 2]),
      ok: true,
    }).finish(),
  );
  const value = Order.toObject(msg, { longs: String, enums: String, bytes: String, defaults: true });
  const row = cols.valueRow(value);
  assert.equal(row.id, 9007199254740993n);
  assert.deepEqual(row.counts, [{ key: 'x', value: 2 }]);
  assert.deepEqual(row.first, { sku: 's', qty: 1 });
  assert.equal(row.color, 'GREEN');
  assert.equal(row.small, 4_000_000_000n);
  assert.deepEqual([...(row.raw as Buffer)], [1, 2]);
});

test('every Avro type and logical type becomes the Parquet column parquet-avro gives it', () => {
  const cols = registryColumnsOf(registered(1, ALL));
  assert.ok(!('reject' in cols), JSON.stringify(cols));
  const byName = new Map(cols.layout.schema.map((e) => [e.name, e]));
  const is = (name: string, want: Record<string, unknown>) => {
    const e = byName.get(name);
    assert.ok(e, `no column ${name}`);
    for (const [k, v] of Object.entries(want)) assert.deepEqual(e[k as keyof typeof e], v, `${name}.${k}`);
  };
  is('b', { type: 'BOOLEAN', repetition_type: 'REQUIRED' });
  is('i', { type: 'INT32' });
  is('l', { type: 'INT64' });
  is('f', { type: 'FLOAT' });
  is('d', { type: 'DOUBLE' });
  is('s', { type: 'BYTE_ARRAY', converted_type: 'UTF8' });
  is('raw', { type: 'BYTE_ARRAY', converted_type: undefined });
  is('e', { type: 'BYTE_ARRAY', converted_type: 'UTF8' });
  is('fx', { type: 'FIXED_LEN_BYTE_ARRAY', type_length: 4 });
  is('ts', { type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' } });
  is('tus', { type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } });
  is('day', { type: 'INT32', converted_type: 'DATE' });
  is('tm', { type: 'INT32', logical_type: { type: 'TIME', isAdjustedToUTC: true, unit: 'MILLIS' } });
  is('tmu', { type: 'INT64', logical_type: { type: 'TIME', isAdjustedToUTC: true, unit: 'MICROS' } });
  is('price', { type: 'INT64', converted_type: 'DECIMAL', precision: 10, scale: 2 });
  is('money', { type: 'INT64', converted_type: 'DECIMAL', precision: 18, scale: 2 });
  is('again', { type: 'INT64', converted_type: 'DECIMAL', precision: 18, scale: 2 });
  is('id', { type: 'BYTE_ARRAY', converted_type: 'UTF8' });
  is('opt', { type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' });
  is('either', { repetition_type: 'OPTIONAL', num_children: 2 });
  is('member0', { type: 'INT32', repetition_type: 'OPTIONAL' });
  is('member1', { type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' });
  is('tags', { converted_type: 'LIST', repetition_type: 'REQUIRED' });
  is('attrs', { converted_type: 'MAP' });
  is('addr', { num_children: 1, repetition_type: 'REQUIRED' });
  is('city', { type: 'BYTE_ARRAY', repetition_type: 'REQUIRED' });
  // Kafka's columns first, then the record's fields, in order.
  assert.deepEqual(cols.layout.names.slice(0, 2), ['__kafka_partition', '__kafka_offset']);
  assert.deepEqual(
    cols.layout.names.slice(7),
    ALL.fields.map((f) => f.name),
  );
});

test('a decoded value fills its row exactly: longs past 2^53, decimals, unions, maps', () => {
  const type = avroTypeOf(ALL);
  const value = {
    b: true,
    i: -3,
    l: 9007199254740993n,
    f: 1.5,
    d: 2.25,
    s: 'x',
    raw: Buffer.from([1, 2]),
    e: 'GREEN',
    fx: Buffer.from('abcd'),
    ts: 1_795_593_600_123,
    tus: 1_795_593_600_123_456,
    day: 20_000,
    tm: 3_600_000,
    tmu: 1_000_001,
    price: Buffer.from([0xff, 0x85]), // -123: -1.23
    money: Buffer.from([0, 0, 0, 0, 0, 0, 0x30, 0x39]), // 12345: 123.45
    again: Buffer.alloc(8),
    id: '0b5e1b3c-7d41-4c1e-9a57-2d3f9c6e1a00',
    opt: null,
    either: 'two',
    tags: ['a', 'b'],
    attrs: { k: 1, n: null },
    addr: { city: 'Oslo' },
  };
  const decoded = type.fromBuffer(type.toBuffer(value));
  const cols = registryColumnsOf(registered(2, ALL));
  assert.ok(!('reject' in cols));
  const row = cols.valueRow(decoded);
  assert.equal(row.l, 9007199254740993n);
  assert.equal(row.ts, 1_795_593_600_123n);
  assert.equal(row.tus, 1_795_593_600_123_456n);
  assert.equal(row.tmu, 1_000_001n);
  assert.equal(row.price, -123n);
  assert.equal(row.money, 12345n);
  assert.equal(row.again, 0n);
  assert.deepEqual(row.either, { member0: null, member1: 'two' });
  assert.deepEqual(row.attrs, [
    { key: 'k', value: 1n },
    { key: 'n', value: null },
  ]);
  assert.deepEqual(row.addr, { city: 'Oslo' });
  assert.equal(row.e, 'GREEN');
  assert.equal(unscaledOf(Buffer.from([0x80])), -128n);
  assert.equal(unscaledOf(Buffer.from([0x00, 0x80])), 128n);
});

test('schemas Parquet cannot hold are rejections naming why', () => {
  const why = (schema: unknown, type?: 'JSON') => {
    const c = registryColumnsOf(registered(7, schema, type));
    assert.ok('reject' in c, 'expected a rejection');
    return c.reject;
  };
  const node = {
    type: 'record',
    name: 'Node',
    fields: [{ name: 'next', type: ['null', 'Node'] }],
  };
  assert.match(why(node), /record Node contains itself/);
  assert.match(why({ type: 'record', name: 'E', fields: [] }), /record E has no fields/);
  assert.match(
    why({ type: 'record', name: 'K', fields: [{ name: '__kafka_offset', type: 'long' }] }),
    /"__kafka_offset" starts with "__kafka_"/,
  );
  assert.match(why({ type: 'object' }, 'JSON'), /an object with neither properties nor additionalProperties/);
  assert.match(
    why({ type: 'object', properties: { a: { oneOf: [{ type: 'integer' }, { type: 'integer' }] } } }, 'JSON'),
    /a is one of several schemas of JSON type integer: a value could not say which it is/,
  );
  // A value that is no record lands in one column, `value`.
  const plain = registryColumnsOf(registered(8, 'string'));
  assert.ok(!('reject' in plain));
  assert.deepEqual(plain.layout.names.at(-1), 'value');
  assert.deepEqual(plain.valueRow('hi'), { value: 'hi' });
});

const V1 = {
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'item', type: 'string' },
  ],
};
const V2 = { ...V1, fields: [...V1.fields, { name: 'qty', type: ['null', 'int'], default: null }] };

function record(offset: number, id: 21 | 22, value: Record<string, unknown> | null): FetchedRecord {
  return {
    offset: BigInt(offset),
    timestamp: BigInt(Date.UTC(2026, 10, 25, 8) + offset),
    key: Buffer.from(`k${offset}`),
    value:
      value === null
        ? null
        : Buffer.concat([wireHeader(id), avroTypeOf(id === 21 ? V1 : V2).toBuffer(value)]),
    headers: [],
  };
}

const PROTO = `syntax = "proto3";
message Order { int64 id = 1; string item = 2; }
message Refund { string order = 1; }`;
const protoRoot = protobuf.parse(PROTO, { keepCase: true }).root;
const JSON_ORDER = { type: 'object', required: ['id'], properties: { id: { type: 'integer' } } };
/** What the registry answers per id: the Avro versions above, a JSON Schema, a .proto. */
const KEY_RECORD = { type: 'record', name: 'Key', fields: [{ name: 'user', type: 'string' }] };
const ANSWERS: Record<number, { schema: string; schemaType?: string }> = {
  21: { schema: JSON.stringify(V1) },
  22: { schema: JSON.stringify(V2) },
  23: { schemaType: 'JSON', schema: JSON.stringify(JSON_ORDER) },
  24: { schemaType: 'PROTOBUF', schema: PROTO },
  25: { schema: JSON.stringify('string') },
  26: { schema: JSON.stringify(KEY_RECORD) },
};

const V1_RECORDS = [
  record(0, 21, { id: 1, item: 'a' }),
  record(1, 22, { id: 2, item: 'b', qty: 3 }),
  record(2, 21, { id: 3, item: 'c' }),
  record(3, 21, null),
  { ...record(4, 21, { id: 5, item: 'e' }), value: Buffer.from('{"id":5}') },
  record(5, 22, { id: 6, item: 'f', qty: null }),
];

async function writeRange(batch: number, recs: FetchedRecord[] = V1_RECORDS, key = false) {
  const objects = new Map<string, Buffer>();
  const writer = new RangeWriter({
    spec: outputSpecOf({
      ...TOPIC_DEFAULTS,
      destination: { bucket: 'lake', prefix: 'rp' },
      format: 'parquet',
      compression: 'zstd',
      partitionBy: { kind: 'none' },
      schema: { source: 'registry', ...(key ? { key } : {}) },
    }),
    range: { topic: 'orders', partition: 1, start: 0n, end: 6n },
    schemas: new SchemaRegistryClient({
      url: 'http://registry',
      get: async (path) => {
        const answer = ANSWERS[Number(path.split('/').pop())];
        return answer
          ? { status: 200, body: JSON.stringify(answer) }
          : { status: 404, body: '{"error_code":40403}' };
      },
    }),
    target: { openObjects: async (keys) => keys.map((k) => memorySink(k, objects)) },
  });
  for (let i = 0; i < recs.length; i += batch) await writer.write(recs.slice(i, i + batch));
  const entries = await writer.finish();
  return { objects, entries, stats: writer.stats() };
}

const arrayBuffer = (file: Buffer) =>
  file.buffer.slice(file.byteOffset, file.byteOffset + file.length) as ArrayBuffer;
const read = async (file: Buffer) =>
  parquetReadObjects({
    file: arrayBuffer(file),
    compressors: { ZSTD: (input: Uint8Array) => new Uint8Array(zstdDecompressSync(input)) },
  });

/** hyparquet reads an unannotated binary column as text or bytes, depending on its version. */
const keyText = (k: unknown) => (typeof k === 'string' ? k : Buffer.from(k as Uint8Array).toString());

test('the range writer writes one Parquet object per writer schema id, the same bytes on a retry', async () => {
  const { objects, entries, stats } = await writeRange(6);
  assert.deepEqual(
    entries.map((e) => [e.key, e.records, e.firstOffset, e.lastOffset]),
    [
      ['rp/orders/orders-1-00000000000000000000-00000000000000000006-s21.parquet', 2, '0', '2'],
      ['rp/orders/orders-1-00000000000000000000-00000000000000000006-s22.parquet', 2, '1', '5'],
    ],
  );
  const v1 = await read(objects.get(entries[0]!.key)!);
  assert.deepEqual(
    v1.map((r) => [r.__kafka_offset, r.id, r.item, keyText(r.__kafka_key)]),
    [
      [0n, 1n, 'a', 'k0'],
      [2n, 3n, 'c', 'k2'],
    ],
  );
  const v2 = await read(objects.get(entries[1]!.key)!);
  assert.deepEqual(
    v2.map((r) => [r.__kafka_offset, r.id, r.qty]),
    [
      [1n, 2n, 3],
      [5n, 6n, null],
    ],
  );
  const meta = parquetMetadata(arrayBuffer(objects.get(entries[1]!.key)!));
  assert.equal(meta.created_by, 'sluice');
  // The tombstone and the value not in the wire format are rejected, with their reasons.
  assert.equal(stats.rejected?.records, 2);
  const reasons = objects
    .get(stats.rejected!.key)!
    .toString()
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { reason: string }).reason);
  assert.match(reasons[0]!, /^tombstone: a Parquet file of a registry schema holds values/);
  assert.match(reasons[1]!, /not in the Confluent wire format/);
  const again = await writeRange(1);
  for (const e of entries) assert.ok(again.objects.get(e.key)!.equals(objects.get(e.key)!), e.key);
});

test('JSON Schema and Protobuf values land as Parquet too; a second message type of one schema id is rejected', async () => {
  const at = (offset: number, value: Buffer): FetchedRecord => ({ ...record(offset, 21, null), value });
  const Order = protoRoot.lookupType('Order');
  const Refund = protoRoot.lookupType('Refund');
  const proto = (indexes: number[], bytes: Uint8Array) =>
    Buffer.concat([wireHeader(24), Buffer.from(indexes), bytes]);
  const { objects, entries, stats } = await writeRange(2, [
    at(0, Buffer.concat([wireHeader(23), Buffer.from('{"id":10,"extra":true}')])),
    at(1, proto([0], Order.encode({ id: '9007199254740993', item: 'pen' }).finish())),
    at(2, Buffer.concat([wireHeader(23), Buffer.from('{"id":"ten"}')])),
    at(3, proto([2, 2], Refund.encode({ order: 'o-1' }).finish())),
    at(4, Buffer.concat([wireHeader(23), Buffer.from('{"id":11}')])),
  ]);
  assert.deepEqual(
    entries.map((e) => [e.key.replace(/^.*-00000000000000000006/, ''), e.records]),
    [
      ['-s23.parquet', 2],
      ['-s24.parquet', 1],
    ],
  );
  const json = await read(objects.get(entries[0]!.key)!);
  assert.deepEqual(
    json.map((r) => [r.__kafka_offset, r.id]),
    [
      [0n, 10n],
      [4n, 11n],
    ],
  );
  const pb = await read(objects.get(entries[1]!.key)!);
  assert.deepEqual(
    pb.map((r) => [r.id, r.item]),
    [[9007199254740993n, 'pen']],
  );
  const reasons = objects
    .get(stats.rejected!.key)!
    .toString()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { offset: number; reason: string });
  assert.deepEqual(
    reasons.map((r) => r.offset),
    [2, 3],
  );
  assert.match(reasons[0]!.reason, /^id: expected an int64/);
  assert.match(reasons[1]!.reason, /holds another message type of the schema/);
});

test('keys decoded by the registry (schema.key: true): __kafka_key typed by the key schema, one object per key schema', async () => {
  const wired = (id: number, schema: unknown, v: unknown) =>
    Buffer.concat([wireHeader(id), avroTypeOf(schema).toBuffer(v)]);
  const keyed = (offset: number, key: Buffer | null): FetchedRecord => ({
    ...record(offset, 21, { id: offset, item: 'x' }),
    key,
  });
  const { objects, entries, stats } = await writeRange(
    3,
    [
      keyed(0, wired(25, 'string', 'u0')),
      keyed(1, wired(26, KEY_RECORD, { user: 'u1' })),
      keyed(2, null),
      keyed(3, Buffer.from('plain')),
      keyed(4, wired(25, 'string', 'u4')),
    ],
    true,
  );
  assert.deepEqual(
    entries.map((e) => [e.key.replace(/^.*-00000000000000000006/, ''), e.records]),
    [
      ['-s21-k25.parquet', 2],
      ['-s21-k26.parquet', 1],
    ],
  );
  const byString = await read(objects.get(entries[0]!.key)!);
  assert.deepEqual(
    byString.map((r) => [r.__kafka_offset, r.__kafka_key, r.id]),
    [
      [0n, 'u0', 0n],
      [4n, 'u4', 4n],
    ],
  );
  const byRecord = await read(objects.get(entries[1]!.key)!);
  assert.deepEqual(
    byRecord.map((r) => r.__kafka_key),
    [{ user: 'u1' }],
  );
  const reasons = objects
    .get(stats.rejected!.key)!
    .toString()
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { reason: string }).reason);
  assert.match(reasons[0]!, /^no key: the topic decodes keys with the Schema Registry/);
  assert.match(reasons[1]!, /^the key: not in the Confluent wire format/);
});

test('a registry that cannot be reached fails the Parquet range as retryable, not as a rejection', async () => {
  const writer = new RangeWriter({
    spec: outputSpecOf({
      ...TOPIC_DEFAULTS,
      destination: { bucket: 'lake', prefix: 'rp' },
      format: 'parquet',
      partitionBy: { kind: 'none' },
      schema: { source: 'registry' },
    }),
    range: { topic: 'orders', partition: 1, start: 0n, end: 1n },
    schemas: new SchemaRegistryClient({
      url: 'http://registry',
      get: async () => {
        throw new Error('connect ECONNREFUSED');
      },
    }),
    target: { openObjects: async () => assert.fail('no object is opened') },
  });
  await assert.rejects(writer.write([record(0, 21, { id: 1, item: 'a' })]), (err: SluiceError) => {
    assert.equal(err.code, ErrorCodes.SCHEMA_REGISTRY);
    assert.equal(err.retryable, true);
    assert.match(err.message, /cannot reach the Schema Registry/);
    return true;
  });
  assert.equal(writer.stats().records, 0);
});
