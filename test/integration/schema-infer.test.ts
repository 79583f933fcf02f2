/**
 * Issue 13, `schema: { source: "infer" }` and changing a Parquet topic's schema, against the real
 * stack: varied JSON records (whole and fractional numbers, strings, zoned ISO timestamps with
 * microseconds, dates, a nested object, lists, nulls, a field in some records only, a field of
 * two kinds, a tombstone) → the dry run proposes the columns and names what it leaves to
 * `__sluice_extra`; the registration stores them as an inline schema (GET shows `inline`);
 * pyarrow and DuckDB read every offset exactly once with the inferred types. A PATCH adding a
 * column applies to new objects only (the objects already written keep their bytes), a PATCH
 * changing a column's type is refused, and a PUT with `infer` of the registered topic keeps
 * the stored columns. A topic without records, values that are not JSON objects and `infer`
 * with another format are refused with the reason.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { changedObjects, snapshotObjects, waitCommitted } from '../helpers/end-check.ts';
import { highWatermarks } from '../helpers/kafka.ts';
import { runPython } from '../helpers/python-readers.ts';
import { getBytes, listAll } from '../helpers/s3.ts';
import { topicStack } from '../helpers/topic-stack.ts';

const { s3, bucket, api, newTopic } = topicStack('schema-infer');
const prefix = 'inferred';

const AT = Date.parse('2026-11-25T10:00:00Z');

/** The i-th record's value, as produced; `country` only after the PATCH. */
function clickValue(i: number, country?: string): Record<string, unknown> {
  return {
    id: i,
    price: i % 2 ? i + 0.5 : i,
    name: `item ${i}`,
    at: `2026-11-25T10:00:00.${String(i).padStart(6, '0')}Z`,
    day: '2026-11-25',
    ok: i % 2 === 0,
    geo: { lat: 1.5, lon: i },
    tags: i % 3 ? ['a', `t${i}`] : [],
    ...(i % 4 === 0 ? { maybe: `m${i}` } : {}),
    nothing: null,
    mixed: i % 2 ? i : `s${i}`,
    ...(country ? { country } : {}),
  };
}

const inferred = {
  source: 'inline',
  unknownFields: 'json',
  fields: [
    { name: 'id', type: 'int64' },
    { name: 'price', type: 'double' },
    { name: 'name', type: 'string' },
    { name: 'at', type: 'timestamp', unit: 'us' },
    { name: 'day', type: 'date' },
    { name: 'ok', type: 'boolean' },
    {
      name: 'geo',
      type: 'struct',
      fields: [
        { name: 'lat', type: 'double' },
        { name: 'lon', type: 'int64' },
      ],
    },
    { name: 'tags', type: 'list', items: { type: 'string' } },
    { name: 'maybe', type: 'string' },
  ],
};

/** Every column the topic gets, the PATCH's included: the rest lands in `__sluice_extra`. */
const COLUMNS = new Set([...inferred.fields.map((f) => f.name), 'country']);

interface Row {
  partition: number;
  offset: number;
  id: number | null;
  price: number | null;
  name: string | null;
  at: number | null;
  day: string | null;
  ok: boolean | null;
  geo: { lat: number; lon: number } | null;
  tags: string[] | null;
  maybe: string | null;
  country?: string | null;
  extra: string | null;
}

// pyarrow per object (its columns and rows), DuckDB over the folder (union_by_name): one row shape.
const READ = `
import sys, json, glob, datetime, os
import pyarrow.parquet as pq, duckdb
folder = sys.argv[1]
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
def us(t):
  if t is None or isinstance(t, int): return t
  return (t - EPOCH) // datetime.timedelta(microseconds=1)
def row(r):
  out = {'partition': r['__kafka_partition'], 'offset': r['__kafka_offset'], 'id': r['id'], 'price': r['price'],
    'name': r['name'], 'at': us(r['at']), 'day': None if r['day'] is None else r['day'].isoformat(), 'ok': r['ok'],
    'geo': r['geo'], 'tags': r['tags'], 'maybe': r['maybe'], 'extra': r['__sluice_extra']}
  if 'country' in r: out['country'] = r['country']
  return out
files = {}
for f in sorted(glob.glob(f'{folder}/**/*.parquet', recursive=True)):
  t = pq.read_table(f)
  files[os.path.relpath(f, folder)] = {'types': {x.name: str(x.type) for x in t.schema}, 'rows': [row(r) for r in t.to_pylist()]}
con = duckdb.connect()
rel = con.sql(f"select * from read_parquet('{folder}/**/*.parquet', hive_partitioning = true, union_by_name = true)")
duck_types = {c: str(ty) for c, ty in zip(rel.columns, rel.types)}
rel = rel.select('* replace (epoch_us("at") as "at", epoch_ms(__kafka_timestamp) as __kafka_timestamp, epoch_ms(__sluice_event_time) as __sluice_event_time)')
duck = [row(dict(zip(rel.columns, r))) for r in rel.fetchall()]
print(json.dumps({'files': files, 'duck': duck, 'duckTypes': duck_types}))
`;

interface Read {
  files: Record<string, { types: Record<string, string>; rows: Row[] }>;
  duck: Row[];
  duckTypes: Record<string, string>;
}

/** Downloads the topic's data objects into a temporary folder and reads them with both engines. */
async function readBack(topic: string): Promise<Read> {
  const data = (await listAll(s3, bucket, `${prefix}/${topic}/`)).filter((o) => !o.key.includes('/_sluice/'));
  const dir = mkdtempSync(join(tmpdir(), 'sluice-infer-'));
  try {
    for (const o of data) {
      const file = join(dir, o.key.slice(`${prefix}/${topic}/`.length));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, await getBytes(s3, bucket, o.key));
    }
    return runPython<Read>(READ, [dir]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The row a record's value makes, as the readers print it (null: a tombstone). */
function expectedRow(partition: number, offset: number, v: Record<string, unknown> | null): Row {
  const f = <T>(k: string) => (v?.[k] ?? null) as T | null;
  const i = f<number>('id');
  const country = v?.country;
  const rest = Object.fromEntries(Object.entries(v ?? {}).filter(([k]) => !COLUMNS.has(k)));
  return {
    partition,
    offset,
    id: i,
    price: f<number>('price'),
    name: f<string>('name'),
    at: i === null ? null : AT * 1000 + i,
    day: f<string>('day'),
    ok: f<boolean>('ok'),
    geo: f<{ lat: number; lon: number }>('geo'),
    tags: f<string[]>('tags'),
    maybe: f<string>('maybe'),
    extra: v ? JSON.stringify(rest) : null,
    ...(country !== undefined ? { country: country as string } : {}),
  };
}

test('infer proposes the columns in the dry run, the registration stores them inline, readers read them back; a PATCH adds a column for new objects only', async () => {
  const t = await newTopic('clicks', 2);
  type Sent = { partition: number; value: Record<string, unknown> | null };
  const sent: Sent[] = [];
  const send = async (batch: Sent[]) => {
    await t.producer.send({
      topic: t.name,
      messages: batch.map((m) => ({
        partition: m.partition,
        key: 'k',
        value: m.value === null ? null : JSON.stringify(m.value),
      })),
    });
    sent.push(...batch);
  };
  await send([
    ...Array.from({ length: 30 }, (_, i) => ({ partition: i % 2, value: clickValue(i) })),
    { partition: 1, value: null },
  ]);
  const body = {
    topic: t.name,
    destination: { bucket, prefix },
    format: 'parquet',
    schema: { source: 'infer', sample: 500 },
    maxRangeMessages: 1000,
    flushIntervalMs: 300,
  };

  const dry = await api.post('/api/v1/topics?dryRun=true', body);
  assert.equal(dry.status, 200, JSON.stringify(dry.body));
  assert.deepEqual(dry.body.inferred.schema, inferred, 'the proposed columns');
  assert.equal(dry.body.inferred.sampledRecords, 30, 'every value sampled, the tombstone skipped');
  assert.deepEqual(
    dry.body.inferred.leftOut.map((f: { name: string }) => f.name),
    ['nothing', 'mixed'],
  );
  assert.match(dry.body.inferred.leftOut[1].reason, /different kinds \(string and whole number\)/);
  assert.deepEqual(dry.body.config.schema, inferred, 'the config as a registration would store it');

  const reg = await api.post('/api/v1/topics', body);
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  assert.deepEqual(reg.body.schema, inferred);
  const got = await api.get(`/api/v1/topics/${t.name}`);
  assert.deepEqual(got.body.schema, inferred, 'GET shows the inline schema, never infer');

  await waitCommitted(api, t.name, await highWatermarks(t.admin, t.name));
  const offsetsOf = () => {
    const next = new Map<number, number>();
    return sent.map((m) => {
      const o = next.get(m.partition) ?? 0;
      next.set(m.partition, o + 1);
      return expectedRow(m.partition, o, m.value);
    });
  };
  const byOffset = (a: Row, b: Row) => a.partition - b.partition || a.offset - b.offset;
  const first = await readBack(t.name);
  const firstFiles = Object.values(first.files);
  assert.ok(firstFiles.length > 0);
  for (const f of firstFiles) {
    assert.deepEqual(
      ['id', 'price', 'at', 'day', 'ok', 'geo', 'tags', 'maybe'].map((c) => f.types[c]),
      [
        'int64',
        'double',
        'timestamp[us, tz=UTC]',
        'date32[day]',
        'bool',
        'struct<lat: double, lon: int64>',
        'list<element: string>',
        'string',
      ],
    );
    assert.equal('country' in f.types, false);
  }
  const expected = offsetsOf().sort(byOffset);
  assert.deepEqual(firstFiles.flatMap((f) => f.rows).sort(byOffset), expected, 'pyarrow: every offset once');
  assert.deepEqual(first.duck.sort(byOffset), expected, 'DuckDB: every offset once');
  assert.equal(first.duckTypes.at, 'TIMESTAMP WITH TIME ZONE');
  assert.equal(first.duckTypes.id, 'BIGINT');

  // A column may not change its type: the folder would hold it with two.
  const retyped = await api.patch(`/api/v1/topics/${t.name}`, {
    schema: { ...inferred, fields: [{ name: 'id', type: 'string' }, ...inferred.fields.slice(1)] },
  });
  assert.equal(retyped.status, 409, JSON.stringify(retyped.body));
  assert.match(retyped.body.message, /changes column "id" from int64 to string/);
  const patchInfer = await api.patch(`/api/v1/topics/${t.name}`, { schema: { source: 'infer' } });
  assert.equal(patchInfer.status, 400, JSON.stringify(patchInfer.body));

  const before = await snapshotObjects(s3, bucket, `${prefix}/${t.name}/`);
  const withCountry = { ...inferred, fields: [...inferred.fields, { name: 'country', type: 'string' }] };
  const patched = await api.patch(`/api/v1/topics/${t.name}`, { schema: withCountry });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  assert.deepEqual(patched.body.schema, withCountry);
  // A topics file that says `infer` keeps what the topic has now.
  const put = await api.call('PUT', `/api/v1/topics/${t.name}`, body);
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.result, 'unchanged', JSON.stringify(put.body.changes));

  await send(Array.from({ length: 10 }, (_, k) => ({ partition: k % 2, value: clickValue(30 + k, 'NZ') })));
  await waitCommitted(api, t.name, await highWatermarks(t.admin, t.name));
  const after = await snapshotObjects(s3, bucket, `${prefix}/${t.name}/`);
  // The config object records the change; every data object written before it keeps its bytes.
  assert.deepEqual(
    changedObjects(before, after).filter((c) => !c.includes('/_sluice/config.json ')),
    [],
    'objects written before the PATCH keep their bytes',
  );

  const second = await readBack(t.name);
  const newFiles = Object.entries(second.files).filter(([k]) => !(k in first.files));
  assert.ok(newFiles.length > 0);
  for (const [key, f] of newFiles) assert.equal(f.types.country, 'string', `${key} has the new column`);
  assert.deepEqual(
    newFiles
      .flatMap(([, f]) => f.rows.map((r) => [r.id, r.country]))
      .sort((a, b) => Number(a[0]) - Number(b[0])),
    Array.from({ length: 10 }, (_, k) => [30 + k, 'NZ']),
  );
  for (const [key, f] of Object.entries(second.files).filter(([k]) => k in first.files)) {
    assert.equal('country' in f.types, false, `${key} was written before the PATCH`);
  }
  const all = offsetsOf()
    .map((r) => ({ ...r, country: r.country ?? null }))
    .sort(byOffset);
  assert.deepEqual(
    second.duck.sort(byOffset),
    all,
    'DuckDB reads the folder as one table, every offset once',
  );
});

test('infer refuses a topic without records, values that are not JSON objects, and formats other than parquet', async () => {
  const empty = await newTopic('empty', 1);
  const base = {
    destination: { bucket, prefix },
    format: 'parquet',
    schema: { source: 'infer' },
  };
  const none = await api.post('/api/v1/topics?dryRun=true', { ...base, topic: empty.name });
  assert.equal(none.status, 422, JSON.stringify(none.body));
  assert.equal(none.body.code, 'SLUICE_ERR_SCHEMA_INFER_UNUSABLE');
  assert.match(
    none.body.message,
    /has no records to infer a schema from .*produce some records first, or give the columns/,
  );
  const real = await api.post('/api/v1/topics', { ...base, topic: empty.name });
  assert.equal(real.status, 422, JSON.stringify(real.body));
  assert.equal((await api.get(`/api/v1/topics/${empty.name}`)).status, 404, 'nothing registered');

  const text = await newTopic('text', 1);
  await text.producer.send({
    topic: text.name,
    messages: [{ value: 'plain text' }, { value: '{"a":1}' }, { value: '[1,2]' }],
  });
  const notJson = await api.post('/api/v1/topics?dryRun=true', { ...base, topic: text.name });
  assert.equal(notJson.status, 422, JSON.stringify(notJson.body));
  assert.match(
    notJson.body.message,
    /2 of 3 sampled values are not JSON objects \(e\.g\. partition 0 offset 0: not JSON text\)/,
  );

  const jsonl = await api.post('/api/v1/topics?dryRun=true', { ...base, topic: text.name, format: 'jsonl' });
  assert.equal(jsonl.status, 400, JSON.stringify(jsonl.body));
  assert.match(
    jsonl.body.message,
    /schema\.source: "infer" proposes Parquet columns and is only for format "parquet"/,
  );
});
