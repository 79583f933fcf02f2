/**
 * The range writer's one contract with its caller, {@link ObjectTarget}: it asks for the sinks
 * of new objects (one call per batch that starts objects, keys in bucket order) before any of
 * their bytes are written, and a writer that failed or was aborted while that call was in
 * flight writes nothing to the sinks it gets back; and whatever the format, a retry (whose fetches
 * split the range differently) writes the same keys and bytes. No server: sinks only hash.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { outputSpecOf, TOPIC_DEFAULTS } from '@sluice/shared';
import { createHashingSink } from '../src/hashing-sink.ts';
import type { ObjectSink } from '../src/object-writer.ts';
import type { FetchedRecord } from '../src/range-reader.ts';
import { RangeWriter } from '../src/range-writer.ts';
import { jsonRecord } from './helpers/fake-reader.ts';
import { fakeRegistry, ORDER, wireValues } from './helpers/fake-registry.ts';

const HOUR = Date.UTC(2026, 10, 25, 8);
// The topic defaults: jsonl, gzip, one object per Kafka-time hour.
const spec = outputSpecOf({ ...TOPIC_DEFAULTS, destination: { bucket: 'lake', prefix: 'raw' } });
const range = { topic: 'orders', partition: 0, start: 0n, end: 10n };

test('new objects are opened through the target, once per batch, before any of their bytes', async () => {
  const calls: string[][] = [];
  const sinks: ObjectSink[] = [];
  const writer = new RangeWriter({
    spec,
    range,
    target: {
      openObjects: async (keys) => {
        calls.push([...keys]);
        // Nothing was opened before this call answers: the writer holds the bytes.
        assert.equal(sinks.length, calls.slice(0, -1).flat().length);
        const opened = keys.map((k) => createHashingSink(k));
        sinks.push(...opened);
        return opened;
      },
    },
  });
  // Hours 8 and 9 in the first batch, hour 8 again and hour 10 in the second.
  await writer.write([jsonRecord(0n, HOUR, { n: 0 }), jsonRecord(1n, HOUR + 3_600_000, { n: 1 })]);
  await writer.write([jsonRecord(2n, HOUR + 1, { n: 2 }), jsonRecord(3n, HOUR + 7_200_000, { n: 3 })]);
  const objects = await writer.finish();
  assert.equal(calls.length, 2);
  assert.deepEqual(
    calls.map((keys) => keys.map((k) => k.split('/').slice(-2, -1)[0])),
    [['hr=08', 'hr=09'], ['hr=10']],
  );
  assert.deepEqual(
    objects.map((o) => [o.key, o.records]),
    calls.flat().map((k) => [k, k.includes('hr=08') ? 2 : 1]),
  );
  assert.equal(writer.stats().records, 4);
});

test('a writer aborted while its keys are being recorded writes nothing to the sinks it gets', async () => {
  let opened: ObjectSink[] = [];
  let writer: RangeWriter | null = null;
  writer = new RangeWriter({
    spec,
    range,
    target: {
      openObjects: async (keys) => {
        writer!.abort(new Error('heartbeat found the attempt stale'));
        opened = keys.map((k) => createHashingSink(k));
        return opened;
      },
    },
  });
  await assert.rejects(writer.write([jsonRecord(0n, HOUR, { n: 0 })]), /attempt stale/);
  assert.equal(opened.length, 1);
  assert.ok(opened.every((s) => s.destroyed));
  await assert.rejects(opened[0]!.result, /attempt stale/);
});

test('field folders: one object per hour and field value, missing values counted, the same keys and bytes on a retry', async () => {
  const fieldSpec = {
    ...spec,
    keyTemplate: '{year=YYYY}/{month=MM}/{day=DD}/{hour=HH}/{field:tenant}/part-{partition}-{start}-{end}',
  };
  const records = [
    jsonRecord(0n, HOUR, { tenant: 'acme' }),
    jsonRecord(1n, HOUR, { tenant: 'a/b' }),
    jsonRecord(2n, HOUR + 3_600_000, { tenant: 'acme' }),
    jsonRecord(3n, HOUR, {}),
    jsonRecord(4n, HOUR, { tenant: 'acme' }),
  ];
  const run = async () => {
    const writer = new RangeWriter({
      spec: fieldSpec,
      range,
      target: { openObjects: async (keys) => keys.map((k) => createHashingSink(k)) },
    });
    await writer.write(records.slice(0, 2));
    await writer.write(records.slice(2));
    return { objects: await writer.finish(), stats: writer.stats() };
  };
  const first = await run();
  const hour8 = 'raw/orders/year=2026/month=11/day=25/hour=08/';
  const name = 'part-0-00000000000000000000-00000000000000000010.jsonl.gz';
  assert.deepEqual(
    first.objects.map((o) => [o.key, o.records]),
    [
      [`${hour8}tenant=__null__/${name}`, 1],
      [`${hour8}tenant=a%2Fb/${name}`, 1],
      [`${hour8}tenant=acme/${name}`, 2],
      [`raw/orders/year=2026/month=11/day=25/hour=09/tenant=acme/${name}`, 1],
    ],
  );
  assert.equal(first.stats.fieldFallbacks, 1);
  const again = await run();
  assert.deepEqual(
    again.objects.map((o) => [o.key, o.sha256]),
    first.objects.map((o) => [o.key, o.sha256]),
  );
});

test('parquet (inline schema) and avro (registry schema): the same keys and bytes on a retry whose fetches split the range differently', async () => {
  const encode = wireValues(7, ORDER);
  const wide = { ...range, end: 3000n };
  // Two hours, keys and headers, so that folders and Kafka's fields are part of what repeats.
  const json = Array.from({ length: 3000 }, (_, i) =>
    jsonRecord(BigInt(i), HOUR + i * 2_000, { id: i, item: `item ${i % 37}` }, `k${i % 11}`),
  );
  const avroRecords: FetchedRecord[] = json.map((r, i) => ({
    ...r,
    value: encode({ id: i, item: `item ${i % 37}` }),
  }));
  const formats = [
    {
      spec: outputSpecOf({
        ...TOPIC_DEFAULTS,
        destination: { bucket: 'lake', prefix: 'pq' },
        format: 'parquet',
        compression: 'zstd',
        schema: {
          source: 'inline',
          unknownFields: 'drop',
          fields: [
            { name: 'id', type: 'int64' },
            { name: 'item', type: 'string' },
          ],
        },
      }),
      records: json,
    },
    {
      spec: outputSpecOf({
        ...TOPIC_DEFAULTS,
        destination: { bucket: 'lake', prefix: 'av' },
        format: 'avro',
        compression: 'deflate',
        schema: { source: 'registry' },
      }),
      records: avroRecords,
    },
  ];
  for (const { spec: s, records } of formats) {
    const run = async (batch: number) => {
      const writer = new RangeWriter({
        spec: s,
        range: wide,
        schemas: fakeRegistry({ 7: ORDER }),
        // Small row groups: several per object, cut by size, not by how the records came.
        parquetRowGroupBytes: 16 * 1024,
        target: { openObjects: async (keys) => keys.map((k) => createHashingSink(k)) },
      });
      for (let i = 0; i < records.length; i += batch) await writer.write(records.slice(i, i + batch));
      return (await writer.finish()).map((o) => [o.key, o.records, o.sha256]);
    };
    const first = await run(500);
    assert.equal(first.length, 2, `${s.format}: one object per hour`);
    assert.deepEqual(await run(37), first, `${s.format}: a retry writes the same bytes`);
  }
});
