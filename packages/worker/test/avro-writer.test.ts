/**
 * `format: "avro"` in the range writer: values in the Confluent wire format land in Avro
 * container files that another Avro reader (avsc's block decoder) reads back, one object per
 * writer schema id; a retry writes the same bytes (the sync marker comes from the key); a
 * record that cannot be decoded fails the range naming its offset (until rejected-records
 * objects exist); tombstones are counted, not written. No server: the registry is a function.
 */
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import {
  type OutputSpec,
  outputSpecOf,
  SchemaRegistryClient,
  TOPIC_DEFAULTS,
  wireHeader,
} from '@sluice/shared';
import avro from 'avsc';
import { syncMarkerOf } from '../src/avro-container.ts';
import type { FetchedRecord } from '../src/range-reader.ts';
import { RangeWriter } from '../src/range-writer.ts';
import { memorySink } from './helpers/memory-sink.ts';

const V1 = {
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'item', type: 'string' },
  ],
};
const V2 = {
  ...V1,
  fields: [...V1.fields, { name: 'qty', type: ['null', 'int'], default: null }],
};
const SCHEMAS: Record<number, object> = { 11: V1, 12: V2 };
const types = { 11: avro.Type.forSchema(V1 as avro.Schema), 12: avro.Type.forSchema(V2 as avro.Schema) };

function registry(): SchemaRegistryClient {
  return new SchemaRegistryClient({
    url: 'http://registry',
    get: async (path) => {
      const id = Number(path.split('/').pop());
      const schema = SCHEMAS[id];
      return schema
        ? { status: 200, body: JSON.stringify({ schema: JSON.stringify(schema) }) }
        : { status: 404, body: '{"error_code":40403}' };
    },
  });
}

function record(offset: number, id: 11 | 12 | 99, value: Record<string, unknown> | null): FetchedRecord {
  const type = id === 99 ? types[11] : types[id];
  return {
    offset: BigInt(offset),
    timestamp: BigInt(Date.UTC(2026, 10, 25, 8) + offset),
    key: null,
    value: value === null ? null : Buffer.concat([wireHeader(id), type.toBuffer(value)]),
    headers: [],
  };
}

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
  assert.deepEqual(v1.schema, V1);
  assert.deepEqual(v1.records, [
    { id: 1, item: 'a' },
    { id: 2, item: 'b' },
    { id: 4, item: 'd' },
  ]);
  const v2 = await readContainer(objects.get(entries[1]!.key)!);
  assert.deepEqual(v2.records, [
    { id: 3, item: 'c', qty: 4 },
    { id: 6, item: 'f', qty: null },
  ]);
  // The tombstone has no value to write: it is in the rejected-records object.
  assert.equal(stats.tombstones, 0);
  assert.equal(stats.rejected?.records, 1);
  assert.equal(stats.records, 5);
});

test('a retry writes identical bytes; the sync marker comes from the key', async () => {
  const rows = Array.from({ length: 3000 }, (_, i) => record(i, 11, { id: i, item: `item ${i}`.repeat(20) }));
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
