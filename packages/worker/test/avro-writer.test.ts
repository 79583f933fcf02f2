/**
 * `format: "avro"` in the range writer: values in the Confluent wire format land in Avro
 * container files that another Avro reader (avsc's block decoder) reads back, one object per
 * writer schema id, each record followed by Kafka's fields (an offset past 2^53 exact); a
 * writer schema that cannot take those fields rejects its records; a retry writes the same bytes (the sync marker comes from the key); a
 * record that cannot be decoded fails the range naming its offset (until rejected-records
 * objects exist); tombstones are counted, not written. No server: the registry is a function.
 */
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { type OutputSpec, outputSpecOf, TOPIC_DEFAULTS, wireHeader } from '@sluice/shared';
import avro from 'avsc';
import { KAFKA_FIELDS, kafkaFieldsOf, syncMarkerOf } from '../src/avro-container.ts';
import { KAFKA_COLUMNS } from '../src/parquet-columns.ts';
import type { FetchedRecord } from '../src/range-reader.ts';
import { RangeWriter } from '../src/range-writer.ts';
import { fakeRegistry, ORDER } from './helpers/fake-registry.ts';
import { memorySink } from './helpers/memory-sink.ts';

const V1 = ORDER;
const V2 = {
  ...V1,
  fields: [...V1.fields, { name: 'qty', type: ['null', 'int'], default: null }],
};
const SCHEMAS: Record<number, object> = { 11: V1, 12: V2 };
const types = { 11: avro.Type.forSchema(V1 as avro.Schema), 12: avro.Type.forSchema(V2 as avro.Schema) };

const registry = () => fakeRegistry(SCHEMAS);

const T0 = Date.UTC(2026, 10, 25, 8);

function record(offset: number, id: 11 | 12 | 99, value: Record<string, unknown> | null): FetchedRecord {
  const type = id === 99 ? types[11] : types[id];
  return {
    offset: BigInt(offset),
    timestamp: BigInt(T0 + offset),
    key: null,
    value: value === null ? null : Buffer.concat([wireHeader(id), type.toBuffer(value)]),
    headers: [],
  };
}

/** The value's fields of records read back, without Kafka's. */
const valuesOf = (records: unknown[]) =>
  records.map((r) =>
    Object.fromEntries(
      Object.entries(r as object).filter(([k]) => !k.startsWith('__kafka_') && !k.startsWith('__sluice_')),
    ),
  );

const spec: OutputSpec = outputSpecOf({
  ...TOPIC_DEFAULTS,
  destination: { bucket: 'lake', prefix: 'avro' },
  format: 'avro',
  compression: 'deflate',
  partitionBy: { kind: 'none' },
  schema: { source: 'registry' },
});
const range = { topic: 'orders', partition: 2, start: 0n, end: 6n };

async function writeRange(records: FetchedRecord[], s: OutputSpec = spec) {
  const objects = new Map<string, Buffer>();
  const writer = new RangeWriter({
    spec: s,
    range,
    schemas: registry(),
    target: { openObjects: async (keys) => keys.map((k) => memorySink(k, objects)) },
  });
  await writer.write(records);
  const entries = await writer.finish();
  return { objects, entries, stats: writer.stats() };
}

/** The records and codec of an Avro container file, as avsc's decoder reads it. */
async function readContainer(bytes: Buffer): Promise<{ codec: string; schema: unknown; records: unknown[] }> {
  const records: unknown[] = [];
  let codec = '';
  let schema: unknown;
  const decoder = new avro.streams.BlockDecoder();
  decoder.on('metadata', (type: avro.Type, c: string) => {
    codec = c;
    schema = type.schema();
  });
  await pipeline(
    Readable.from([bytes]),
    decoder,
    new Writable({
      objectMode: true,
      write(r, _e, cb) {
        records.push({ ...r });
        cb();
      },
    }),
  );
  return { codec, schema, records };
}

test('each writer schema gets its own object, read back by another Avro reader with its schema', async () => {
  const rows = [
    record(0, 11, { id: 1, item: 'a' }),
    record(1, 11, { id: 2, item: 'b' }),
    record(2, 12, { id: 3, item: 'c', qty: 4 }),
    record(3, 11, { id: 4, item: 'd' }),
    record(4, null as never, null),
    record(5, 12, { id: 6, item: 'f', qty: null }),
  ];
  const { objects, entries, stats } = await writeRange(rows);
  assert.deepEqual(
    entries.map((e) => [e.key, e.records, e.firstOffset, e.lastOffset]),
    [
      ['avro/orders/orders-2-00000000000000000000-00000000000000000006-s11.avro', 3, '0', '3'],
      ['avro/orders/orders-2-00000000000000000000-00000000000000000006-s12.avro', 2, '2', '5'],
    ],
  );
  const v1 = await readContainer(objects.get(entries[0]!.key)!);
  assert.equal(v1.codec, 'deflate');
  assert.deepEqual(
    (v1.schema as typeof V1).fields.map((f) => f.name),
    [...V1.fields.map((f) => f.name), ...KAFKA_FIELDS.map((f) => f.name)],
  );
  assert.deepEqual(valuesOf(v1.records), [
    { id: 1, item: 'a' },
    { id: 2, item: 'b' },
    { id: 4, item: 'd' },
  ]);
  const v2 = await readContainer(objects.get(entries[1]!.key)!);
  assert.deepEqual(valuesOf(v2.records), [
    { id: 3, item: 'c', qty: 4 },
    { id: 6, item: 'f', qty: null },
  ]);
  // The tombstone has no value to write: it is in the rejected-records object.
  assert.equal(stats.tombstones, 0);
  assert.equal(stats.rejected?.records, 1);
  assert.equal(stats.records, 5);
});

test('a retry writes identical bytes; the sync marker comes from the key', async () => {
  // With keys and headers, so that Kafka's fields are part of what must repeat.
  const rows = Array.from({ length: 3000 }, (_, i) => ({
    ...record(i, 11, { id: i, item: `item ${i}`.repeat(20) }),
    key: i % 3 === 0 ? null : Buffer.from(`k${i % 11}`),
    headers:
      i % 5 === 0
        ? []
        : ([[Buffer.from('h'), i % 2 ? null : Buffer.from(`v${i}`)]] as FetchedRecord['headers']),
  }));
  const wide = { ...range, end: 3000n };
  const once = async () => {
    const objects = new Map<string, Buffer>();
    const w = new RangeWriter({
      spec,
      range: wide,
      schemas: registry(),
      target: { openObjects: async (keys) => keys.map((k) => memorySink(k, objects)) },
    });
    // Batches of different sizes, as fetches differ between retries.
    for (let i = 0; i < rows.length; i += 700) await w.write(rows.slice(i, i + 700));
    await w.finish();
    return objects;
  };
  const a = await once();
  const b = await once();
  const [key] = [...a.keys()];
  assert.ok(a.get(key!)!.equals(b.get(key!)!));
  assert.ok(a.get(key!)!.subarray(-16).equals(syncMarkerOf(key!)));
  const read = await readContainer(a.get(key!)!);
  assert.equal(read.records.length, 3000);
});

test('codecs: none and zstd write the container codecs null and zstandard', async () => {
  const rows = [record(0, 11, { id: 1, item: 'a' })];
  const plain = await writeRange(rows, { ...spec, compression: 'none' });
  assert.equal((await readContainer([...plain.objects.values()][0]!)).codec, 'null');
  const zstd = await writeRange(rows, { ...spec, compression: 'zstd' });
  const bytes = [...zstd.objects.values()][0]!;
  // avsc has no zstandard codec of its own: the header says the codec.
  assert.ok(bytes.includes(Buffer.from('zstandard')));
});

test('a record whose schema id the registry does not have, or not in the wire format, goes to the rejected-records object with the reason', async () => {
  const notWire: FetchedRecord = { ...record(2, 11, { id: 3, item: 'c' }), value: Buffer.from('{"id":3}') };
  const { objects, entries, stats } = await writeRange([
    record(0, 11, { id: 1, item: 'a' }),
    record(1, 99, { id: 2, item: 'b' }),
    notWire,
  ]);
  assert.deepEqual(
    entries.map((e) => [e.records, e.firstOffset, e.lastOffset]),
    [[1, '0', '0']],
  );
  assert.equal(stats.rejected?.records, 2);
  const lines = objects
    .get(stats.rejected!.key)!
    .toString('utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { offset: string | number; reason: string });
  assert.deepEqual(
    lines.map((l) => String(l.offset)),
    ['1', '2'],
  );
  assert.match(lines[0]!.reason, /schema id 99 is not in the Schema Registry/);
  assert.match(lines[1]!.reason, /not in the Confluent wire format/);
});

test('an avro topic needs a registry on the worker', () => {
  assert.throws(
    () => new RangeWriter({ spec, range, target: { openObjects: async () => [] } }),
    /set SLUICE_SCHEMA_REGISTRY_URL on the workers/,
  );
});

/** avsc's long as a bigint: its default long type stops at 2^53, Kafka offsets do not. */
const bigLong = avro.types.LongType.__with({
  fromBuffer: (b: Buffer) => b.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(n);
    return b;
  },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

test("Kafka's fields follow the value's, named like the Parquet columns: partition, offset, timestamp, key, headers, event time", async () => {
  // The Parquet columns' names, less the tombstone flag: a tombstone has no place in an Avro file.
  assert.deepEqual(
    KAFKA_FIELDS.map((f) => f.name),
    KAFKA_COLUMNS.filter((c) => c !== '__kafka_tombstone'),
  );
  const rows: FetchedRecord[] = [
    {
      ...record(0, 11, { id: 1, item: 'a' }),
      key: Buffer.from([0, 0xff, 7]),
      headers: [
        [Buffer.from('trace'), Buffer.from('t-1')],
        [Buffer.from('empty'), null],
      ],
    },
    record(1, 11, { id: 2, item: 'b' }),
  ];
  const { objects, entries } = await writeRange(rows);
  const read = await readContainer(objects.get(entries[0]!.key)!);
  // avsc reads each header as an instance of its record type: compare their fields.
  const records = read.records.map((r) => {
    const { __kafka_headers: h, ...rest } = r as { __kafka_headers: object[] };
    return { ...rest, __kafka_headers: h.map((x) => ({ ...x })) };
  });
  assert.deepEqual(records, [
    {
      id: 1,
      item: 'a',
      __kafka_partition: 2,
      __kafka_offset: 0,
      __kafka_timestamp: T0,
      __kafka_key: Buffer.from([0, 0xff, 7]),
      __kafka_headers: [
        { key: 'trace', value: Buffer.from('t-1') },
        { key: 'empty', value: null },
      ],
      // No time folders here: the event time is the Kafka timestamp.
      __sluice_event_time: T0,
    },
    {
      id: 2,
      item: 'b',
      __kafka_partition: 2,
      __kafka_offset: 1,
      __kafka_timestamp: T0 + 1,
      __kafka_key: null,
      __kafka_headers: [],
      __sluice_event_time: T0 + 1,
    },
  ]);
});

test('offsets and timestamps beyond 2^53 and below zero are encoded exactly', () => {
  const type = avro.Type.forSchema(
    { type: 'record', name: 'K', fields: KAFKA_FIELDS } as unknown as avro.Schema,
    { registry: { long: bigLong } },
  );
  const offset = 2n ** 62n + 5n;
  const bytes = kafkaFieldsOf({ offset, timestamp: -5n, key: null, value: null, headers: [] }, 7, -5);
  const got = type.fromBuffer(bytes) as Record<string, unknown>;
  assert.equal(got.__kafka_offset, offset);
  // A timestamp-millis field is read as avsc's own long (a number), which holds -5 exactly.
  assert.equal(got.__kafka_timestamp, -5);
  assert.equal(got.__kafka_partition, 7);
  assert.equal(got.__sluice_event_time, -5);
});

test('a writer schema that is not a record, or has a field named like a Kafka field, sends its records to the rejected ones', async () => {
  const clash = { ...V1, fields: [...V1.fields, { name: '__kafka_offset', type: 'long' }] };
  SCHEMAS[21] = clash;
  SCHEMAS[22] = { type: 'string' };
  try {
    const rows: FetchedRecord[] = [
      record(0, 11, { id: 1, item: 'a' }),
      {
        ...record(1, 11, { id: 2, item: 'b' }),
        value: Buffer.concat([
          wireHeader(21),
          avro.Type.forSchema(clash as avro.Schema).toBuffer({ id: 2, item: 'b', __kafka_offset: 9 }),
        ]),
      },
      {
        ...record(2, 11, { id: 3, item: 'c' }),
        value: Buffer.concat([wireHeader(22), avro.Type.forSchema('string').toBuffer('plain')]),
      },
    ];
    const { objects, entries, stats } = await writeRange(rows);
    assert.deepEqual(
      entries.map((e) => [e.records, e.firstOffset, e.lastOffset]),
      [[1, '0', '0']],
    );
    const reasons = objects
      .get(stats.rejected!.key)!
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { reason: string }).reason);
    assert.equal(reasons.length, 2);
    assert.match(reasons[0]!, /writer schema 21 has a field named __kafka_offset/);
    assert.match(reasons[1]!, /writer schema 22 is not an Avro record/);
  } finally {
    delete SCHEMAS[21];
    delete SCHEMAS[22];
  }
});
