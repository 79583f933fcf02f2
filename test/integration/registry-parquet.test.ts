/**
 * Issue 13, registry values as Parquet, against the real stack: Avro records of two versions of
 * a schema registered in the stack's Schema Registry (a field added with a default, a field
 * with a default removed), produced in the Confluent wire format into one range, land as one
 * Parquet object per writer schema id; pyarrow (files concatenated with schema promotion, and a
 * dataset over the folder with the unified schema) and DuckDB (`union_by_name`) read the folder
 * as one table: every offset exactly once, values and types as produced (nulls, a nested
 * record, an array, a map, an enum, a decimal, a timestamp-millis, a union of two types). A
 * record not in the wire format and a tombstone go to the rejected-records object, and the
 * audit finds no gap. JSON Schema and Protobuf values of one topic land the same way, and so
 * do schemas with references to other subjects (an Avro named type, .proto imports and
 * google/protobuf's Timestamp and StringValue, a JSON Schema `$ref`).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { wireHeader } from '@sluice/shared';
import {
  AVRO_ADDR,
  AVRO_ORDER,
  JSON_ADDR,
  JSON_ORDER as JSON_REF_ORDER,
  PROTO_MONEY,
  PROTO_ORDER as PROTO_REF_ORDER,
  protoProducerRoot,
} from '@sluice/test-kit';
import protobuf from 'protobufjs';
import { waitCommitted } from '../helpers/end-check.ts';
import { highWatermarks } from '../helpers/kafka.ts';
import { runPython } from '../helpers/python-readers.ts';
import { downloadFolder, getBytes, listAll } from '../helpers/s3.ts';
import { registerAvroSchema, registerSchema, registryUrl, wireEncoder } from '../helpers/schema-registry.ts';
import { topicStack } from '../helpers/topic-stack.ts';

const { s3, bucket, api, newTopic } = topicStack('registry-parquet');
const prefix = 'regpq';

const ADDR = {
  type: 'record',
  name: 'Addr',
  fields: [
    { name: 'city', type: 'string' },
    { name: 'zip', type: ['null', 'string'], default: null },
  ],
};
const V1 = {
  type: 'record',
  name: 'Order',
  namespace: 'sluice.test',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'name', type: 'string' },
    { name: 'price', type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 } },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'color', type: { type: 'enum', name: 'Color', symbols: ['RED', 'GREEN', 'BLUE'] } },
    { name: 'addr', type: ADDR },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'attrs', type: { type: 'map', values: 'long' } },
    { name: 'either', type: ['null', 'long', 'string'], default: null },
    { name: 'legacy', type: ['null', 'string'], default: null },
  ],
};
// Safe evolutions: `legacy` (it had a default) removed, `qty` added with a default.
const V2 = {
  ...V1,
  fields: [...V1.fields.filter((f) => f.name !== 'legacy'), { name: 'qty', type: 'int', default: 0 }],
};

/** A decimal's Avro bytes: the unscaled value, big-endian two's complement. */
function decimalBytes(unscaled: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(unscaled);
  return b;
}

const decimalText = (unscaled: number) =>
  `${unscaled < 0 ? '-' : ''}${Math.floor(Math.abs(unscaled) / 100)}.${String(Math.abs(unscaled) % 100).padStart(2, '0')}`;

// Both engines print rows in one JSON shape (maps as sorted pairs), plus the types they see.
const READ = `
import sys, json, base64, datetime, decimal, glob
import pyarrow as pa, pyarrow.parquet as pq, pyarrow.dataset as ds, duckdb
folder = sys.argv[1]
files = sorted(glob.glob(f'{folder}/**/*.parquet', recursive=True))
def j(v):
  if isinstance(v, (bytes, bytearray)): return base64.b64encode(v).decode()
  if isinstance(v, decimal.Decimal): return str(v)
  if isinstance(v, datetime.datetime):
    return int((v if v.tzinfo else v.replace(tzinfo=datetime.timezone.utc)).timestamp() * 1000)
  if isinstance(v, dict): return {k: j(x) for k, x in v.items()}
  if isinstance(v, (list, tuple)): return [j(x) for x in v]
  return v
def row(r):
  r = {k: v for k, v in r.items() if k not in ('dt', 'hr', '__sluice_event_time', '__kafka_headers')}
  a = r['attrs']
  r['attrs'] = None if a is None else sorted([list(kv) for kv in (a.items() if isinstance(a, dict) else a)])
  return j(r)
tables = [pq.read_table(f) for f in files]
concat = pa.concat_tables(tables, promote_options='default')
unified = pa.unify_schemas([t.schema for t in tables], promote_options='default')
dataset = ds.dataset(files, format='parquet', schema=unified).to_table()
con = duckdb.connect()
rel = con.sql(f"select * from read_parquet('{folder}/**/*.parquet', union_by_name = true)")
duck_types = {c: str(ty) for c, ty in zip(rel.columns, rel.types)}
# Instants come over as epoch ms (Python's zoned datetimes need pytz in DuckDB's client).
rel = rel.select('* replace (epoch_ms(__kafka_timestamp) as __kafka_timestamp, epoch_ms("at") as "at", epoch_ms(__sluice_event_time) as __sluice_event_time)')
print(json.dumps({
  'files': [f[len(folder):] for f in files],
  'concat': [row(r) for r in concat.to_pylist()],
  'dataset': [row(r) for r in dataset.to_pylist()],
  'duck': [row(dict(zip(rel.columns, r))) for r in rel.fetchall()],
  'arrowTypes': {f.name: str(f.type) for f in unified},
  'duckTypes': duck_types,
}))
`;

type Row = Record<string, unknown>;

/**
 * Produces `messages` to the one-partition topic `t`, registers it as Parquet with registry
 * schemas and waits until every offset is committed; returns the topic's folder.
 */
async function landAsParquet(
  t: Awaited<ReturnType<typeof newTopic>>,
  messages: Array<{ key?: string | Buffer | null; value: Buffer | null }>,
  partitionBy: Record<string, string>,
  schema: { source: 'registry'; key?: boolean } = { source: 'registry' },
): Promise<string> {
  await t.producer.send({ topic: t.name, messages });
  const hw = await highWatermarks(t.admin, t.name);
  const res = await api.post('/api/v1/topics', {
    topic: t.name,
    destination: { bucket, prefix },
    format: 'parquet',
    schema,
    partitionBy,
    maxRangeMessages: 10_000,
    flushIntervalMs: 500,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(res.body.compression, 'zstd');
  assert.deepEqual(res.body.schema, schema);
  await waitCommitted(api, t.name, hw);
  return `${prefix}/${t.name}/`;
}

/** The lines of the topic's one rejected-records object, once the audit found them and no gap. */
async function rejectedAndAudited(
  topic: string,
  root: string,
): Promise<Array<{ offset: number; reason: string; key: string }>> {
  const rejected = (await listAll(s3, bucket, root)).filter((o) => o.key.includes('/_sluice/rejected/'));
  assert.equal(rejected.length, 1, JSON.stringify(rejected));
  const lines = (await getBytes(s3, bucket, rejected[0]!.key))
    .toString('utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { offset: number; reason: string; key: string });
  const audit = await api.get(`/api/v1/topics/${topic}/audit`);
  assert.equal(audit.status, 200, JSON.stringify(audit.body));
  assert.equal(audit.body.ok, true, JSON.stringify(audit.body.findings));
  assert.equal(audit.body.partitions[0].rejectedRecords, lines.length);
  assert.equal(audit.body.partitions[0].unknownGapOffsets, '0');
  return lines;
}

test('Avro records of two schema versions land as Parquet, one object per schema id, read by pyarrow and DuckDB as one table', async () => {
  const url = registryUrl();
  const t = await newTopic('orders', 1);
  const topic = t.name;
  const id1 = await registerAvroSchema(url, `${topic}-value`, V1);
  const id2 = await registerAvroSchema(url, `${topic}-value`, V2);
  assert.notEqual(id1, id2);
  const enc = { 1: wireEncoder(id1, V1), 2: wireEncoder(id2, V2) };
  const base = Date.now() - 60_000;
  const expected: Row[] = [];
  const messages: Array<{ key: string | null; value: Buffer | null }> = [];
  // Offsets follow the order of messages (one partition, produced in one send).
  const add = (version: 1 | 2, n: number) => {
    const unscaled = n * 101 - 500;
    const either = n % 3 === 0 ? null : n % 3 === 1 ? n : `s${n}`;
    const value: Row = {
      id: n,
      name: `item ${n} ✓`,
      price: decimalBytes(unscaled),
      at: base + n,
      color: ['RED', 'GREEN', 'BLUE'][n % 3],
      addr: { city: `c${n % 4}`, zip: n % 5 === 0 ? null : `z${n}` },
      tags: n % 4 === 0 ? [] : ['a', `t${n}`],
      attrs: { x: n, y: 1 - n },
      either,
      ...(version === 1 ? { legacy: n % 2 ? `old${n}` : null } : { qty: n * 2 }),
    };
    const key = `k${n}`;
    messages.push({ key, value: enc[version](value) });
    expected.push({
      __kafka_partition: 0,
      __kafka_offset: messages.length - 1,
      __kafka_key: Buffer.from(key).toString('base64'),
      __kafka_tombstone: false,
      id: n,
      name: value.name,
      price: decimalText(unscaled),
      at: base + n,
      color: value.color,
      addr: value.addr,
      tags: value.tags,
      attrs: [
        ['x', n],
        ['y', 1 - n],
      ],
      either:
        either === null
          ? null
          : {
              member0: typeof either === 'number' ? either : null,
              member1: typeof either === 'string' ? either : null,
            },
      legacy: version === 1 ? value.legacy : null,
      qty: version === 2 ? n * 2 : null,
    });
  };
  for (let n = 0; n < 30; n++) add(1, n);
  messages.push({ key: 'gone', value: null });
  for (let n = 30; n < 55; n++) add(2, n);
  messages.push({ key: 'bad', value: Buffer.from('{"id":"not wire format"}') });
  for (let n = 55; n < 65; n++) add(1, n);
  const root = await landAsParquet(t, messages, { kind: 'kafka-time', granularity: 'hour' });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-regpq-'));
  try {
    const keys = await downloadFolder(s3, bucket, root, dir, (k) => k.endsWith('.parquet'));
    const ids = new Set(keys.map((k) => /-\d+-\d{20}-\d{20}-s(\d+)\.parquet$/.exec(k)?.[1]));
    assert.deepEqual(
      [...ids].sort(),
      [String(id1), String(id2)].sort(),
      `one object per writer schema id: ${keys.join(', ')}`,
    );
    const read = runPython<{
      files: string[];
      concat: Row[];
      dataset: Row[];
      duck: Row[];
      arrowTypes: Record<string, string>;
      duckTypes: Record<string, string>;
    }>(READ, [dir]);
    for (const [engine, rows] of [
      ['pyarrow concat_tables', read.concat],
      ['pyarrow dataset', read.dataset],
      ['DuckDB union_by_name', read.duck],
    ] as const) {
      const got = rows
        .map(({ __kafka_timestamp, ...r }) => {
          assert.equal(typeof __kafka_timestamp, 'number', `${engine}: __kafka_timestamp`);
          return r;
        })
        .sort((a, b) => (a.__kafka_offset as number) - (b.__kafka_offset as number));
      assert.equal(got.length, expected.length, `${engine}: row count`);
      assert.deepEqual(
        got.map((r) => r.__kafka_offset),
        expected.map((r) => r.__kafka_offset),
        `${engine}: every offset exactly once`,
      );
      assert.deepEqual(got, expected, `${engine}: values as produced`);
    }
    assert.deepEqual(
      {
        id: read.arrowTypes.id,
        price: read.arrowTypes.price,
        at: read.arrowTypes.at,
        color: read.arrowTypes.color,
        qty: read.arrowTypes.qty,
        legacy: read.arrowTypes.legacy,
        either: read.arrowTypes.either,
        addr: read.arrowTypes.addr,
        tags: read.arrowTypes.tags,
        attrs: read.arrowTypes.attrs,
      },
      {
        id: 'int64',
        price: 'decimal128(10, 2)',
        at: 'timestamp[ms, tz=UTC]',
        color: 'string',
        qty: 'int32',
        legacy: 'string',
        either: 'struct<member0: int64, member1: string>',
        addr: 'struct<city: string not null, zip: string>',
        tags: 'list<element: string not null>',
        attrs: "map<string, int64 ('attrs')>",
      },
    );
    assert.equal(read.duckTypes.price, 'DECIMAL(10,2)');
    assert.equal(read.duckTypes.at, 'TIMESTAMP WITH TIME ZONE');
    assert.equal(read.duckTypes.either, 'STRUCT(member0 BIGINT, member1 VARCHAR)');
    assert.equal(read.duckTypes.attrs, 'MAP(VARCHAR, BIGINT)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // The tombstone and the record not in the wire format: rejected, with their reasons.
  const lines = await rejectedAndAudited(topic, root);
  assert.deepEqual(
    lines.map((l) => [l.offset, Buffer.from(l.key, 'base64').toString()]),
    [
      [30, 'gone'],
      [56, 'bad'],
    ],
  );
  assert.match(lines[0]!.reason, /^tombstone: a Parquet file of a registry schema holds values/);
  assert.match(lines[1]!.reason, /not in the Confluent wire format/);
});

const JSON_ORDER = {
  type: 'object',
  required: ['id'],
  properties: {
    id: { type: 'integer' },
    item: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } },
  },
};
const PROTO_ORDER = `syntax = "proto3";
package shop;
message Order { int64 id = 1; string item = 2; map<string, int32> counts = 3; }`;

// The folder of two schema types as one table: pyarrow concatenated, DuckDB by name.
const READ_TWO = `
import sys, json, glob
import pyarrow as pa, pyarrow.parquet as pq, duckdb
folder = sys.argv[1]
files = sorted(glob.glob(f'{folder}/**/*.parquet', recursive=True))
keep = ['__kafka_offset', 'id', 'item', 'tags', 'counts']
def row(r):
  c = r['counts']
  return {k: (None if c is None else sorted([list(kv) for kv in (c.items() if isinstance(c, dict) else c)])) if k == 'counts' else r[k] for k in keep}
t = pa.concat_tables([pq.read_table(f) for f in files], promote_options='default')
rel = duckdb.sql(f"select {', '.join(keep)} from read_parquet('{folder}/**/*.parquet', union_by_name = true)")
print(json.dumps({
  'arrow': [row(r) for r in t.to_pylist()],
  'duck': [row(dict(zip(keep, r))) for r in rel.fetchall()],
  'types': {f.name: str(f.type) for f in t.schema if f.name in keep},
}))
`;

test('JSON Schema and Protobuf values land as Parquet that pyarrow and DuckDB read back', async () => {
  const url = registryUrl();
  const t = await newTopic('mixed', 1);
  const topic = t.name;
  const jsonId = await registerSchema(url, `${topic}-json-value`, 'JSON', JSON.stringify(JSON_ORDER));
  const protoId = await registerSchema(url, `${topic}-proto-value`, 'PROTOBUF', PROTO_ORDER);
  const Order = protobuf.parse(PROTO_ORDER, { keepCase: true }).root.lookupType('shop.Order');
  const messages: Array<{ value: Buffer }> = [];
  const expected: Row[] = [];
  for (let n = 0; n < 20; n++) {
    if (n % 2 === 0) {
      const value = { id: n, item: `j${n}`, tags: n % 4 === 0 ? [] : [`t${n}`] };
      messages.push({ value: Buffer.concat([wireHeader(jsonId), Buffer.from(JSON.stringify(value))]) });
      expected.push({ __kafka_offset: messages.length - 1, ...value, counts: null });
    } else {
      const value = { id: String(2 ** 53 + n), item: `p${n}`, counts: { a: n } };
      const bytes = Order.encode(value).finish();
      // The message indexes: the count 0 alone names the first message.
      messages.push({ value: Buffer.concat([wireHeader(protoId), Buffer.from([0]), bytes]) });
      expected.push({
        __kafka_offset: messages.length - 1,
        id: 2 ** 53 + n,
        item: `p${n}`,
        tags: null,
        counts: [['a', n]],
      });
    }
  }
  messages.push({ value: Buffer.concat([wireHeader(jsonId), Buffer.from('{"id":"twenty"}')]) });
  const root = await landAsParquet(t, messages, { kind: 'none' });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-regpq-'));
  try {
    const keys = await downloadFolder(s3, bucket, root, dir, (k) => k.endsWith('.parquet'));
    assert.deepEqual(
      keys.map((k) => /-s(\d+)\.parquet$/.exec(k)?.[1]).sort(),
      [String(jsonId), String(protoId)].sort(),
    );
    const read = runPython<{ arrow: Row[]; duck: Row[]; types: Record<string, string> }>(READ_TWO, [dir]);
    // Python's JSON prints the int64s exactly; JSON.parse here rounds past 2^53 as the expectation does.
    for (const [engine, rows] of [
      ['pyarrow', read.arrow],
      ['DuckDB', read.duck],
    ] as const) {
      const got = [...rows].sort((a, b) => (a.__kafka_offset as number) - (b.__kafka_offset as number));
      assert.deepEqual(got, expected, `${engine}: every offset once, values as produced`);
    }
    assert.deepEqual(read.types, {
      __kafka_offset: 'int64',
      id: 'int64',
      item: 'string',
      tags: 'list<element: string not null>',
      counts: "map<string, int32 ('counts')>",
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const [line] = await rejectedAndAudited(topic, root);
  assert.match(line!.reason, /^id: expected an int64/);
});

test('keys decoded by the registry (schema.key: true) land as a typed __kafka_key column', async () => {
  const url = registryUrl();
  const t = await newTopic('keyed', 1);
  const keyId = await registerAvroSchema(url, `${t.name}-key`, {
    type: 'record',
    name: 'K',
    fields: [{ name: 'user', type: 'string' }],
  });
  const valueId = await registerAvroSchema(url, `${t.name}-value`, V2);
  const key = wireEncoder(keyId, { type: 'record', name: 'K', fields: [{ name: 'user', type: 'string' }] });
  const value = wireEncoder(valueId, V2);
  const messages = Array.from({ length: 10 }, (_, n) => ({
    key: key({ user: `u${n}` }),
    value: value({
      id: n,
      name: `n${n}`,
      price: decimalBytes(n),
      at: Date.now() - 1000,
      color: 'RED',
      addr: { city: 'c', zip: null },
      tags: [],
      attrs: {},
      either: null,
      qty: n,
    }),
  }));
  messages.push({ key: Buffer.from('not wire'), value: messages[0]!.value });
  const root = await landAsParquet(t, messages, { kind: 'none' }, { source: 'registry', key: true });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-regpq-'));
  try {
    const keys = await downloadFolder(s3, bucket, root, dir, (k) => k.endsWith('.parquet'));
    assert.deepEqual(
      keys.map((k) => /-s\d+-k\d+\.parquet$/.exec(k)?.[0]),
      [`-s${valueId}-k${keyId}.parquet`],
    );
    const read = runPython<{ arrow: Row[]; duck: Row[]; type: string }>(
      `
import sys, json, glob
import pyarrow.parquet as pq, duckdb
files = sorted(glob.glob(f'{sys.argv[1]}/**/*.parquet', recursive=True))
t = pq.read_table(files[0])
rel = duckdb.sql(f"select __kafka_offset, __kafka_key, qty from read_parquet('{sys.argv[1]}/**/*.parquet', union_by_name = true) order by 1")
print(json.dumps({'arrow': t.select(['__kafka_offset', '__kafka_key', 'qty']).to_pylist(), 'duck': [dict(zip(['__kafka_offset', '__kafka_key', 'qty'], r)) for r in rel.fetchall()], 'type': str(t.schema.field('__kafka_key').type)}))
`,
      [dir],
    );
    const expected = Array.from({ length: 10 }, (_, n) => ({
      __kafka_offset: n,
      __kafka_key: { user: `u${n}` },
      qty: n,
    }));
    assert.deepEqual(read.arrow, expected);
    assert.deepEqual(read.duck, expected);
    assert.equal(read.type, 'struct<user: string not null>');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const [line] = await rejectedAndAudited(t.name, root);
  assert.match(line!.reason, /^the key: not in the Confluent wire format/);
});

// Schemas that use others registered under their own subjects (`references`), as Confluent
// producers register them; google/protobuf's well-known types are imported with no reference.
// Each file on its own (one per writer schema): its rows and column types, by pyarrow and DuckDB.
const READ_EACH = `
import sys, json, glob, datetime
import pyarrow as pa, pyarrow.parquet as pq, duckdb
def j(v):
  if isinstance(v, datetime.datetime):
    return int((v if v.tzinfo else v.replace(tzinfo=datetime.timezone.utc)).timestamp() * 1000)
  if isinstance(v, dict): return {k: j(x) for k, x in v.items()}
  if isinstance(v, (list, tuple)): return [j(x) for x in v]
  return v
out = {}
for f in sorted(glob.glob(f'{sys.argv[1]}/**/*.parquet', recursive=True)):
  t = pq.read_table(f)
  cols = ['__kafka_offset'] + [c for c in t.column_names if not c.startswith('__')]
  # DuckDB's zoned timestamps come over as epoch ms (its client needs pytz for datetimes).
  sel = ', '.join(f'epoch_ms("{c}") as "{c}"' if pa.types.is_timestamp(t.schema.field(c).type) else f'"{c}"' for c in cols)
  duck = duckdb.sql(f"select {sel} from read_parquet('{f}') order by 1").fetchall()
  out[f.rsplit('-s', 1)[1].split('.')[0]] = {
    'arrow': [j({c: r[c] for c in cols}) for r in t.to_pylist()],
    'duck': [j(dict(zip(cols, r))) for r in duck],
    'types': {c: str(t.schema.field(c).type) for c in cols},
  }
print(json.dumps(out))
`;

test('schemas with references (an Avro named type, .proto imports incl. google/protobuf Timestamp and wrappers, a JSON Schema $ref) and a JSON Schema union of two types land as Parquet read back as produced', async () => {
  const url = registryUrl();
  const t = await newTopic('refs', 1);
  const s = (name: string) => `${t.name}-${name}`;
  await registerAvroSchema(url, s('addr'), AVRO_ADDR);
  const avroId = await registerAvroSchema(url, s('avro-value'), AVRO_ORDER, [
    { name: 'common.Addr', subject: s('addr'), version: 1 },
  ]);
  await registerSchema(url, s('money'), 'PROTOBUF', PROTO_MONEY);
  const protoId = await registerSchema(url, s('proto-value'), 'PROTOBUF', PROTO_REF_ORDER, [
    { name: 'money.proto', subject: s('money'), version: 1 },
  ]);
  await registerSchema(url, s('jaddr'), 'JSON', JSON.stringify(JSON_ADDR));
  const jsonId = await registerSchema(url, s('json-value'), 'JSON', JSON.stringify(JSON_REF_ORDER), [
    { name: 'addr.json', subject: s('jaddr'), version: 1 },
  ]);
  const avroOrder = wireEncoder(avroId, AVRO_ORDER, [AVRO_ADDR]);
  const ProtoOrder = protoProducerRoot(PROTO_MONEY, PROTO_REF_ORDER).lookupType('shop.Order');
  const at = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  const messages: Array<{ value: Buffer }> = [];
  const expected: Record<string, Row[]> = { [avroId]: [], [protoId]: [], [jsonId]: [] };
  for (let n = 0; n < 18; n++) {
    const __kafka_offset = messages.length;
    if (n % 3 === 0) {
      const ship = { city: `c${n}`, kind: n % 2 ? 'WORK' : 'HOME' };
      const bill = n % 2 ? null : { city: `b${n}`, kind: 'HOME' };
      messages.push({ value: avroOrder({ id: n, ship, bill }) });
      expected[avroId]!.push({ __kafka_offset, id: n, ship, bill });
    } else if (n % 3 === 1) {
      const value = {
        id: String(n),
        total: { currency: 'EUR', units: String(n * 100) },
        at: { seconds: String(Math.floor((at + n) / 1000)), nanos: ((at + n) % 1000) * 1e6 + 999 },
        ...(n % 2 ? { note: { value: `note ${n}` } } : { qty: { value: String(n) } }),
      };
      const bytes = ProtoOrder.encode(ProtoOrder.fromObject(value)).finish();
      messages.push({ value: Buffer.concat([wireHeader(protoId), Buffer.from([0]), bytes]) });
      expected[protoId]!.push({
        __kafka_offset,
        id: n,
        total: { currency: 'EUR', units: n * 100 },
        at: at + n,
        note: n % 2 ? `note ${n}` : null,
        qty: n % 2 ? null : n,
      });
    } else {
      // `code` is a string or an integer: the member of its type is set.
      const code = n % 4 === 2 ? `x${n}` : n;
      const value = { id: n, addr: { city: `j${n}` }, zip: 1000 + n, code };
      messages.push({ value: Buffer.concat([wireHeader(jsonId), Buffer.from(JSON.stringify(value))]) });
      const member =
        typeof code === 'string' ? { member0: code, member1: null } : { member0: null, member1: code };
      expected[jsonId]!.push({ __kafka_offset, ...value, code: member });
    }
  }
  const folder = await landAsParquet(t, messages, { kind: 'none' });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-regpq-'));
  try {
    await downloadFolder(s3, bucket, folder, dir, (k) => k.endsWith('.parquet'));
    const read = runPython<Record<string, { arrow: Row[]; duck: Row[]; types: Record<string, string> }>>(
      READ_EACH,
      [dir],
    );
    assert.deepEqual(
      Object.keys(read).sort(),
      Object.keys(expected).sort(),
      'one object per writer schema id',
    );
    for (const [id, rows] of Object.entries(expected)) {
      assert.deepEqual(read[id]!.arrow, rows, `schema ${id}, pyarrow: every offset once, values as produced`);
      assert.deepEqual(read[id]!.duck, rows, `schema ${id}, DuckDB: every offset once, values as produced`);
    }
    assert.deepEqual(read[avroId]!.types, {
      __kafka_offset: 'int64',
      id: 'int64',
      ship: 'struct<city: string not null, kind: string not null>',
      bill: 'struct<city: string not null, kind: string not null>',
    });
    assert.deepEqual(read[protoId]!.types, {
      __kafka_offset: 'int64',
      id: 'int64',
      total: 'struct<currency: string, units: int64>',
      at: 'timestamp[ms, tz=UTC]',
      note: 'string',
      qty: 'int64',
    });
    assert.deepEqual(read[jsonId]!.types, {
      __kafka_offset: 'int64',
      id: 'int64',
      addr: 'struct<city: string not null>',
      zip: 'int64',
      code: 'struct<member0: string, member1: int64>',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rejected = (await listAll(s3, bucket, folder)).filter((o) => o.key.includes('/_sluice/rejected/'));
  assert.deepEqual(rejected, [], 'no record rejected');
});
