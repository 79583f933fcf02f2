/**
 * The demo's producer and progress display (run by scripts/demo.sh with the stack's
 * settings in the environment): creates a topic and a bucket, produces realistic web
 * server log events for a while, registers the topic through the REST API, and shows
 * records committed, lag and objects written until everything produced is in S3.
 * It talks to Kafka with @platformatic/kafka, the client the workers are built on (kafkajs
 * printed Node's TimeoutNegativeWarning into the demo's progress lines).
 */
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Admin, Producer, stringSerializers } from '@platformatic/kafka';

const env = process.env;
const api = env.SLUICE_DEMO_API ?? 'http://127.0.0.1:8080';
const token = env.SLUICE_API_TOKEN ?? '';
const seconds = Number(env.SLUICE_DEMO_SECONDS ?? 30);
const rate = Number(env.SLUICE_DEMO_RATE ?? 3000);
const topic = env.SLUICE_DEMO_TOPIC ?? 'weblogs';
const bucket = env.SLUICE_DEMO_BUCKET ?? 'sluice-demo';
const partitions = 6;

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

async function main(): Promise<void> {
  await waitForMaster();
  await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch(() => {});
  const admin = new Admin(kafka);
  if (!(await admin.listTopics()).includes(topic)) {
    await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
  }
  const producer = new Producer({ ...kafka, idempotent: true, serializers: stringSerializers });

  const reg = await call('POST', '/api/v1/topics', {
    topic,
    destination: { bucket, prefix: 'demo' },
    format: 'jsonl',
    compression: 'zstd',
    partitionBy: { kind: 'event-time', field: 'ts', granularity: 'hour' },
    maxRangeMessages: 20_000,
    flushIntervalMs: 3_000,
  });
  if (reg.status === 201) console.log(`demo: registered topic ${topic} -> s3://${bucket}/demo/${topic}/`);
  else if (reg.status === 409) console.log(`demo: topic ${topic} was already registered`);
  else throw new Error(`registering ${topic} failed: ${reg.status} ${JSON.stringify(reg.body)}`);

  let produced = 0;
  const until = Date.now() + seconds * 1000;
  const producing = (async () => {
    while (Date.now() < until) {
      const tick = Date.now();
      const n = Math.max(1, Math.round(rate / 5));
      await producer.send({ messages: Array.from({ length: n }, (_, k) => event(produced + k)) });
      produced += n;
      await new Promise((r) => setTimeout(r, Math.max(0, 200 - (Date.now() - tick))));
    }
  })();

  console.log(`demo: producing ~${rate} events/s for ${seconds} s`);
  let done = false;
  while (!done) {
    await new Promise((r) => setTimeout(r, 2000));
    const st = await call('GET', `/api/v1/topics/${topic}`);
    if (st.status !== 200) {
      console.log(`demo: status ${st.status}: ${JSON.stringify(st.body)}`);
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
    const objs = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `demo/${topic}/dt=` }));
    const producingNow = Date.now() < until;
    console.log(
      `demo: produced ${produced.toLocaleString()}  committed ${committed.toLocaleString()} / ${hw.toLocaleString()}  lag ${lag.toLocaleString()}  objects ${objs.KeyCount ?? 0}${objs.IsTruncated ? '+' : ''}${producingNow ? '' : '  (producer stopped)'}`,
    );
    done = !producingNow && lag === 0 && hw >= produced;
  }
  await producing;
  await producer.close();
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
}

main().catch((err) => {
  console.error(`demo: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
