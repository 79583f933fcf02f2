/**
 * Range-read throughput of the Kafka client candidates (DESIGN.md, "Choices already made"):
 * MB/s and CPU seconds per GB for reading the same offset range of one partition.
 *
 *   node --conditions=source bench/kafka-read-compare.ts [--mb 200] [--record-bytes 1000]
 *     [--runs 3] [--clients platformatic,confluent,kafkajs] [--compression none|zstd|lz4|gzip]
 *     [--topic NAME] [--keep]
 *
 * Kafka: SLUICE_KAFKA_BROKERS, else the local stack's .sluice/stack.env (read by @sluice/test-kit).
 * @confluentinc/kafka-javascript is not a dependency of Sluice: point CKJS_PATH at an install
 * of it (bench/KAFKA-CLIENT.md says how it was built here); without it that candidate is skipped.
 *
 * The range is produced once (with Kafka's own ProducerPerformance when the stack's Kafka
 * libraries are at .cache/kafka-*, else with kafkajs) into a one-partition topic, which is
 * deleted at the end unless --keep. Each run is a fresh child process, so CPU time
 * (getrusage: every thread, librdkafka's too) and peak RSS are the candidate's alone.
 * MB are 10^6 bytes of record keys and values.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createKafkaAdmin } from '@sluice/shared';
import { loadStackEnv } from '@sluice/test-kit';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { createRangeReader } from '../packages/worker/src/range-reader.ts';

const ROOT = join(import.meta.dirname, '..');
const FETCH_MAX_BYTES = 8 * 1024 * 1024; // the worker's default SLUICE_WORKER_FETCH_MAX_BYTES

const { values: args } = parseArgs({
  options: {
    mb: { type: 'string', default: '200' },
    'record-bytes': { type: 'string', default: '1000' },
    runs: { type: 'string', default: '3' },
    clients: { type: 'string', default: 'platformatic,confluent,kafkajs' },
    compression: { type: 'string', default: 'none' },
    topic: { type: 'string' },
    keep: { type: 'boolean', default: false },
    child: { type: 'string' },
    end: { type: 'string' },
    'topic-id': { type: 'string' },
  },
});

function brokers(): string[] {
  const list = process.env.SLUICE_KAFKA_BROKERS || loadStackEnv().SLUICE_KAFKA_BROKERS;
  return list.split(',');
}

interface RunResult {
  client: string;
  records: number;
  bytes: number;
  /** From the start of the read (connect included) to the last record. */
  wallMs: number;
  /** Until the first record arrived (connect, group join, first fetch). */
  firstMs: number;
  cpuMs: number;
  maxRssMb: number;
}

// ---------------------------------------------------------------- child: one candidate, one read

async function readPlatformatic(
  topic: string,
  topicId: string,
  end: bigint,
  count: (k: Buffer | null, v: Buffer | null) => void,
) {
  const reader = createRangeReader({
    kafkaBrokers: brokers(),
    kafkaClientId: 'sluice-bench',
    kafkaSsl: false,
    kafkaSasl: null,
    fetchMaxBytes: FETCH_MAX_BYTES,
  });
  try {
    for await (const batch of reader.read({ topic, topicId, partition: 0, start: 0n, end })) {
      for (const r of batch.records) count(r.key, r.value);
    }
  } finally {
    await reader.close();
  }
}

interface RdMessage {
  offset: number;
  value: Buffer | null;
  key?: Buffer | string | null;
}
interface RdConsumer {
  on(event: 'ready', cb: () => void): void;
  on(event: 'event.error', cb: (err: Error) => void): void;
  connect(): void;
  assign(a: Array<{ topic: string; partition: number; offset: number }>): void;
  consume(n: number, cb: (err: Error | null, messages: RdMessage[]) => void): void;
  disconnect(cb: () => void): void;
}

type Ckjs = {
  KafkaConsumer: new (conf: Record<string, unknown>, topicConf: Record<string, unknown>) => RdConsumer;
};

/** Loaded before the clock starts: loading a native library is not reading. */
function loadCkjs(): Ckjs {
  const path = process.env.CKJS_PATH;
  if (!path) throw new Error('CKJS_PATH is not set');
  return createRequire(import.meta.url)(path) as Ckjs;
}

async function readConfluent(
  ckjs: Ckjs,
  topic: string,
  end: bigint,
  count: (k: Buffer | null, v: Buffer | null) => void,
) {
  const consumer = new ckjs.KafkaConsumer(
    {
      'bootstrap.servers': brokers().join(','),
      'client.id': 'sluice-bench',
      // librdkafka wants a group id even when partitions are assigned by hand; assign() never
      // joins the group and nothing is committed.
      'group.id': 'sluice-bench-unused',
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'isolation.level': 'read_committed',
      'fetch.max.bytes': FETCH_MAX_BYTES,
      'max.partition.fetch.bytes': FETCH_MAX_BYTES,
      // librdkafka 2.x pauses fetching for fetch.queue.backoff.ms (default 1000) whenever its
      // prefetch queue is full, which caps one partition at ~85 MB/s here; with a short pause
      // and a 16 MiB queue (the two fetches our reader may hold) it runs at full speed.
      'fetch.queue.backoff.ms': 5,
      'queued.max.messages.kbytes': 16 * 1024,
    },
    {},
  );
  await new Promise<void>((resolve, reject) => {
    consumer.on('ready', () => resolve());
    consumer.on('event.error', reject);
    consumer.connect();
  });
  consumer.assign([{ topic, partition: 0, offset: 0 }]);
  const last = Number(end) - 1;
  await new Promise<void>((resolve, reject) => {
    const loop = () =>
      consumer.consume(10_000, (err, messages) => {
        if (err) return reject(err);
        for (const m of messages) {
          if (m.offset > last) continue;
          count(typeof m.key === 'string' ? Buffer.from(m.key) : (m.key ?? null), m.value);
          if (m.offset === last) return resolve();
        }
        loop();
      });
    loop();
  });
  await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
}

async function readKafkajs(topic: string, end: bigint, count: (k: Buffer | null, v: Buffer | null) => void) {
  const kafka = new Kafka({ clientId: 'sluice-bench', brokers: brokers(), logLevel: logLevel.NOTHING });
  // kafkajs has no manual assignment (its issue #373): a fresh group, from the beginning.
  const consumer = kafka.consumer({
    groupId: `sluice-bench-${process.pid}-${Date.now()}`,
    maxBytes: FETCH_MAX_BYTES,
    maxBytesPerPartition: FETCH_MAX_BYTES,
    readUncommitted: false,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const last = end - 1n;
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            const offset = BigInt(m.offset);
            if (offset > last) continue;
            count(m.key, m.value);
            if (offset === last) resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
}

async function child(client: string, topic: string, topicId: string, end: bigint): Promise<void> {
  const ckjs = client === 'confluent' ? loadCkjs() : null;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let first = 0;
  let records = 0;
  let bytes = 0;
  const count = (k: Buffer | null, v: Buffer | null) => {
    if (records === 0) first = performance.now() - t0;
    records++;
    bytes += (k?.length ?? 0) + (v?.length ?? 0);
  };
  if (client === 'platformatic') await readPlatformatic(topic, topicId, end, count);
  else if (ckjs) await readConfluent(ckjs, topic, end, count);
  else if (client === 'kafkajs') await readKafkajs(topic, end, count);
  else throw new Error(`unknown client ${client}`);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const result: RunResult = {
    client,
    records,
    bytes,
    wallMs,
    firstMs: first,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// ---------------------------------------------------------------- parent: data, runs, table

function kafkaLibs(): string | null {
  const cache = join(ROOT, '.cache');
  if (!existsSync(cache)) return null;
  const dir = readdirSync(cache).find((d) => /^kafka-\d/.test(d) && existsSync(join(cache, d, 'libs')));
  return dir ? join(cache, dir, 'libs') : null;
}

async function produce(
  topic: string,
  records: number,
  recordBytes: number,
  compression: string,
): Promise<string> {
  const libs = kafkaLibs();
  if (libs) {
    const res = spawnSync(
      'java',
      [
        '-Xmx512m',
        '-cp',
        `${libs}/*`,
        'org.apache.kafka.tools.ProducerPerformance',
        '--topic',
        topic,
        '--num-records',
        String(records),
        '--record-size',
        String(recordBytes),
        '--throughput',
        '-1',
        '--producer-props',
        `bootstrap.servers=${brokers().join(',')}`,
        'acks=1',
        'linger.ms=20',
        'batch.size=524288',
        `compression.type=${compression}`,
      ],
      { encoding: 'utf8' },
    );
    if (res.status !== 0) throw new Error(`ProducerPerformance failed: ${res.stderr || res.stdout}`);
    return `Kafka ProducerPerformance (${libs})`;
  }
  const kafka = new Kafka({ clientId: 'sluice-bench', brokers: brokers(), logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  const value = Buffer.alloc(recordBytes, 'x');
  const codec =
    compression === 'gzip'
      ? CompressionTypes.GZIP
      : compression === 'none'
        ? CompressionTypes.None
        : undefined;
  if (codec === undefined) throw new Error(`kafkajs can produce only none or gzip here, not ${compression}`);
  for (let sent = 0; sent < records; sent += 1000) {
    const n = Math.min(1000, records - sent);
    await producer.send({
      topic,
      compression: codec,
      messages: Array.from({ length: n }, () => ({ value })),
    });
  }
  await producer.disconnect();
  return 'kafkajs';
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function parent(): Promise<void> {
  const mb = Number(args.mb);
  const recordBytes = Number(args['record-bytes']);
  const records = Math.ceil((mb * 1e6) / recordBytes);
  const topic = args.topic ?? `sluice-bench-${mb}mb-${recordBytes}b-${args.compression}`;
  const kafka = new Kafka({ clientId: 'sluice-bench', brokers: brokers(), logLevel: logLevel.NOTHING });
  const kadmin = kafka.admin();
  await kadmin.connect();
  const admin = createKafkaAdmin({
    kafkaBrokers: brokers(),
    kafkaClientId: 'sluice-bench',
    kafkaSsl: false,
    kafkaSasl: null,
  });
  try {
    let md = (await admin.topicMetadata([topic])).get(topic);
    let producedWith = 'existing topic';
    if (!md) {
      await kadmin.createTopics({
        topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      const t0 = performance.now();
      producedWith = await produce(topic, records, recordBytes, String(args.compression));
      console.error(
        `produced ${records} records of ${recordBytes} B in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      md = (await admin.topicMetadata([topic])).get(topic);
    }
    if (!md) throw new Error(`topic ${topic} vanished`);
    const [offsets] = await admin.offsets(topic, [0]);
    if (!offsets) throw new Error('no offsets');
    const end = offsets.lastStable;
    console.log(
      `range: ${topic} partition 0 [0, ${end}), ${recordBytes} B records, compression ${args.compression}, produced with ${producedWith}`,
    );
    console.log(`fetch max bytes ${FETCH_MAX_BYTES}, ${args.runs} runs each, median shown\n`);

    const clients = String(args.clients).split(',');
    if (clients.includes('confluent') && !process.env.CKJS_PATH) {
      console.error('confluent: CKJS_PATH not set, skipped');
      clients.splice(clients.indexOf('confluent'), 1);
    }
    const rows: string[] = [];
    for (const client of clients) {
      const runs: RunResult[] = [];
      for (let i = 0; i < Number(args.runs); i++) {
        const res = spawnSync(
          process.execPath,
          [
            '--conditions=source',
            '--no-warnings',
            import.meta.filename,
            '--child',
            client,
            '--topic',
            topic,
            '--topic-id',
            md.topicId,
            '--end',
            String(end),
          ],
          { encoding: 'utf8', env: process.env, timeout: 600_000 },
        );
        const line = res.stdout.trim().split('\n').at(-1) ?? '';
        if (res.status !== 0 || !line.startsWith('{')) {
          throw new Error(`${client} run failed (${res.status}): ${res.stderr.slice(-2000)}`);
        }
        const r = JSON.parse(line) as RunResult;
        if (r.records !== Number(end))
          throw new Error(`${client} read ${r.records} records, expected ${end}`);
        runs.push(r);
        console.error(
          `${client} run ${i + 1}: ${(r.bytes / 1e6 / (r.wallMs / 1000)).toFixed(1)} MB/s, cpu ${(r.cpuMs / 1000).toFixed(2)} s`,
        );
      }
      const bytes = runs[0]?.bytes ?? 0;
      const wall = median(runs.map((r) => r.wallMs));
      const rates = runs.map((r) => r.bytes / 1e6 / (r.wallMs / 1000));
      const steady = median(runs.map((r) => r.wallMs - r.firstMs));
      const cpu = median(runs.map((r) => r.cpuMs));
      rows.push(
        `| ${client} | ${(bytes / 1e6 / (wall / 1000)).toFixed(0)} (${Math.min(...rates).toFixed(0)}–${Math.max(...rates).toFixed(0)}) | ${(bytes / 1e6 / (steady / 1000)).toFixed(1)} | ${(cpu / 1000 / (bytes / 1e9)).toFixed(2)} | ${median(runs.map((r) => r.firstMs)).toFixed(0)} | ${median(runs.map((r) => r.maxRssMb)).toFixed(0)} |`,
      );
    }
    console.log(
      '| client | MB/s whole read, median (min–max) | MB/s after first record | CPU s per GB | ms to first record | peak RSS MB |',
    );
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const r of rows) console.log(r);
    if (!args.keep && !args.topic) await kadmin.deleteTopics({ topics: [topic] });
  } finally {
    await admin.close();
    await kadmin.disconnect();
  }
}

if (args.child) {
  await child(args.child, String(args.topic), String(args['topic-id']), BigInt(String(args.end)));
} else {
  await parent();
}
