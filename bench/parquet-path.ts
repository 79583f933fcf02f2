/**
 * The worker's Parquet path alone, in this process, beside jsonl/zstd on the same records:
 * the range writer (range-writer.ts) of the worker turns the benchmark's 1 KiB JSON events
 * (bench/lib/payloads.ts, 20,000 distinct lines picked at random as Kafka's
 * ProducerPerformance does) into objects held in memory, one range after another. No Kafka,
 * no S3, no master: a change to the encoding shows in a minute, and its CPU per GB and stored
 * bytes are measured in the same run as jsonl/zstd's, which is what issue 13's aims compare.
 *
 *   node --conditions=source bench/parquet-path.ts [--records 100000] [--range 10000] [--runs 3] [--concurrency 1]
 *     [--formats jsonl,parquet,registry,parquet@1,registry@1] [--dump /tmp/one.parquet] [--cpu-prof-dir DIR]
 *
 * `registry`: the same events as Avro values in the Confluent wire format, read through a
 * registry client that answers from memory (PAYLOAD_AVRO_SCHEMA), written as Parquet with
 * columns from the registry schema (registry-columns.ts). `--dump` writes the first Parquet
 * object of the last run to a file, for a per-column look with pyarrow.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  outputSpecOf,
  SchemaRegistryClient,
  type SchemaSpec,
  TOPIC_DEFAULTS,
  type TopicSchema,
  wireHeader,
} from '@sluice/shared';
import avro from 'avsc';
import type { ObjectSink } from '../packages/worker/src/object-writer.ts';
import { RangeWriter } from '../packages/worker/src/range-writer.ts';
import type { EncodableRecord } from '../packages/worker/src/record-encoder.ts';
import { memorySink } from '../packages/worker/test/helpers/memory-sink.ts';
import { avroRecordOf, PAYLOAD_AVRO_SCHEMA, PAYLOAD_SCHEMA, payloadFile, rng } from './lib/payloads.ts';
import { threadCpuSeconds } from './lib/proc-stats.ts';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    range: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '1' },
    formats: { type: 'string', default: 'jsonl,parquet,registry' },
    dump: { type: 'string' },
  },
});
const RECORDS = Number(args.records);
const RANGE = Number(args.range);
const RUNS = Number(args.runs);
const CONCURRENCY = Number(args.concurrency);
const SCHEMA_ID = 7;
const T0 = BigInt(Date.UTC(2026, 10, 25, 8));

const lines = payloadFile(1024, 20_000).split('\n');
const pick = rng(42);
const order = Array.from({ length: RECORDS }, () => Math.floor(pick() * lines.length));
const jsonValues = lines.map((l) => Buffer.from(l));
const avroType = avro.Type.forSchema(PAYLOAD_AVRO_SCHEMA as unknown as avro.Schema);
const avroValues = lines.map((l) =>
  Buffer.concat([wireHeader(SCHEMA_ID), avroType.toBuffer(avroRecordOf(l))]),
);

const registry = new SchemaRegistryClient({
  url: 'http://registry',
  get: async () => ({ status: 200, body: JSON.stringify({ schema: JSON.stringify(PAYLOAD_AVRO_SCHEMA) }) }),
});

/** `parquet@1`, `registry@1`: the same with encoding revision 1 (ranges planned before revisions). */
type Kind = 'jsonl' | 'parquet' | 'registry' | 'parquet@1' | 'registry@1';

function specOf(named: Kind) {
  const [kind, revision] = named.split('@') as ['jsonl' | 'parquet' | 'registry', string | undefined];
  const schema: SchemaSpec =
    kind === 'registry' ? { source: 'registry' } : (PAYLOAD_SCHEMA as unknown as TopicSchema);
  const spec = outputSpecOf({
    ...TOPIC_DEFAULTS,
    destination: { bucket: 'bench', prefix: 'p' },
    format: kind === 'jsonl' ? 'jsonl' : 'parquet',
    compression: 'zstd',
    ...(kind === 'jsonl' ? {} : { schema }),
  });
  return revision === undefined ? spec : { ...spec, parquetEncoding: Number(revision) };
}

/** One pass over all records, range by range; returns CPU s, wall s, bytes in, bytes stored. */
async function pass(kind: Kind, keep: Map<string, Buffer>) {
  const spec = specOf(kind);
  const values = kind.startsWith('registry') ? avroValues : jsonValues;
  let bytesIn = 0;
  let stored = 0;
  const cpu0 = process.cpuUsage();
  const main0 = threadCpuSeconds('self').get(MAIN) ?? 0;
  const t0 = performance.now();
  // `--concurrency` ranges at once, their batches taken in turn, as a worker's ranges in hand.
  for (let first = 0; first < RECORDS; first += RANGE * CONCURRENCY) {
    const ranges: Array<{ start: number; end: number; writer: RangeWriter; store: Map<string, Buffer> }> = [];
    for (let start = first; start < Math.min(RECORDS, first + RANGE * CONCURRENCY); start += RANGE) {
      const end = Math.min(RECORDS, start + RANGE);
      const store = new Map<string, Buffer>();
      const writer = new RangeWriter({
        spec,
        range: { topic: 'bench', partition: 0, start: BigInt(start), end: BigInt(end) },
        target: { openObjects: async (keys) => keys.map((k): ObjectSink => memorySink(k, store)) },
        schemas: registry,
      });
      ranges.push({ start, end, writer, store });
    }
    for (let b = 0; b < RANGE; b += 500) {
      for (const { start, end, writer } of ranges) {
        const batch: EncodableRecord[] = [];
        for (let i = start + b; i < Math.min(end, start + b + 500); i++) {
          const value = values[order[i]!]!;
          bytesIn += value.length;
          batch.push({ offset: BigInt(i), timestamp: T0 + BigInt(i), key: null, value, headers: [] });
        }
        if (batch.length > 0) await writer.write(batch);
      }
    }
    for (const { writer, store } of ranges) {
      await writer.finish();
      for (const [k, v] of store) {
        stored += v.length;
        if (keep.size === 0 && k.endsWith('.parquet')) keep.set(k, v);
      }
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const mainS = (threadCpuSeconds('self').get(MAIN) ?? 0) - main0;
  return {
    cpuS: (cpu.user + cpu.system) / 1e6,
    mainS,
    wallS: (performance.now() - t0) / 1e3,
    bytesIn,
    stored,
  };
}

/** The main JS thread's name: jsonl's zstd runs on libuv's pool, Parquet's on this thread. */
const MAIN = readFileSync('/proc/self/comm', 'utf8').trim();

const kinds = args.formats.split(',') as Kind[];
const keep = new Map<string, Buffer>();
const rows: Record<
  string,
  { cpuPerGB: number[]; mainPerGB: number[]; mbps: number[]; stored: number; bytesIn: number }
> = {};
for (let run = 0; run <= RUNS; run++) {
  for (const kind of kinds) {
    const r = await pass(kind, kind === 'jsonl' ? new Map() : keep);
    // Run 0 warms the code up (compiling), as a worker's first ranges do; it is not counted.
    if (run === 0) continue;
    rows[kind] ??= { cpuPerGB: [], mainPerGB: [], mbps: [], stored: r.stored, bytesIn: r.bytesIn };
    const row = rows[kind];
    row.cpuPerGB.push(r.cpuS / (r.bytesIn / 1e9));
    row.mainPerGB.push(r.mainS / (r.bytesIn / 1e9));
    row.mbps.push(r.bytesIn / 1e6 / r.wallS);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const base = rows.jsonl;
console.log(`${RECORDS} records, ranges of ${RANGE}, ${RUNS} runs (median; range of runs)`);
for (const [kind, r] of Object.entries(rows)) {
  const cpu = median(r.cpuPerGB);
  console.log(
    `${kind.padEnd(9)} ${cpu.toFixed(2)} CPU s/GB [${Math.min(...r.cpuPerGB).toFixed(2)}-${Math.max(...r.cpuPerGB).toFixed(2)}]` +
      ` (main thread ${median(r.mainPerGB).toFixed(2)})` +
      `  ${median(r.mbps).toFixed(0)} MB/s  stored ${(r.stored / 1e6).toFixed(2)} MB of ${(r.bytesIn / 1e6).toFixed(1)}` +
      (base && kind !== 'jsonl'
        ? `  (${(median(base.cpuPerGB) / cpu).toFixed(2)}× jsonl/zstd's speed per CPU, stored ${(r.stored / base.stored).toFixed(2)}×)`
        : ''),
  );
}
if (args.dump) {
  const first = [...keep.values()][0];
  if (first) writeFileSync(args.dump, first);
}
