/**
 * The Parquet column mapping: each declared type takes the JSON values a user would send and
 * refuses the others with a reason naming the field, and the range writer turns a batch into a
 * Parquet file (read back here with hyparquet; test/integration/parquet-output.test.ts reads
 * with pyarrow and DuckDB) plus a rejected-records object for what does not fit.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { zstdDecompressSync } from 'node:zlib';
import {
  type ColumnType,
  type InlineSchema,
  inlineSchemaProblems,
  outputSpecOf,
  TOPIC_DEFAULTS,
} from '@sluice/shared';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { columnValue, RecordRejection, rowOf } from '../src/parquet-columns.ts';
import { RangeWriter } from '../src/range-writer.ts';
import { jsonRecord } from './helpers/fake-reader.ts';
import { memorySink } from './helpers/memory-sink.ts';

const rejection = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (err instanceof RecordRejection) return err.message;
    throw err;
  }
  assert.fail('expected a rejection');
};

test('scalar columns take their JSON values exactly and refuse others naming the field', () => {
  assert.equal(columnValue({ type: 'int64' }, '9223372036854775807', 'n'), 9223372036854775807n);
  assert.equal(columnValue({ type: 'int64' }, 42, 'n'), 42n);
  assert.equal(columnValue({ type: 'int32' }, -7, 'n'), -7);
  assert.equal(columnValue({ type: 'decimal', precision: 10, scale: 2 }, '12.3', 'price'), 1230n);
  assert.equal(columnValue({ type: 'decimal', precision: 10, scale: 2 }, -0.05, 'price'), -5n);
  assert.equal(columnValue({ type: 'timestamp' }, '2026-11-25T08:00:00.123Z', 't'), 1_795_593_600_123n);
  assert.equal(
    columnValue({ type: 'timestamp', unit: 'us' }, '2026-11-25T08:00:00.123456Z', 't'),
    1_795_593_600_123_456n,
  );
  assert.equal(columnValue({ type: 'date' }, '1970-01-11', 'd'), 10);
  assert.equal(columnValue({ type: 'string' }, null, 's'), null);
  assert.match(
    rejection(() => columnValue({ type: 'int32' }, 'x', 'user.age')),
    /^user\.age: expected an int32/,
  );
  assert.match(
    rejection(() => columnValue({ type: 'int32' }, 2 ** 31, 'n')),
    /int32/,
  );
  assert.match(
    rejection(() => columnValue({ type: 'decimal', precision: 4, scale: 2 }, '1.234', 'p')),
    /more than 2 digits after the point/,
  );
  assert.match(
    rejection(() => columnValue({ type: 'decimal', precision: 4, scale: 2 }, '123.4', 'p')),
    /more than 4 digits/,
  );
  // A JSON number past what a double keeps exactly is refused, not stored changed; as text it fits.
  const d38 = { type: 'decimal', precision: 38, scale: 2 } as const;
  assert.match(
    rejection(() => columnValue(d38, JSON.parse('12345678901234567890'), 'p')),
    /send the decimal as text/,
  );
  assert.match(
    rejection(() => columnValue(d38, 0.1234567890123456, 'p')),
    /send the decimal as text/,
  );
  assert.equal(columnValue(d38, '12345678901234567890.12', 'p'), 1234567890123456789012n);
  assert.equal(columnValue(d38, 9007199254740991, 'p'), 900719925474099100n);
  assert.equal(columnValue(d38, 1234567.89, 'p'), 123456789n);
  assert.match(
    rejection(() => columnValue({ type: 'string', nullable: false }, null, 'id')),
    /^id: is required/,
  );
  assert.match(
    rejection(() => columnValue({ type: 'date' }, '2026-02-30', 'd')),
    /expected a date/,
  );
  assert.match(
    rejection(() => columnValue({ type: 'boolean' }, 'true', 'b')),
    /expected true or false, got the string "true"/,
  );
});

test('nested columns: lists, structs and maps, with the path of a wrong item in the reason', () => {
  const t: ColumnType = {
    type: 'struct',
    fields: [
      { name: 'tags', type: 'list', items: { type: 'string' } },
      { name: 'attrs', type: 'map', values: { type: 'int64' } },
    ],
  };
  assert.deepEqual(columnValue(t, { tags: ['a', null], attrs: { x: 1 }, other: 1 }, 'meta'), {
    tags: ['a', null],
    attrs: [{ key: 'x', value: 1n }],
  });
  assert.match(
    rejection(() => columnValue(t, { tags: ['a', 3] }, 'meta')),
    /^meta\.tags\[1\]: expected a string/,
  );
  assert.match(
    rejection(() => columnValue(t, { attrs: { y: 'no' } }, 'meta')),
    /^meta\.attrs\.y: expected an int64/,
  );
});

const schema: InlineSchema = {
  source: 'inline',
  fields: [
    { name: 'id', type: 'int64', nullable: false },
    { name: 'price', type: 'decimal', precision: 12, scale: 2 },
    { name: 'tags', type: 'list', items: { type: 'string' } },
  ],
  unknownFields: 'json',
};

test('a row carries Kafka’s fields, the declared ones and the unnamed ones as JSON', () => {
  const rec = {
    partition: 3,
    offset: 7n,
    timestamp: 1000n,
    key: Buffer.from('k'),
    headers: [],
    value: Buffer.from(''),
  };
  const row = rowOf(schema, rec, { id: 1, price: '2.50', extra: true }, 5000);
  assert.equal(row.__kafka_partition, 3);
  assert.equal(row.__kafka_offset, 7n);
  assert.equal(row.__sluice_event_time, 5000n);
  assert.equal(row.price, 250n);
  assert.deepEqual(row.__sluice_extra, { extra: true });
  assert.match(
    rejection(() => rowOf(schema, rec, [1, 2], 0)),
    /not a JSON object/,
  );
  assert.match(
    rejection(() => rowOf(schema, rec, undefined, 0)),
    /not JSON text/,
  );
  // A tombstone is a row with null value columns; a required column refuses it.
  assert.match(
    rejection(() => rowOf(schema, { ...rec, value: null }, undefined, 0)),
    /^id: is required/,
  );
});

test('registration checks name the field: unknown types, reserved names, decimal bounds', () => {
  const problems = inlineSchemaProblems({
    source: 'inline',
    fields: [
      { name: 'a', type: 'string' },
      { name: '__kafka_offset', type: 'int64' },
      { name: 'p', type: 'decimal', precision: 40 },
      // @ts-expect-error: an unknown type, as a JSON body may hold
      { name: 'b', type: 'strng' },
      { name: 's', type: 'struct', fields: [{ name: 'x', type: 'list' }] },
    ],
  });
  assert.deepEqual(
    problems.map((p) => p.path),
    [
      'schema.fields[1].name',
      'schema.fields[2].precision',
      'schema.fields[3].type',
      'schema.fields[4].fields[0].items',
    ],
  );
  assert.match(problems[2]!.message, /unknown type "strng"; use one of string, int32/);
  assert.match(problems[0]!.message, /"__kafka_", which Sluice keeps/);
});

async function writeRange(
  rowGroupBytes: number,
): Promise<{ objects: Map<string, Buffer>; writer: RangeWriter }> {
  const spec = outputSpecOf({
    ...TOPIC_DEFAULTS,
    format: 'parquet',
    compression: 'zstd',
    schema,
    partitionBy: { kind: 'none' },
    destination: { bucket: 'lake', prefix: 'pq' },
  });
  const objects = new Map<string, Buffer>();
  const writer = new RangeWriter({
    spec,
    range: { topic: 'orders', partition: 0, start: 0n, end: 100n },
    target: { openObjects: async (keys) => keys.map((k) => memorySink(k, objects)) },
    parquetRowGroupBytes: rowGroupBytes,
  });
  const recs = [];
  for (let i = 0; i < 40; i++)
    recs.push(jsonRecord(BigInt(i), 1000 + i, { id: i, price: `${i}.5`, tags: ['t'] }));
  recs.push(jsonRecord(40n, 2000, { id: 'forty' }));
  await writer.write(recs.slice(0, 20));
  await writer.write(recs.slice(20));
  await writer.finish();
  return { objects, writer };
}

test('the range writer writes Parquet row groups by size, the same bytes every time, and rejects apart', async () => {
  const { objects, writer } = await writeRange(256);
  const key = 'pq/orders/orders-0-00000000000000000000-00000000000000000100.parquet';
  const file = objects.get(key)!;
  assert.ok(file, `no ${key} among ${[...objects.keys()].join(', ')}`);
  const buf = file.buffer.slice(file.byteOffset, file.byteOffset + file.length) as ArrayBuffer;
  const meta = parquetMetadata(buf);
  assert.ok(meta.row_groups.length > 1, 'row groups are cut by size');
  assert.equal(meta.created_by, 'sluice');
  const rows = await parquetReadObjects({
    file: buf,
    compressors: { ZSTD: (input: Uint8Array) => new Uint8Array(zstdDecompressSync(input)) },
  });
  assert.deepEqual(
    rows.map((r) => [r.__kafka_offset, r.id]),
    Array.from({ length: 40 }, (_, i) => [BigInt(i), BigInt(i)]),
  );
  const stats = writer.stats();
  assert.equal(stats.records, 40);
  assert.equal(stats.rejected?.records, 1);
  assert.equal(
    stats.rejected?.key,
    'pq/orders/_sluice/rejected/partition=0/00000000000000000000-00000000000000000100.jsonl',
  );
  const line = JSON.parse(objects.get(stats.rejected!.key)!.toString('utf8'));
  assert.equal(line.offset, 40);
  assert.match(line.reason, /^id: expected an int64/);
  assert.deepEqual(JSON.parse(Buffer.from(line.value, 'base64').toString()), { id: 'forty' });
  const again = await writeRange(256);
  assert.ok(again.objects.get(key)!.equals(file), 'a retry writes the same bytes');
});
