/**
 * Parquet encoding revisions (OutputSpec `parquetEncoding`): a range keeps the revision it was
 * planned with, so a range planned by an older release and retried by this one writes the
 * bytes the older release wrote (invariant 3). Revision 1 is pinned here by the SHA-256 of
 * what the release before revisions wrote; the current revision is checked for what it is
 * for: the encodings in the file, values that read back, the same bytes on a retry.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { zstdDecompressSync } from 'node:zlib';
import {
  ErrorCodes,
  type OutputSpec,
  outputSpecOf,
  PARQUET_ENCODING,
  type SchemaSpec,
  SluiceError,
  TOPIC_DEFAULTS,
} from '@sluice/shared';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import type { FetchedRecord } from '../src/range-reader.ts';
import { RangeWriter } from '../src/range-writer.ts';
import { jsonRecord } from './helpers/fake-reader.ts';
import { fakeRegistry, wireValues } from './helpers/fake-registry.ts';
import { memorySink } from './helpers/memory-sink.ts';

const HOUR = Date.UTC(2026, 10, 25, 8);
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];

/** Events shaped like the benchmark's: scalars, a struct, a list, a long text. */
function event(i: number) {
  return {
    ts: HOUR + ((i * 7919) % 3_600_000),
    level: ['info', 'warn', 'error'][i % 3],
    ms: (i * 31) % 500,
    trace: (i * 2654435761).toString(16).padStart(12, '0'),
    user: { id: (i * 104729) % 1_000_000_007, country: ['DE', 'US', 'JP'][i % 3] },
    tags: [WORDS[i % 6], WORDS[(i * 5) % 6]],
    note: Array.from({ length: 8 + (i % 5) }, (_, j) => WORDS[(i * 13 + j * 7) % 6]).join(' '),
  };
}

const INLINE = {
  source: 'inline',
  unknownFields: 'json',
  fields: [
    { name: 'ts', type: 'timestamp' },
    { name: 'level', type: 'string' },
    { name: 'ms', type: 'int32' },
    { name: 'trace', type: 'string' },
    {
      name: 'user',
      type: 'struct',
      fields: [
        { name: 'id', type: 'int64' },
        { name: 'country', type: 'string' },
      ],
    },
    { name: 'tags', type: 'list', items: { type: 'string' } },
  ],
} as const;

const AVRO = {
  type: 'record',
  name: 'Event',
  fields: [
    { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'level', type: 'string' },
    { name: 'ms', type: 'int' },
    { name: 'trace', type: ['null', 'string'], default: null },
    {
      name: 'user',
      type: {
        type: 'record',
        name: 'User',
        fields: [
          { name: 'id', type: 'long' },
          { name: 'country', type: 'string' },
        ],
      },
    },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'note', type: 'string' },
  ],
};

const encodeAvro = wireValues(9, AVRO);
const json: FetchedRecord[] = Array.from({ length: 2000 }, (_, i) =>
  jsonRecord(BigInt(i), HOUR + i * 100, event(i), i % 4 === 0 ? undefined : `k${i % 13}`),
);
const avroRecords: FetchedRecord[] = json.map((r, i) => ({ ...r, value: encodeAvro(event(i)) }));

function specOf(source: 'inline' | 'registry', parquetEncoding?: number): OutputSpec {
  const { parquetEncoding: _planned, ...spec } = outputSpecOf({
    ...TOPIC_DEFAULTS,
    destination: { bucket: 'lake', prefix: source },
    format: 'parquet',
    compression: 'zstd',
    schema: source === 'inline' ? (structuredClone(INLINE) as unknown as SchemaSpec) : { source: 'registry' },
  });
  return parquetEncoding === undefined ? spec : { ...spec, parquetEncoding };
}

/** The range written at once (batches of `batch`), its objects' bytes by key. */
async function write(spec: OutputSpec, records: FetchedRecord[], batch = 500): Promise<Map<string, Buffer>> {
  const store = new Map<string, Buffer>();
  const writer = new RangeWriter({
    spec,
    range: { topic: 'events', partition: 3, start: 0n, end: BigInt(records.length) },
    schemas: fakeRegistry({ 9: AVRO }),
    // Several row groups per object, as a large range has.
    parquetRowGroupBytes: 256 * 1024,
    target: { openObjects: async (keys) => keys.map((k) => memorySink(k, store)) },
  });
  for (let i = 0; i < records.length; i += batch) await writer.write(records.slice(i, i + batch));
  await writer.finish();
  return store;
}

/** Each object's file name and SHA-256. */
const sha = async (store: Map<string, Buffer>) =>
  [...store].map(([k, v]) => [k.split('/').pop(), createHash('sha256').update(v).digest('hex')]);

test('a range planned before encoding revisions (no parquetEncoding) writes the bytes that release wrote', async () => {
  // SHA-256 of what the release before revisions (ac6c2e4) wrote for these very records.
  assert.deepEqual(await sha(await write(specOf('inline'), json)), [
    [
      'events-3-00000000000000000000-00000000000000002000.parquet',
      '7948cf6614322761ec97b5c7d7928dc90f95d83a6b82170fc68f1baa0461c8fd',
    ],
  ]);
  assert.deepEqual(await sha(await write(specOf('registry'), avroRecords)), [
    [
      'events-3-00000000000000000000-00000000000000002000-s9.parquet',
      '6a6e6d566ccd24bd5736eafb6e996c1b598d992388ce463f388a3bf2df9f410b',
    ],
  ]);
  assert.deepEqual(
    await sha(await write(specOf('inline', 1), json)),
    await sha(await write(specOf('inline'), json)),
  );
});

test('new ranges are planned with the current revision; its files delta-pack whole numbers and read back exactly', async () => {
  assert.equal(specOf('inline', PARQUET_ENCODING).parquetEncoding, 2);
  const planned = outputSpecOf({
    ...TOPIC_DEFAULTS,
    destination: { bucket: 'b', prefix: '' },
    format: 'parquet',
    compression: 'zstd',
  });
  assert.equal(planned.parquetEncoding, PARQUET_ENCODING);
  assert.equal(
    outputSpecOf({ ...TOPIC_DEFAULTS, destination: { bucket: 'b', prefix: '' } }).parquetEncoding,
    undefined,
  );
  for (const [source, records] of [
    ['inline', json],
    ['registry', avroRecords],
  ] as const) {
    const [bytes] = [...(await write(specOf(source, PARQUET_ENCODING), records)).values()];
    const file = bytes!.buffer.slice(bytes!.byteOffset, bytes!.byteOffset + bytes!.length) as ArrayBuffer;
    const meta = parquetMetadata(file);
    assert.ok(meta.row_groups.length > 1, 'several row groups');
    const encodings = new Map<string, Set<string>>();
    for (const rg of meta.row_groups)
      for (const c of rg.columns) {
        const name = c.meta_data!.path_in_schema.join('.');
        const set = encodings.get(name) ?? new Set();
        for (const e of c.meta_data!.encodings) set.add(e);
        encodings.set(name, set);
        // Statistics where engines prune by them (numbers, times, and structs holding them),
        // none on columns of text only.
        const textOnly =
          ['level', 'trace', 'note', 'tags.list.element', '__kafka_key', '__sluice_extra'].includes(name) ||
          name.startsWith('__kafka_headers');
        assert.equal(c.meta_data!.statistics === undefined, textOnly, `${source} ${name}: statistics`);
      }
    for (const name of [
      '__kafka_offset',
      '__kafka_timestamp',
      '__sluice_event_time',
      '__kafka_partition',
      'ts',
      'ms',
    ])
      assert.deepEqual([...encodings.get(name)!], ['DELTA_BINARY_PACKED'], `${source} ${name}`);
    const rows = (await parquetReadObjects({
      file,
      compressors: { ZSTD: (input: Uint8Array) => new Uint8Array(zstdDecompressSync(input)) },
    })) as Array<Record<string, unknown>>;
    assert.equal(rows.length, records.length);
    for (const i of [0, 1, 999, 1999]) {
      const e = event(i);
      const row = rows[i]!;
      assert.equal(row.__kafka_offset, BigInt(i));
      assert.equal(row.__kafka_partition, 3);
      assert.equal((row.__kafka_timestamp as Date).getTime(), HOUR + i * 100);
      assert.equal((row.ts as Date).getTime(), e.ts);
      assert.equal(row.ms, e.ms);
      assert.equal(row.level, e.level);
      assert.equal(row.trace, e.trace);
      assert.deepEqual(row.tags, e.tags);
      assert.equal((row.user as { id: bigint }).id, BigInt(e.user.id));
    }
  }
});

test('a retry of a current-revision range writes the same bytes, however the fetches split it', async () => {
  for (const [source, records] of [
    ['inline', json],
    ['registry', avroRecords],
  ] as const) {
    const spec = specOf(source, PARQUET_ENCODING);
    assert.deepEqual(await sha(await write(spec, records, 37)), await sha(await write(spec, records, 500)));
  }
});

test('a range planned for a revision this worker does not know is refused before any byte', () => {
  assert.throws(
    () =>
      new RangeWriter({
        spec: specOf('inline', PARQUET_ENCODING + 1),
        range: { topic: 'events', partition: 0, start: 0n, end: 10n },
        target: { openObjects: async () => assert.fail('nothing is opened') },
      }),
    (err: unknown) =>
      err instanceof SluiceError &&
      err.code === ErrorCodes.NEWER_LAYOUT &&
      /upgrade the workers/.test(err.message),
  );
});
