/**
 * Parquet topics in the fault tests: the registration of a topic whose values are the log
 * events of records.ts (`makeEvents`), as Parquet with an inline schema, and the check that it
 * holds every record exactly once read the way a user reads it: the committed objects,
 * downloaded, read by pyarrow, every (partition, offset) once, every produced record with its
 * key, headers and values, under the hour folder of its event time, and each object's bytes
 * the ones its commit record hashes. verifyEnd (end-check.ts) calls it for `format: 'parquet'`.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Api } from './end-check.ts';
import { runPython } from './python-readers.ts';
import {
  committedObjects,
  hourFolder,
  makeEvents,
  type ProducedRecord,
  type VerifyOptions,
} from './records.ts';
import { getBytes } from './s3.ts';

/**
 * The output fields of a registration for `makeEvents` values as Parquet (zstd). `big` (a
 * 20-digit number, beyond int64) is not declared: an undeclared field is dropped.
 */
export const EVENTS_AS_PARQUET = {
  format: 'parquet',
  compression: 'zstd',
  schema: {
    source: 'inline',
    fields: [
      { name: 'id', type: 'string' },
      {
        name: 'event',
        type: 'struct',
        fields: [
          { name: 'ts', type: 'timestamp' },
          { name: 'host', type: 'string' },
          { name: 'level', type: 'string' },
        ],
      },
      { name: 'bytes', type: 'int64' },
      { name: 'msg', type: 'string' },
    ],
  },
} as const;

/** `count` makeEvents records over the last hour, their ids and keys marked `pq`. */
export function parquetEvents(count: number, partitions: number, tombstoneEvery: number): ProducedRecord[] {
  return makeEvents(count, {
    startMs: Date.now() - 3600_000,
    spanMs: 3600_000,
    partitions,
    tombstoneEvery,
    prefix: 'pq',
  });
}

/**
 * Registers the jsonl topic `jsonl` and beside it the Parquet topic `parquet` (EVENTS_AS_PARQUET,
 * then `parquetFields`), both with the fields of `common`; each must answer 201.
 */
export async function registerBeside(
  api: Api,
  common: Record<string, unknown>,
  jsonl: string,
  parquet: string,
  parquetFields: Record<string, unknown> = {},
): Promise<void> {
  for (const body of [
    { ...common, topic: jsonl },
    { ...common, ...EVENTS_AS_PARQUET, ...parquetFields, topic: parquet },
  ]) {
    const res = await api.post('/api/v1/topics', body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
}

/** The columns of every file: Kafka's and Sluice's first, then the schema's. */
const COLUMNS = [
  '__kafka_partition',
  '__kafka_offset',
  '__kafka_timestamp',
  '__kafka_key',
  '__kafka_headers',
  '__kafka_tombstone',
  '__sluice_event_time',
  'id',
  'event',
  'bytes',
  'msg',
];

/** One row as the reader prints it: instants as epoch ms, bytes as UTF-8 text. */
interface ParquetRow {
  file: string;
  partition: number;
  offset: number;
  key: string | null;
  headers: Array<[string, string | null]>;
  tombstone: boolean;
  eventTime: number;
  id: string | null;
  event: { ts: number | null; host: string | null; level: string | null } | null;
  bytes: number | null;
  msg: string | null;
}

// Each file on its own (a file is what a commit record lists), with its column names.
const READ = `
import sys, json, glob, os, datetime
import pyarrow.parquet as pq
root = sys.argv[1]
epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
ms = lambda t: None if t is None else (t - epoch) // datetime.timedelta(milliseconds=1)
text = lambda b: None if b is None else b.decode('utf-8')
rows, columns = [], {}
for path in sorted(glob.glob(os.path.join(root, '**', '*.parquet'), recursive=True)):
    name = os.path.relpath(path, root)
    t = pq.read_table(path)
    columns[name] = t.column_names
    for r in t.to_pylist():
        e = r['event']
        rows.append({
            'file': name, 'partition': r['__kafka_partition'], 'offset': r['__kafka_offset'],
            'key': text(r['__kafka_key']), 'headers': [[h['key'], text(h['value'])] for h in r['__kafka_headers']],
            'tombstone': r['__kafka_tombstone'], 'eventTime': ms(r['__sluice_event_time']),
            'id': r['id'], 'event': None if e is None else {'ts': ms(e['ts']), 'host': e['host'], 'level': e['level']},
            'bytes': r['bytes'], 'msg': r['msg'],
        })
print(json.dumps({'rows': rows, 'columns': columns}))
`;

/** `produced` holds makeEvents records (tombstones allowed); every offset below a high watermark is read once. */
export type ParquetVerifyOptions = Pick<
  VerifyOptions,
  's3' | 'bucket' | 'prefix' | 'topic' | 'produced' | 'highWatermarks'
>;

/** What a produced makeEvents value must read back as. */
function expectedValue(p: ProducedRecord): Pick<ParquetRow, 'id' | 'event' | 'bytes' | 'msg'> {
  if (p.value === null) return { id: null, event: null, bytes: null, msg: null };
  const v = JSON.parse(p.value) as {
    id: string;
    event: { ts: string | number; host: string; level: string };
    bytes: number;
    msg: string;
  };
  const ts = typeof v.event.ts === 'number' ? v.event.ts : Date.parse(v.event.ts);
  return { id: v.id, event: { ts, host: v.event.host, level: v.event.level }, bytes: v.bytes, msg: v.msg };
}

/** Downloads the topic's committed Parquet objects, reads them with pyarrow and checks exactly-once. */
export async function verifyParquetExactlyOnce(
  o: ParquetVerifyOptions,
): Promise<{ rows: number; files: number }> {
  const root = o.prefix ? `${o.prefix}/${o.topic}/` : `${o.topic}/`;
  const { data, listed, commits } = await committedObjects(o.s3, o.bucket, root);
  for (const c of commits)
    assert.equal(
      c.rejected,
      undefined,
      `a commit record lists rejected records: ${JSON.stringify(c.rejected)}`,
    );
  for (const d of data) assert.match(d.key, /\.parquet$/, `a data object of a Parquet topic: ${d.key}`);

  const dir = mkdtempSync(join(tmpdir(), 'sluice-parquet-check-'));
  let read: { rows: ParquetRow[]; columns: Record<string, string[]> };
  try {
    for (let i = 0; i < data.length; i += 16) {
      await Promise.all(
        data.slice(i, i + 16).map(async ({ key }) => {
          const bytes = await getBytes(o.s3, o.bucket, key);
          assert.equal(
            createHash('sha256').update(bytes).digest('hex'),
            listed.get(key)!.sha256,
            `${key}: the stored bytes are the ones its commit record hashes`,
          );
          const file = join(dir, key.slice(root.length));
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, bytes);
        }),
      );
    }
    read = runPython(READ, [dir]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(Object.keys(read.columns).length, data.length, 'pyarrow read every committed object');
  for (const [file, cols] of Object.entries(read.columns))
    assert.deepEqual(cols, COLUMNS, `${file}: columns`);

  const producedByKey = new Map(o.produced.map((p) => [p.key, p]));
  const offsets = new Map<number, Set<number>>();
  const seenKeys = new Set<string>();
  for (const r of read.rows) {
    const seen = offsets.get(r.partition) ?? new Set<number>();
    assert.ok(!seen.has(r.offset), `offset ${r.partition}/${r.offset} appears twice`);
    seen.add(r.offset);
    offsets.set(r.partition, seen);
    assert.ok(r.key !== null, 'test records all have keys');
    assert.ok(!seenKeys.has(r.key), `record ${r.key} appears twice`);
    seenKeys.add(r.key);
    const p = producedByKey.get(r.key);
    assert.ok(p, `record ${r.key} in S3 was never produced`);
    assert.equal(r.partition, p.partition, `record ${r.key} partition`);
    assert.deepEqual(r.headers, p.headers, `headers of ${r.key} (order and repeats kept)`);
    assert.equal(r.tombstone, p.value === null, `record ${r.key}: tombstone`);
    const { id, event, bytes, msg } = r;
    assert.deepEqual({ id, event, bytes, msg }, expectedValue(p), `values of ${r.key}`);
    const folder = r.file.slice(0, r.file.lastIndexOf('/') + 1);
    if (folder.startsWith('dt=')) assert.equal(folder, hourFolder(r.eventTime), `record ${r.key} folder`);
  }
  for (const p of o.produced) assert.ok(seenKeys.has(p.key), `produced record ${p.key} is missing from S3`);
  assert.equal(read.rows.length, o.produced.length, 'rows read = records produced');
  for (const [partition, hw] of o.highWatermarks) {
    const seen = offsets.get(partition) ?? new Set<number>();
    assert.equal(
      BigInt(seen.size),
      hw,
      `partition ${partition}: ${seen.size} offsets read, high watermark ${hw}`,
    );
    for (let i = 0; i < Number(hw); i++) assert.ok(seen.has(i), `offset ${partition}/${i} missing`);
  }
  return { rows: read.rows.length, files: data.length };
}
