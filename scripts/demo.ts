/**
 * The demo's producer and progress display (run by scripts/demo.sh with the stack's
 * settings in the environment): creates a bucket and three topics, produces realistic web
 * server log events for a while, registers the topics through the REST API, and shows
 * records committed, lag and objects written until everything produced is in S3. The log
 * events land as JSON lines, and every fifth one also as Parquet (an inline schema); orders
 * in Avro with a schema in the stack's Schema Registry land as Parquet whose columns follow
 * that schema. At the end it prints
 * (and runs, with the stack's Python) the commands that read the columnar output.
 * It talks to Kafka with @platformatic/kafka, the client the workers are built on (kafkajs
 * printed Node's TimeoutNegativeWarning into the demo's progress lines).
 */
import { spawnSync } from 'node:child_process';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Admin, Producer, stringSerializers } from '@platformatic/kafka';
import avro from 'avsc';

const env = process.env;
const api = env.SLUICE_DEMO_API ?? 'http://127.0.0.1:8080';
const token = env.SLUICE_API_TOKEN ?? '';
const seconds = Number(env.SLUICE_DEMO_SECONDS ?? 30);
const rate = Number(env.SLUICE_DEMO_RATE ?? 3000);
const topic = env.SLUICE_DEMO_TOPIC ?? 'weblogs';
const bucket = env.SLUICE_DEMO_BUCKET ?? 'sluice-demo';
const parquetTopic = `${topic}-parquet`;
const avroTopic = env.SLUICE_DEMO_AVRO_TOPIC ?? 'orders-avro';
const partitions = 6;
/** One in this many log events also goes to the Parquet topic (the demo's run time stays). */
const PARQUET_EVERY = 5;

const kafka = { clientId: 'sluice-demo', bootstrapBrokers: (env.SLUICE_KAFKA_BROKERS ?? '').split(',') };
const s3 = new S3Client({
  endpoint: env.SLUICE_S3_ENDPOINT,
  region: env.SLUICE_S3_REGION ?? 'us-east-1',
  forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

async function waitForMaster(): Promise<void> {
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`${api}/readyz`)).ok) return;
    } catch {
      // not yet listening
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the master at ${api} did not become ready; see .sluice/demo/master.log`);
}

const paths = [
  '/',
  '/api/items',
  '/api/items/42',
  '/login',
  '/cart',
  '/checkout',
  '/static/app.js',
  '/search?q=kafka',
];
const agents = ['Mozilla/5.0 (X11; Linux x86_64)', 'curl/8.5.0', 'Mozilla/5.0 (Macintosh)', 'okhttp/4.12'];
function event(i: number): { topic: string; key: string; value: string; headers: Record<string, string> } {
  const status = i % 53 === 0 ? 500 : i % 17 === 0 ? 404 : 200;
  const host = `web-${String(i % 40).padStart(2, '0')}`;
  return {
    topic,
    key: host,
    value: JSON.stringify({
      ts: new Date().toISOString(),
      host,
      method: i % 9 === 0 ? 'POST' : 'GET',
      path: paths[i % paths.length],
      status,
      bytes: 200 + ((i * 7919) % 50_000),
      latencyMs: 1 + ((i * 104729) % 900) / 10,
      userAgent: agents[i % agents.length],
      requestId: `req-${Date.now().toString(36)}-${i}`,
    }),
    headers: { 'content-type': 'application/json', source: 'nginx' },
  };
}

/** The Parquet topic's columns: the log event's fields (a field not named would go to __sluice_extra). */
const WEBLOG_COLUMNS = {
  source: 'inline',
  unknownFields: 'json',
  fields: [
    { name: 'ts', type: 'timestamp' },
    { name: 'host', type: 'string' },
    { name: 'method', type: 'string' },
    { name: 'path', type: 'string' },
    { name: 'status', type: 'int32' },
    { name: 'bytes', type: 'int64' },
    { name: 'latencyMs', type: 'double' },
    { name: 'userAgent', type: 'string' },
    { name: 'requestId', type: 'string' },
  ],
};

const ORDER = {
  type: 'record',
  name: 'Order',
  namespace: 'sluice.demo',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'customer', type: 'string' },
    { name: 'items', type: 'int' },
    { name: 'amount', type: 'double' },
    { name: 'coupon', type: ['null', 'string'], default: null },
  ],
};

/** Registers the order schema under `<topic>-value`; answers order `i` in the Confluent wire format. */
async function orderEncoder(): Promise<(i: number) => { topic: string; key: Buffer; value: Buffer }> {
  const url = env.SLUICE_SCHEMA_REGISTRY_URL;
  if (!url) throw new Error('the stack names no SLUICE_SCHEMA_REGISTRY_URL: run npm run stack:up');
  const res = await fetch(`${url}/subjects/${avroTopic}-value/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schemaType: 'AVRO', schema: JSON.stringify(ORDER) }),
  });
  const { id } = (await res.json()) as { id?: number };
  if (typeof id !== 'number') throw new Error(`the Schema Registry at ${url} answered ${res.status}`);
  const type = avro.Type.forSchema(ORDER as avro.Schema);
  // Magic byte 0, the schema id (4 bytes, big-endian), then the Avro binary.
  const header = Buffer.alloc(5);
  header.writeInt32BE(id, 1);
  return (i) => {
    const customer = `c${i % 97}`;
    const value = type.toBuffer({
      orderId: `o-${Date.now().toString(36)}-${i}`,
      customer,
      items: 1 + (i % 5),
      amount: Math.round(((i * 7919) % 20_000) + 99) / 100,
      coupon: i % 7 === 0 ? 'WINTER' : null,
    });
    return { topic: avroTopic, key: Buffer.from(customer), value: Buffer.concat([header, value]) };
  };
}

async function register(body: Record<string, unknown>): Promise<void> {
  const name = body.topic as string;
  const reg = await call('POST', '/api/v1/topics', {
    destination: { bucket, prefix: 'demo' },
    maxRangeMessages: 20_000,
    flushIntervalMs: 3_000,
    ...body,
  });
  if (reg.status === 201)
    console.log(`demo: registered topic ${name} (${body.format}) -> s3://${bucket}/demo/${name}/`);
  else if (reg.status === 409) console.log(`demo: topic ${name} was already registered`);
  else throw new Error(`registering ${name} failed: ${reg.status} ${JSON.stringify(reg.body)}`);
}

/** The stack's Python commands that read the columnar output, printed and run once. */
function readers(): void {
  const python = env.SLUICE_STACK_PYTHON ?? 'python3';
  const endpoint = new URL(env.SLUICE_S3_ENDPOINT ?? 'http://127.0.0.1:9000');
  const fs = `s3=fs.S3FileSystem(endpoint_override='${endpoint.host}', scheme='${endpoint.protocol.replace(':', '')}', access_key='${env.AWS_ACCESS_KEY_ID}', secret_key='${env.AWS_SECRET_ACCESS_KEY}', region='${env.SLUICE_S3_REGION ?? 'us-east-1'}')`;
  const parquet = `import duckdb, pyarrow.dataset as ds, pyarrow.fs as fs; ${fs}; weblogs=ds.dataset('${bucket}/demo/${parquetTopic}', filesystem=s3, format='parquet', partitioning='hive'); print(duckdb.sql('select status, count(*) as n, round(avg(latencyMs), 1) as avg_ms, max(__kafka_offset) as last_offset from weblogs group by status order by n desc'))`;
  const orders = `import duckdb, pyarrow.dataset as ds, pyarrow.fs as fs; ${fs}; orders=ds.dataset('${bucket}/demo/${avroTopic}', filesystem=s3, format='parquet', partitioning='hive'); print(duckdb.sql('select customer, count(*) as orders, sum(items) as items, round(sum(amount), 2) as amount, count(coupon) as with_coupon from orders group by customer order by amount desc limit 5'))`;
  for (const [what, code] of [
    [`Parquet (pyarrow + DuckDB) from s3://${bucket}/demo/${parquetTopic}/`, parquet],
    [`Avro orders as Parquet (pyarrow + DuckDB) from s3://${bucket}/demo/${avroTopic}/`, orders],
  ] as const) {
    console.log(`\ndemo: read the ${what}:\n  ${python} -c "${code}"`);
    const out = spawnSync(python, ['-c', code], { encoding: 'utf8', timeout: 60_000 });
    if (out.status === 0) console.log(out.stdout.trimEnd().replace(/^/gm, '    '));
    else
      console.log(`    (it did not run here: ${(out.stderr || String(out.error)).trim().split('\n').pop()})`);
  }
}

async function main(): Promise<void> {
  await waitForMaster();
  await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch(() => {});
  const admin = new Admin(kafka);
  const existing = await admin.listTopics();
  const missing = [topic, parquetTopic, avroTopic].filter((t) => !existing.includes(t));
  if (missing.length > 0) await admin.createTopics({ topics: missing, partitions, replicas: 1 });
  const producer = new Producer({ ...kafka, idempotent: true, serializers: stringSerializers });
  const avroProducer = new Producer({ ...kafka, idempotent: true });
  const order = await orderEncoder();

  await register({
    topic,
    format: 'jsonl',
    compression: 'zstd',
    partitionBy: { kind: 'event-time', field: 'ts', granularity: 'hour' },
  });
  await register({
    topic: parquetTopic,
    format: 'parquet',
    schema: WEBLOG_COLUMNS,
    partitionBy: { kind: 'event-time', field: 'ts', granularity: 'hour' },
  });
  await register({
    topic: avroTopic,
    format: 'parquet',
    schema: { source: 'registry' },
    partitionBy: { kind: 'kafka-time', granularity: 'hour' },
  });

  let produced = 0;
  const until = Date.now() + seconds * 1000;
  const producing = (async () => {
    while (Date.now() < until) {
      const tick = Date.now();
      const n = Math.max(1, Math.round(rate / 5));
      const events = Array.from({ length: n }, (_, k) => event(produced + k));
      const columnar = events.filter((_, k) => (produced + k) % PARQUET_EVERY === 0);
      await producer.send({ messages: [...events, ...columnar.map((e) => ({ ...e, topic: parquetTopic }))] });
      await avroProducer.send({ messages: columnar.map((_, k) => order(produced / PARQUET_EVERY + k)) });
      produced += n;
      await new Promise((r) => setTimeout(r, Math.max(0, 200 - (Date.now() - tick))));
    }
  })();

  console.log(`demo: producing ~${rate} events/s for ${seconds} s`);
  let done = false;
  while (!done) {
    await new Promise((r) => setTimeout(r, 2000));
    const lags: number[] = [];
    let line = '';
    for (const t of [topic, parquetTopic, avroTopic]) {
      const st = await call('GET', `/api/v1/topics/${t}`);
      if (st.status !== 200) {
        console.log(`demo: status of ${t} ${st.status}: ${JSON.stringify(st.body)}`);
        lags.push(-1);
        continue;
      }
      const parts = st.body.partitions as Array<{
        committedOffset: string;
        highWatermark: string;
        lag: number;
      }>;
      const committed = parts.reduce((a, p) => a + Number(p.committedOffset), 0);
      const hw = parts.reduce((a, p) => a + Number(p.highWatermark), 0);
      const lag = parts.reduce((a, p) => a + p.lag, 0);
      // The log topic's high watermark must reach what was produced: Kafka has taken it all.
      lags.push(t === topic && hw < produced ? -1 : lag);
      if (t === topic) {
        const objs = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `demo/${topic}/dt=` }));
        line = `produced ${produced.toLocaleString()}  committed ${committed.toLocaleString()} / ${hw.toLocaleString()}  lag ${lag.toLocaleString()}  objects ${objs.KeyCount ?? 0}${objs.IsTruncated ? '+' : ''}`;
      } else line += `  | ${t} ${committed.toLocaleString()} / ${hw.toLocaleString()}`;
    }
    const producingNow = Date.now() < until;
    console.log(`demo: ${line}${producingNow ? '' : '  (producer stopped)'}`);
    done = !producingNow && lags.every((l) => l === 0);
  }
  await producing;
  await producer.close();
  await avroProducer.close();
  await admin.close();
  const objs = await s3.send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: `demo/${topic}/dt=`, MaxKeys: 5 }),
  );
  console.log('\ndemo: everything produced is in S3.');
  console.log(`  status:    ${api}/api/v1/status`);
  console.log(`  topic:     ${api}/api/v1/topics/${topic}`);
  console.log(`  dashboard: ${api}/dashboard`);
  console.log(`  API docs:  ${api}/docs`);
  console.log(`  objects in s3://${bucket}/demo/${topic}/ (${env.SLUICE_S3_ENDPOINT}), for example:`);
  for (const o of objs.Contents ?? []) console.log(`    ${o.Key}  (${o.Size} bytes)`);
  readers();
}

main().catch((err) => {
  console.error(`demo: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
