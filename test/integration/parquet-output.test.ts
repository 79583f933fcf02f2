/**
 * Issue 13, Parquet with an inline schema, against the real stack and read the way users read
 * it: JSON records (nulls, a tombstone, keys, headers, timestamps, decimals, a date, nested
 * struct, list and map, a field the schema does not name) land as Parquet under Hive-style
 * time folders; pyarrow (Hive partitioning over the downloaded folder) and DuckDB
 * (`read_parquet(…, hive_partitioning = true, union_by_name = true)`) read back every offset
 * exactly once with the values and types produced. A record of the wrong type and one that is
 * not JSON go to the range's rejected-records object with their reason, are counted by the
 * status and the metrics, and the audit finds no gap. Registration refuses a schema that names
 * an unknown type or a `__kafka_` column, naming the field.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { waitCommitted } from '../helpers/end-check.ts';
import { highWatermarks } from '../helpers/kafka.ts';
import { waitFor } from '../helpers/processes.ts';
import { metricValue, scrape } from '../helpers/prometheus.ts';
import { runPython } from '../helpers/python-readers.ts';
import { downloadFolder, getBytes, listAll } from '../helpers/s3.ts';
import { topicStack } from '../helpers/topic-stack.ts';

const { s3, bucket, api, master, newTopic } = topicStack('parquet-output');
const prefix = 'columnar';

const schema = {
  source: 'inline',
  unknownFields: 'json',
  fields: [
    { name: 'id', type: 'int64' },
    { name: 'name', type: 'string' },
    { name: 'price', type: 'decimal', precision: 10, scale: 2 },
    { name: 'at', type: 'timestamp' },
    { name: 'day', type: 'date' },
    { name: 'ok', type: 'boolean' },
    { name: 'tags', type: 'list', items: { type: 'string' } },
    {
      name: 'user',
      type: 'struct',
      fields: [
        { name: 'name', type: 'string' },
        { name: 'age', type: 'int32' },
      ],
    },
    { name: 'scores', type: 'map', values: { type: 'double' } },
  ],
};

/** What the readers print per row: JSON-safe forms of every column. */
interface ReadRow {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  headers: Array<[string, string | null]>;
  tombstone: boolean;
  id: number | null;
  name: string | null;
  price: string | null;
  at: number | null;
  day: string | null;
  ok: boolean | null;
  tags: string[] | null;
  user: { name: string | null; age: number | null } | null;
  scores: Array<[string, number]> | null;
  extra: string | null;
  dt: string;
}

// pyarrow and DuckDB each print the rows in one shape, plus the column types they see, and
// pyarrow the encodings each column's chunks were written with (all files of the folder).
const READ = `
import sys, json, base64, datetime, decimal, glob
import pyarrow.parquet as pq, duckdb
folder = sys.argv[1]
b64 = lambda b: None if b is None else base64.b64encode(b).decode()
def ms(t):
  if t is None or isinstance(t, int): return t
  return int((t if t.tzinfo else t.replace(tzinfo=datetime.timezone.utc)).timestamp() * 1000)
def row(r):
  return {
    'partition': r['__kafka_partition'], 'offset': r['__kafka_offset'], 'timestamp': ms(r['__kafka_timestamp']),
    'key': b64(r['__kafka_key']), 'headers': [[h['key'], b64(h['value'])] for h in r['__kafka_headers']],
    'tombstone': r['__kafka_tombstone'], 'id': r['id'], 'name': r['name'],
    'price': None if r['price'] is None else str(r['price']), 'at': ms(r['at']),
    'day': None if r['day'] is None else r['day'].isoformat(), 'ok': r['ok'], 'tags': r['tags'],
    'user': r['user'], 'scores': None if r['scores'] is None else sorted([list(kv) for kv in (r['scores'].items() if isinstance(r['scores'], dict) else r['scores'])]),
    'extra': r['__sluice_extra'], 'dt': str(r['dt']),
  }
t = pq.read_table(folder, partitioning='hive')
arrow_rows = [row(r) for r in t.to_pylist()]
arrow_types = {f.name: str(f.type) for f in t.schema}
con = duckdb.connect()
rel = con.sql(f"select * from read_parquet('{folder}/**/*.parquet', hive_partitioning = true, union_by_name = true)")
duck_types = {c: str(ty) for c, ty in zip(rel.columns, rel.types)}
# Python's datetime with a zone needs pytz in DuckDB's client: the instants come over as epoch ms.
rel = rel.select('* replace (epoch_ms(__kafka_timestamp) as __kafka_timestamp, epoch_ms("at") as "at", epoch_ms(__sluice_event_time) as __sluice_event_time)')
cols = rel.columns
duck_rows = [row(dict(zip(cols, r))) for r in rel.fetchall()]
encodings = {}
for f in sorted(glob.glob(f'{folder}/**/*.parquet', recursive=True)):
  md = pq.ParquetFile(f).metadata
  for g in range(md.num_row_groups):
    for c in range(md.num_columns):
      col = md.row_group(g).column(c)
      encodings.setdefault(col.path_in_schema, set()).update(col.encodings)
encodings = {k: sorted(v) for k, v in encodings.items()}
print(json.dumps({'arrow': arrow_rows, 'arrowTypes': arrow_types, 'duck': duck_rows, 'duckTypes': duck_types, 'encodings': encodings}))
`;

test('JSON records land as Parquet that pyarrow and DuckDB read back exactly; misfits go to rejected records', async () => {
  const t = await newTopic('orders', 2);
  const hourAgo = Date.now() - 3_600_000;
  type Produced = {
    partition: number;
    key: string | null;
    value: string | null;
    timestamp: number;
    headers: Record<string, string>;
  };
  const produced: Produced[] = [];
  for (let i = 0; i < 40; i++) {
    const value = {
      id: i,
      name: `item ${i} ✓`,
      price: `${i}.${String(i % 100).padStart(2, '0')}`,
      at: hourAgo + i,
      day: '2026-11-25',
      ok: i % 2 === 0,
      tags: i % 3 === 0 ? [] : ['a', `t${i}`],
      user: { name: `u${i}`, age: 20 + i },
      scores: { x: i / 2 },
      note: `not in the schema ${i}`,
    };
    produced.push({
      partition: i % 2,
      key: `k${i}`,
      value: JSON.stringify(value),
      timestamp: hourAgo + i,
      headers: { trace: `tr${i}`, seq: String(i) },
    });
  }
  // Nulls everywhere, a tombstone, and two misfits (wrong type; not JSON).
  produced.push({
    partition: 0,
    key: null,
    value: JSON.stringify({ id: 100 }),
    timestamp: hourAgo,
    headers: {},
  });
  produced.push({ partition: 1, key: 'gone', value: null, timestamp: hourAgo, headers: {} });
  produced.push({
    partition: 0,
    key: 'bad',
    value: JSON.stringify({ id: 'one hundred' }),
    timestamp: hourAgo,
    headers: {},
  });
  produced.push({ partition: 1, key: 'text', value: 'plain text', timestamp: hourAgo, headers: {} });
  await t.producer.send({
    topic: t.name,
    messages: produced.map((m) => ({ ...m, timestamp: String(m.timestamp) })),
  });
  // The offsets kafkajs gave them: per partition, in the order sent, from 0.
  const next = new Map<number, number>();
  const offsets = produced.map((m) => {
    const o = next.get(m.partition) ?? 0;
    next.set(m.partition, o + 1);
    return o;
  });
  const hw = await highWatermarks(t.admin, t.name);

  // The registration names the field a problem is in.
  const bad = await api.post('/api/v1/topics?dryRun=true', {
    topic: t.name,
    destination: { bucket, prefix },
    format: 'parquet',
    schema: {
      source: 'inline',
      fields: [
        { name: 'a', type: 'strng' },
        { name: '__kafka_offset', type: 'int64' },
      ],
    },
  });
  assert.equal(bad.status, 400, JSON.stringify(bad.body));
  assert.match(bad.body.message, /schema\.fields\[0\]\.type: unknown type "strng"; use one of string/);
  assert.match(bad.body.message, /schema\.fields\[1\]\.name: "__kafka_offset" starts with "__kafka_"/);

  const reg = await api.post('/api/v1/topics', {
    topic: t.name,
    destination: { bucket, prefix },
    format: 'parquet',
    schema,
    maxRangeMessages: 1000,
    flushIntervalMs: 300,
  });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  assert.equal(reg.body.compression, 'zstd', 'zstd is the default inside Parquet files');
  assert.deepEqual(reg.body.schema, schema, 'GET and the registration answer show the schema');
  await waitCommitted(api, t.name, hw);

  const listed = await listAll(s3, bucket, `${prefix}/${t.name}/`);
  const data = listed.filter((o) => !o.key.includes('/_sluice/'));
  assert.ok(
    data.length > 0 && data.every((o) => /\/dt=\d{4}-\d{2}-\d{2}\/hr=\d{2}\/[^/]+\.parquet$/.test(o.key)),
    JSON.stringify(data.map((o) => o.key)),
  );
  const dir = mkdtempSync(join(tmpdir(), 'sluice-parquet-'));
  try {
    await downloadFolder(s3, bucket, `${prefix}/${t.name}/`, dir, (k) => !k.includes('/_sluice/'));
    const read = runPython<{
      arrow: ReadRow[];
      duck: ReadRow[];
      arrowTypes: Record<string, string>;
      duckTypes: Record<string, string>;
      encodings: Record<string, string[]>;
    }>(READ, [dir]);

    const fits = produced
      .map((m, i) => ({ ...m, offset: offsets[i]! }))
      .filter((m) => m.key !== 'bad' && m.key !== 'text');
    const expected = fits
      .map((m) => {
        const v = m.value === null ? null : (JSON.parse(m.value) as Record<string, unknown>);
        const f = <T>(k: string) => (v?.[k] ?? null) as T | null;
        const user = f<{ name: string; age: number }>('user');
        return {
          partition: m.partition,
          offset: m.offset,
          timestamp: m.timestamp,
          key: m.key === null ? null : Buffer.from(m.key).toString('base64'),
          headers: Object.entries(m.headers).map(([k, hv]) => [k, Buffer.from(hv).toString('base64')]),
          tombstone: m.value === null,
          id: f<number>('id'),
          name: f<string>('name'),
          price: f<string>('price'),
          at: f<number>('at'),
          day: f<string>('day'),
          ok: f<boolean>('ok'),
          tags: f<string[]>('tags'),
          user: user ? { name: user.name, age: user.age } : null,
          scores: v?.scores ? Object.entries(v.scores as Record<string, number>) : null,
          extra: v && 'note' in v ? JSON.stringify({ note: v.note }) : null,
        };
      })
      .sort((a, b) => a.partition - b.partition || a.offset - b.offset);
    for (const [engine, rows] of [
      ['pyarrow', read.arrow],
      ['DuckDB', read.duck],
    ] as const) {
      const got = rows
        .map(({ dt, ...r }) => {
          assert.match(dt, /^\d{4}-\d{2}-\d{2}$/, `${engine}: the dt= folder is a column`);
          return r;
        })
        .sort((a, b) => a.partition - b.partition || a.offset - b.offset);
      assert.equal(got.length, expected.length, `${engine}: one row per record that fits`);
      assert.deepEqual(got, expected, `${engine}: values as produced`);
    }
    assert.deepEqual(
      Object.fromEntries(
        [
          '__kafka_partition',
          '__kafka_offset',
          '__kafka_timestamp',
          '__kafka_key',
          'price',
          'at',
          'day',
          'tags',
          'scores',
        ].map((c) => [c, read.arrowTypes[c]]),
      ),
      {
        __kafka_partition: 'int32',
        __kafka_offset: 'int64',
        __kafka_timestamp: 'timestamp[ms, tz=UTC]',
        __kafka_key: 'binary',
        price: 'decimal128(10, 2)',
        at: 'timestamp[ms, tz=UTC]',
        day: 'date32[day]',
        tags: 'list<element: string>',
        scores: "map<string, double ('scores')>",
      },
    );
    assert.equal(read.duckTypes.price, 'DECIMAL(10,2)');
    assert.equal(read.duckTypes.at, 'TIMESTAMP WITH TIME ZONE');
    assert.equal(read.duckTypes.__kafka_offset, 'BIGINT');
    // Ranges are planned with the current Parquet encoding revision (2): whole-number columns
    // delta-packed, which both engines read back exactly (the rows above).
    for (const c of ['__kafka_offset', '__kafka_timestamp', '__sluice_event_time', 'id', 'at'])
      assert.deepEqual(read.encodings[c], ['DELTA_BINARY_PACKED'], `${c}: ${JSON.stringify(read.encodings)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // The misfits: in the rejected-records objects of their ranges, with the reason.
  const rejectedKeys = listed.filter((o) => o.key.includes('/_sluice/rejected/')).map((o) => o.key);
  assert.equal(rejectedKeys.length, 2, JSON.stringify(rejectedKeys));
  const lines = (await Promise.all(rejectedKeys.map((k) => getBytes(s3, bucket, k))))
    .flatMap((b) => b.toString('utf8').trim().split('\n'))
    .map((l) => JSON.parse(l) as { offset: number; reason: string; key: string; value: string });
  const byKey = new Map(lines.map((l) => [Buffer.from(l.key, 'base64').toString(), l]));
  assert.match(byKey.get('bad')!.reason, /^id: expected an int64/);
  assert.equal(
    Buffer.from(byKey.get('bad')!.value, 'base64').toString(),
    JSON.stringify({ id: 'one hundred' }),
  );
  assert.match(byKey.get('text')!.reason, /not JSON text/);
  assert.equal(byKey.get('text')!.offset, offsets[produced.findIndex((m) => m.key === 'text')]);

  const status = await waitFor(
    'the status to count the rejected records',
    async () => {
      const s = await api.get('/api/v1/status');
      const found = s.body.topics.find((x: { topic: string }) => x.topic === t.name);
      return found?.rejectedRecords === 2 ? found : false;
    },
    30_000,
    300,
  );
  assert.equal(status.committedRecords, expected_count(produced));
  assert.equal(
    metricValue(await scrape(master().url), 'sluice_rejected_records_total', { topic: t.name }),
    2,
  );

  const audit = await api.get(`/api/v1/topics/${t.name}/audit`);
  assert.equal(audit.status, 200, JSON.stringify(audit.body));
  assert.equal(audit.body.ok, true, JSON.stringify(audit.body.findings));
  assert.equal(
    audit.body.partitions.reduce((n: number, p: { rejectedRecords: number }) => n + p.rejectedRecords, 0),
    2,
  );
  for (const p of audit.body.partitions) assert.equal(p.unknownGapOffsets, '0');
});

/** Records that fit: all but the two misfits. */
function expected_count(produced: ReadonlyArray<{ key: string | null }>): number {
  return produced.filter((m) => m.key !== 'bad' && m.key !== 'text').length;
}
