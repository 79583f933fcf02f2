/**
 * Invariants 3, 6 and 7 for the columnar formats: a Parquet topic (inline schema) and an Avro
 * topic (writer schemas from the stack's Schema Registry) under worker deaths. Four workers are
 * SIGKILLed, each at a point the test sees through its S3 fault proxy, not at a time:
 *
 *  - while it uploads a data object of a Parquet range, and of an Avro range (the range's keys
 *    are recorded, its bytes half gone): another worker runs the range again;
 *  - just after S3 stored the commit record of a Parquet range, and of an Avro range, before
 *    the worker could mark the range done: the retry finds the commit record and, with
 *    SLUICE_VERIFY_ON_RETRY, re-reads the range and compares what it would write with it.
 *
 * Then every offset is in exactly one object, as pyarrow and fastavro read them; the commit
 * records' SHA-256 are the stored bytes'; and the retries that re-read committed ranges found
 * the same bytes (a retry writes what the first attempt wrote).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { apiClient } from '../helpers/api.ts';
import { waitCommitted } from '../helpers/end-check.ts';
import { FaultRun } from '../helpers/fault-run.ts';
import { highWatermarks, type TestTopic } from '../helpers/kafka.ts';
import { type SluiceProcess, waitFor } from '../helpers/processes.ts';
import { runPython } from '../helpers/python-readers.ts';
import { getBytes, listAll } from '../helpers/s3.ts';
import type { S3Request } from '../helpers/s3-fault-proxy.ts';
import { registerAvroSchema, registryUrl, wireEncoder } from '../helpers/schema-registry.ts';
import type { ZkView } from '../helpers/zk-view.ts';

const RECORDS = 2_000;
const RANGE = 250;
const run = new FaultRun({
  name: 'fault-columnar',
  env: { SLUICE_STALL_TIMEOUT_MS: '60000', SLUICE_VERIFY_ON_RETRY: 'true' },
  bucket: 'fault-columnar',
});
const { s3, cluster, bucket } = run;
let zk: ZkView;
let parquet: TestTopic;
let avroTopic: TestTopic;

const ORDER = {
  type: 'record',
  name: 'Order',
  namespace: 'sluice.faults',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'name', type: 'string' },
  ],
};

before(async () => {
  zk = await run.zkView();
  [parquet, avroTopic] = await Promise.all([run.topic('columnar-parquet', 2), run.topic('columnar-avro', 2)]);
});

/** A worker's upload of a data object of format `ext` (not a commit or rejected record). */
const dataWrite = (r: S3Request, ext: string) =>
  (r.op === 'PutObject' || r.op === 'CreateMultipartUpload' || r.op === 'UploadPart') &&
  r.key.endsWith(ext) &&
  !r.key.includes('/_sluice/');
const commitWrite = (r: S3Request, topic: string) =>
  r.op === 'PutObject' && r.key.includes(`/${topic}/_sluice/commits/`);

/** (format, partition, offset, id) of every row of the local copies, read by pyarrow and fastavro. */
const READ = `
import json, sys, fastavro, pyarrow.parquet as pq
out = []
for path in sys.argv[1:]:
    if path.endswith('.parquet'):
        rows = pq.read_table(path).to_pylist()
    else:
        with open(path, 'rb') as f:
            rows = list(fastavro.reader(f))
    out += [[path.rsplit('.', 1)[1], r['__kafka_partition'], r['__kafka_offset'], r['id']] for r in rows]
print(json.dumps(out))
`;

test('workers SIGKILLed while writing Parquet and Avro, and after their commit records: every offset once, retries write the same bytes', async (t) => {
  const master = await cluster.startMaster();
  const api = apiClient(master.url, cluster.token);
  const workers = new Map<string, SluiceProcess>();
  // Where each worker dies: the first request of any worker that matches, once each.
  const triggers = [
    {
      name: 'uploading a Parquet data object',
      match: (r: S3Request) => dataWrite(r, '.parquet'),
      after: false,
    },
    { name: 'uploading an Avro data object', match: (r: S3Request) => dataWrite(r, '.avro'), after: false },
    {
      name: 'after the commit record of a Parquet range',
      match: (r: S3Request) => commitWrite(r, parquet.name),
      after: true,
    },
    {
      name: 'after the commit record of an Avro range',
      match: (r: S3Request) => commitWrite(r, avroTopic.name),
      after: true,
    },
  ];
  const kills: string[] = [];
  const killed = new Set<string>();
  const addWorker = async (): Promise<void> => {
    const proxy = await run.s3Proxy();
    const w = await cluster.startWorker({
      SLUICE_S3_ENDPOINT: proxy.endpoint,
      SLUICE_WORKER_CONCURRENCY: '2',
    });
    workers.set(w.name, w);
    proxy.rule = (r) => {
      if (killed.has(w.name)) return { kind: 'reset' };
      const i = triggers.findIndex((x) => x.match(r));
      if (i < 0) return { kind: 'pass' };
      const [trigger] = triggers.splice(i, 1);
      killed.add(w.name);
      kills.push(`${w.name} ${trigger!.name} (${r.key.split('/').slice(-1)[0]})`);
      const kill = () => {
        w.child.kill('SIGKILL');
        // One worker comes for each one killed, so that ranges always have somewhere to run.
        void addWorker();
      };
      if (!trigger!.after) {
        kill();
        return { kind: 'reset' };
      }
      // S3 has stored the commit record; the worker dies before it hears so.
      return { kind: 'pass', beforeRespond: async () => kill() };
    };
  };
  await Promise.all([addWorker(), addWorker()]);
  await waitFor('two workers registered', async () => (await zk.workers()).length === 2);

  const url = registryUrl();
  const enc = wireEncoder(await registerAvroSchema(url, `${avroTopic.name}-value`, ORDER), ORDER);
  const ids = Array.from({ length: RECORDS }, (_, n) => n);
  await parquet.producer.send({
    topic: parquet.name,
    messages: ids.map((id) => ({ key: `k${id % 7}`, value: JSON.stringify({ id, name: `p${id}` }) })),
  });
  await avroTopic.producer.send({
    topic: avroTopic.name,
    messages: ids.map((id) => ({ key: `k${id % 7}`, value: enc({ id, name: `a${id}` }) })),
  });
  const common = {
    destination: { bucket, prefix: 'col' },
    partitionBy: { kind: 'kafka-time', granularity: 'hour' },
    maxRangeMessages: RANGE,
    flushIntervalMs: 500,
  };
  for (const body of [
    {
      topic: parquet.name,
      format: 'parquet',
      schema: {
        source: 'inline',
        fields: [
          { name: 'id', type: 'int64' },
          { name: 'name', type: 'string' },
        ],
      },
    },
    { topic: avroTopic.name, format: 'avro', schema: { source: 'registry' } },
  ]) {
    const res = await api.post('/api/v1/topics', { ...common, ...body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }

  for (const topic of [parquet, avroTopic]) {
    await waitCommitted(api, topic.name, await highWatermarks(topic.admin, topic.name));
  }
  t.diagnostic(`killed: ${kills.join('; ')}`);
  assert.equal(triggers.length, 0, `every kill happened (left: ${triggers.map((x) => x.name).join(', ')})`);

  // Every offset of each partition in exactly one object, with the value produced at it.
  const objects = (await listAll(s3, bucket, 'col/')).filter((o) => /\.(parquet|avro)$/.test(o.key));
  const dir = mkdtempSync(join(tmpdir(), 'sluice-columnar-'));
  const sha = new Map<string, string>();
  let rows: Array<[string, number, number, number]>;
  try {
    const files = await Promise.all(
      objects.map(async (o, i) => {
        const bytes = await getBytes(s3, bucket, o.key);
        sha.set(o.key, createHash('sha256').update(bytes).digest('hex'));
        const file = join(dir, `${i}.${o.key.endsWith('.avro') ? 'avro' : 'parquet'}`);
        writeFileSync(file, bytes);
        return file;
      }),
    );
    rows = runPython(READ, files);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const format of ['parquet', 'avro']) {
    const mine = rows.filter((r) => r[0] === format);
    const offsets = mine.map((r) => `${r[1]}:${r[2]}`);
    assert.equal(new Set(offsets).size, offsets.length, `${format}: no offset twice`);
    assert.equal(offsets.length, RECORDS, `${format}: every record`);
    assert.deepEqual(
      mine.map((r) => r[3]).sort((a, b) => a - b),
      ids,
      `${format}: every value once`,
    );
  }

  // The commit records are the truth: they list exactly the stored objects, with their bytes' hashes.
  const listed = new Map<string, string>();
  for (const c of (await listAll(s3, bucket, 'col/')).filter((o) => o.key.includes('/_sluice/commits/'))) {
    const record = JSON.parse((await getBytes(s3, bucket, c.key)).toString('utf8')) as {
      objects: Array<{ key: string; sha256: string }>;
    };
    for (const o of record.objects) listed.set(o.key, o.sha256);
  }
  assert.deepEqual(new Map([...listed].sort()), new Map([...sha].sort()));

  // The retries that found a commit record re-read their range: the same bytes, for both formats.
  const logs = () => [...workers.values()].map((w) => readFileSync(w.logFile, 'utf8')).join('\n');
  const verified = await waitFor(
    'the retries of a committed Parquet range and a committed Avro range to verify them',
    async () => {
      const topics = new Set(
        logs()
          .split('\n')
          .filter((l) => l.includes('"verified committed range"'))
          .map((l) => (JSON.parse(l) as { topic: string }).topic),
      );
      return topics.has(parquet.name) && topics.has(avroTopic.name) ? topics.size : false;
    },
    60_000,
    250,
  );
  assert.doesNotMatch(logs(), /verify found a difference|verify failed/);
  t.diagnostic(`committed ranges of ${verified} topics re-read by a retry, each the same bytes`);
});
