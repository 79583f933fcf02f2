/**
 * Chooses the worker's Parquet writer by measurement (issue 13): every candidate writes the
 * same 100,000 log events of the benchmark (bench/lib/payloads.ts, about 1 KiB each, as Kafka
 * values: JSON text that the writer must parse) with zstd into one file, in a child process of
 * its own so that its peak RSS is its own. Reported per candidate: MB/s of JSON in, CPU s per
 * GB, peak RSS, output bytes, whether two runs wrote identical bytes, and whether pyarrow
 * (SLUICE_STACK_PYTHON) reads back exactly the values that went in.
 *
 *   npm install --prefix /tmp/pq parquet-wasm@0.8.0 apache-arrow@21.2.0 hyparquet-writer@0.17.0 \
 *     @dsnp/parquetjs@1.9.3 @duckdb/node-api@1.5.6-r.1
 *   SLUICE_PARQUET_CANDIDATES=/tmp/pq node --conditions=source bench/parquet-writers.ts
 *
 * Only the winner is a dependency of Sluice; the candidates are loaded from the folder named
 * by SLUICE_PARQUET_CANDIDATES (default: this checkout).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import zlib from 'node:zlib';
import { readersPython } from '../test/helpers/python-readers.ts';
import { payloadFile } from './lib/payloads.ts';

const RECORDS = 100_000;
const CANDIDATES = ['hyparquet-writer', 'parquet-wasm', 'duckdb', 'parquetjs'] as const;
type Candidate = (typeof CANDIDATES)[number];

/** One event as the columns hold it; the Kafka fields are added as the worker adds them. */
interface Row {
  __kafka_partition: number;
  __kafka_offset: bigint;
  __kafka_timestamp: number;
  ts: number;
  level: string;
  svc: string;
  msg: string;
  ms: number;
  trace: string;
  span: string;
  user: { id: number; country: string; plan: string };
  http: { status: number; bytes: number; agent: string };
  tags: string[];
  note: string;
}

const TS0 = Date.UTC(2026, 10, 25, 8);

function rowsOf(values: string[]): Row[] {
  return values.map((v, i) => ({
    __kafka_partition: 0,
    __kafka_offset: BigInt(i),
    __kafka_timestamp: TS0 + i,
    ...(JSON.parse(v) as Omit<Row, '__kafka_partition' | '__kafka_offset' | '__kafka_timestamp'>),
  }));
}

async function load(name: string): Promise<unknown> {
  const dir = process.env.SLUICE_PARQUET_CANDIDATES ?? process.cwd();
  return import(pathToFileURL(createRequire(join(dir, 'package.json')).resolve(name)).href);
}

// The few calls of each library used here, typed by hand: only the winner is installed.
interface HyparquetWriter {
  ByteWriter: new () => { getBuffer(): ArrayBuffer };
  parquetWrite(opts: Record<string, unknown>): void;
}

const OPT = 'OPTIONAL';
const str = (name: string) => ({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: OPT });
const i32 = (name: string) => ({ name, type: 'INT32', repetition_type: OPT });
const i64 = (name: string) => ({ name, type: 'INT64', repetition_type: OPT });
const tsMs = (name: string) => ({
  name,
  type: 'INT64',
  repetition_type: OPT,
  logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
});

async function writeHyparquet(values: string[]): Promise<Uint8Array> {
  const hw = (await load('hyparquet-writer')) as HyparquetWriter;
  const rows = rowsOf(values);
  const schema = [
    { name: 'root', num_children: 14 },
    i32('__kafka_partition'),
    i64('__kafka_offset'),
    tsMs('__kafka_timestamp'),
    tsMs('ts'),
    str('level'),
    str('svc'),
    str('msg'),
    i32('ms'),
    str('trace'),
    str('span'),
    { name: 'user', repetition_type: OPT, num_children: 3 },
    i64('id'),
    str('country'),
    str('plan'),
    { name: 'http', repetition_type: OPT, num_children: 3 },
    i32('status'),
    i64('bytes'),
    str('agent'),
    { name: 'tags', repetition_type: OPT, num_children: 1, converted_type: 'LIST' },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    str('element'),
    str('note'),
  ];
  const col = <T>(name: string, f: (r: Row) => T) => ({ name, data: rows.map(f) });
  const writer = new hw.ByteWriter();
  hw.parquetWrite({
    writer,
    schema,
    codec: 'ZSTD',
    compressors: { ZSTD: (b: Uint8Array) => zlib.zstdCompressSync(b) },
    createdBy: 'sluice-bench',
    rowGroupSize: 50_000,
    columnData: [
      col('__kafka_partition', (r) => r.__kafka_partition),
      col('__kafka_offset', (r) => r.__kafka_offset),
      col('__kafka_timestamp', (r) => BigInt(r.__kafka_timestamp)),
      col('ts', (r) => BigInt(r.ts)),
      col('level', (r) => r.level),
      col('svc', (r) => r.svc),
      col('msg', (r) => r.msg),
      col('ms', (r) => r.ms),
      col('trace', (r) => r.trace),
      col('span', (r) => r.span),
      col('user', (r) => ({ ...r.user, id: BigInt(r.user.id) })),
      col('http', (r) => ({ ...r.http, bytes: BigInt(r.http.bytes) })),
      col('tags', (r) => r.tags),
      col('note', (r) => r.note),
    ],
  });
  return new Uint8Array(writer.getBuffer());
}

interface ArrowModule {
  Schema: new (fields: unknown[]) => unknown;
  Field: new (name: string, type: unknown, nullable: boolean) => unknown;
  Struct: new (fields: unknown[]) => unknown;
  List: new (field: unknown) => unknown;
  Int32: new () => unknown;
  Int64: new () => unknown;
  Utf8: new () => unknown;
  TimestampMillisecond: new (tz?: string) => unknown;
  vectorFromArray(values: unknown[], type: unknown): unknown;
  Table: new (columns: Record<string, unknown>) => unknown;
  tableToIPC(table: unknown, type: 'stream'): Uint8Array;
}
interface ParquetWasm {
  Table: { fromIPCStream(buf: Uint8Array): unknown };
  WriterPropertiesBuilder: new () => {
    setCompression(c: number): ParquetWasm['WriterPropertiesBuilder']['prototype'];
    setCreatedBy(s: string): ParquetWasm['WriterPropertiesBuilder']['prototype'];
    setMaxRowGroupSize(n: number): ParquetWasm['WriterPropertiesBuilder']['prototype'];
    build(): unknown;
  };
  Compression: { ZSTD: number };
  writeParquet(table: unknown, props: unknown): Uint8Array;
}

async function writeParquetWasm(values: string[]): Promise<Uint8Array> {
  const a = (await load('apache-arrow')) as ArrowModule;
  const pw = (await load('parquet-wasm')) as ParquetWasm;
  const rows = rowsOf(values);
  const f = (n: string, t: unknown) => new a.Field(n, t, true);
  const col = (type: unknown, fn: (r: Row) => unknown) => a.vectorFromArray(rows.map(fn), type);
  const tz = () => new a.TimestampMillisecond('UTC');
  const table = new a.Table({
    __kafka_partition: col(new a.Int32(), (r) => r.__kafka_partition),
    __kafka_offset: col(new a.Int64(), (r) => r.__kafka_offset),
    __kafka_timestamp: col(tz(), (r) => r.__kafka_timestamp),
    ts: col(tz(), (r) => r.ts),
    level: col(new a.Utf8(), (r) => r.level),
    svc: col(new a.Utf8(), (r) => r.svc),
    msg: col(new a.Utf8(), (r) => r.msg),
    ms: col(new a.Int32(), (r) => r.ms),
    trace: col(new a.Utf8(), (r) => r.trace),
    span: col(new a.Utf8(), (r) => r.span),
    user: col(
      new a.Struct([f('id', new a.Int64()), f('country', new a.Utf8()), f('plan', new a.Utf8())]),
      (r) => ({
        ...r.user,
        id: BigInt(r.user.id),
      }),
    ),
    http: col(
      new a.Struct([f('status', new a.Int32()), f('bytes', new a.Int64()), f('agent', new a.Utf8())]),
      (r) => ({
        ...r.http,
        bytes: BigInt(r.http.bytes),
      }),
    ),
    tags: col(new a.List(f('element', new a.Utf8())), (r) => r.tags),
    note: col(new a.Utf8(), (r) => r.note),
  });
  const props = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression.ZSTD)
    .setCreatedBy('sluice-bench')
    .setMaxRowGroupSize(50_000)
    .build();
  return pw.writeParquet(pw.Table.fromIPCStream(a.tableToIPC(table, 'stream')), props);
}

interface DuckDbApi {
  DuckDBInstance: {
    create(
      path: string,
      opts: Record<string, string>,
    ): Promise<{ connect(): Promise<{ run(sql: string): Promise<unknown> }> }>;
  };
}

async function writeDuckDb(values: string[]): Promise<Uint8Array> {
  const duck = (await load('@duckdb/node-api')) as DuckDbApi;
  const dir = mkdtempSync(join(tmpdir(), 'pq-duck-'));
  try {
    // DuckDB reads files, not JS values: the values go in as the NDJSON they are.
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, values.map((v, i) => `{"o":${i},${v.slice(1)}`).join('\n'));
    const db = await duck.DuckDBInstance.create(':memory:', { threads: '1' });
    const conn = await db.connect();
    const out = join(dir, 'out.parquet');
    await conn.run(`COPY (SELECT 0::INTEGER AS __kafka_partition, o::BIGINT AS __kafka_offset,
        make_timestamp((${TS0} + o) * 1000) AS __kafka_timestamp, make_timestamp(ts * 1000) AS ts,
        level, svc, msg, ms, trace, span, "user", http, tags, note
      FROM read_json('${input}', format = 'newline_delimited', columns = {o: 'BIGINT', ts: 'BIGINT',
        level: 'VARCHAR', svc: 'VARCHAR', msg: 'VARCHAR', ms: 'INTEGER', trace: 'VARCHAR', span: 'VARCHAR',
        "user": 'STRUCT(id BIGINT, country VARCHAR, plan VARCHAR)',
        http: 'STRUCT(status INTEGER, bytes BIGINT, agent VARCHAR)', tags: 'VARCHAR[]', note: 'VARCHAR'}))
      TO '${out}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 50000)`);
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function writeParquetjs(_values: string[]): Promise<Uint8Array> {
  await load('@dsnp/parquetjs'); // 1.9.3's npm tarball holds no dist/: the import fails
  throw new Error('unreachable');
}

const WRITERS: Record<Candidate, (values: string[]) => Promise<Uint8Array>> = {
  'hyparquet-writer': writeHyparquet,
  'parquet-wasm': writeParquetWasm,
  duckdb: writeDuckDb,
  parquetjs: writeParquetjs,
};

/** Child: writes the file twice (the second run times it), prints one JSON line. */
async function child(candidate: Candidate, valuesFile: string, outFile: string): Promise<void> {
  const values = readFileSync(valuesFile, 'utf8').split('\n');
  const first = await WRITERS[candidate](values);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const second = await WRITERS[candidate](values);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  writeFileSync(outFile, second);
  const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  console.log(
    JSON.stringify({
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      bytes: second.length,
      deterministic: digest(first) === digest(second),
    }),
  );
}

/** pyarrow reads the file back: the values and the types that went in, row for row. */
const CHECK = `
import sys, json, datetime, pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
got = t.to_pylist()
vals = open(sys.argv[2]).read().split('\\n')
ms = lambda d: int(d.timestamp() * 1000)
bad = []
for i, (r, v) in enumerate(zip(got, vals)):
  e = json.loads(v)
  e.update({'__kafka_partition': 0, '__kafka_offset': i, '__kafka_timestamp': ${TS0} + i})
  r = dict(r, ts=ms(r['ts']), __kafka_timestamp=ms(r['__kafka_timestamp']))
  if r != e: bad.append(i)
types = {f.name: str(f.type) for f in t.schema}
print(json.dumps({'rows': t.num_rows, 'mismatched': len(bad) + abs(len(got) - len(vals)), 'offset': str(types['__kafka_offset']), 'ts': str(types['ts'])}))
`;

async function main(): Promise<void> {
  const [mode, candidate, valuesFile, outFile] = process.argv.slice(2);
  if (mode === '--child') return child(candidate as Candidate, valuesFile!, outFile!);
  const dir = mkdtempSync(join(tmpdir(), 'pq-bench-'));
  const values = join(dir, 'values.jsonl');
  const text = payloadFile(1024, RECORDS);
  writeFileSync(values, text);
  const mb = Buffer.byteLength(text) / 1e6;
  const jsonlZst = zlib.zstdCompressSync(Buffer.from(text), {
    params: { [zlib.constants.ZSTD_c_compressionLevel]: 3 },
  }).length;
  console.log(
    `${RECORDS} events, ${mb.toFixed(1)} MB of JSON; the values alone as zstd-3: ${jsonlZst} bytes`,
  );
  console.log(
    '| writer | MB/s | CPU s per GB | peak RSS MiB | output bytes | same bytes twice | pyarrow reads back |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const c of CANDIDATES) {
    const out = join(dir, `${c}.parquet`);
    const run = spawnSync(
      process.execPath,
      ['--conditions=source', import.meta.filename, '--child', c, values, out],
      { encoding: 'utf8' },
    );
    if (run.status !== 0) {
      const why = run.stderr.split('\n').find((l) => /Error/.test(l)) ?? run.stderr.slice(0, 200);
      console.log(`| ${c} | — | — | — | — | — | fails: ${why.trim()} |`);
      continue;
    }
    const m = JSON.parse(run.stdout.trim().split('\n').pop()!) as {
      seconds: number;
      cpuSeconds: number;
      peakRssMiB: number;
      bytes: number;
      deterministic: boolean;
    };
    const py = spawnSync(readersPython(), ['-c', CHECK, out, values], { encoding: 'utf8' });
    const check =
      py.status === 0
        ? (() => {
            const r = JSON.parse(py.stdout) as {
              rows: number;
              mismatched: number;
              offset: string;
              ts: string;
            };
            return r.mismatched === 0
              ? `exact (${r.rows} rows; offset ${r.offset}, ts ${r.ts})`
              : `${r.mismatched} rows differ`;
          })()
        : `fails: ${py.stderr.trim().split('\n').pop()}`;
    console.log(
      `| ${c} | ${(mb / m.seconds).toFixed(1)} | ${((m.cpuSeconds / mb) * 1000).toFixed(1)} | ${m.peakRssMiB.toFixed(0)} | ${m.bytes} | ${m.deterministic ? 'yes' : 'no'} | ${check} |`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
}

await main();
