/**
 * S3 trouble between the workers and the S3 server, injected by a proxy (their
 * SLUICE_S3_ENDPOINT points at it) while a steady load runs:
 *
 *  1. half the requests answer 500 InternalError, then every request answers 503 SlowDown
 *     (long enough for ranges to fail and show in the status), then half the connections are
 *     reset, then every answer is 2 s late. Uploads are retried with backoff and jitter (SDK,
 *     then BullMQ, then the leader), the status shows the failures while they last, and
 *     progress resumes by itself once S3 is well.
 *  2. Multipart uploads (a topic whose ranges are ~12 MiB): while every UploadPart fails, the
 *     aborted uploads leave no visible object and no open upload; a worker SIGKILLed between
 *     two parts leaves an open upload, which the leader aborts once it is older than
 *     SLUICE_ABANDONED_UPLOAD_AGE_MS (10 s here).
 *
 * In 1, a Parquet topic (inline schema, zstd) runs beside the jsonl one under its own steady
 * load and the same faults. Every record of every topic lands exactly once (the Parquet topic
 * as pyarrow reads it).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadStackEnv } from '@sluice/test-kit';
import { apiClient } from '../helpers/api.ts';
import { openUploads, verifyEnd } from '../helpers/end-check.ts';
import { createTopic, kafkaClient, type TestTopic } from '../helpers/kafka.ts';
import { produceAll, steadyLoad } from '../helpers/load.ts';
import { parquetEvents, registerBeside } from '../helpers/parquet-events.ts';
import { type SluiceProcess, TestCluster, uniqueName, waitFor } from '../helpers/processes.ts';
import { metricValue } from '../helpers/prometheus.ts';
import { makeEvents, type ProducedRecord } from '../helpers/records.ts';
import { createBucket, listAll, s3Client } from '../helpers/s3.ts';
import { type FaultRule, PASS, S3FaultProxy } from '../helpers/s3-fault-proxy.ts';

const kafka = kafkaClient();
const s3 = s3Client();
const UPLOAD_AGE_MS = 10_000;
const cluster = new TestCluster({
  name: 'fault-s3',
  env: { SLUICE_ABANDONED_UPLOAD_AGE_MS: String(UPLOAD_AGE_MS), SLUICE_ZK_SESSION_TIMEOUT_MS: '4000' },
});
const bucket = uniqueName('fault-s3').toLowerCase();
let proxy: S3FaultProxy;
let dropBucket: () => Promise<void>;
const topics: TestTopic[] = [];
const workerEnv = () => ({
  SLUICE_S3_ENDPOINT: proxy.endpoint,
  SLUICE_S3_MAX_ATTEMPTS: '3',
  SLUICE_WORKER_PART_SIZE_BYTES: String(5 * 1024 * 1024),
});

before(async () => {
  dropBucket = (await createBucket(s3, bucket)).delete;
  proxy = await S3FaultProxy.start(loadStackEnv().SLUICE_S3_ENDPOINT);
});

after(async () => {
  await cluster.stopAll();
  await proxy?.close();
  for (const t of topics) await t.delete();
  await dropBucket?.();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every `n`th request gets `action`, the others pass (after `delayMs`). */
function everyNth(n: number, fault: ReturnType<FaultRule>): FaultRule {
  let i = 0;
  return () => (++i % n === 0 ? fault : { kind: 'pass' });
}

test('500s, 503s, resets and slow answers: retried with backoff, shown in the status, progress resumes by itself', async (t) => {
  const [topic, parquet] = await Promise.all([
    createTopic(kafka, uniqueName('s3-errors'), 4),
    createTopic(kafka, uniqueName('s3-errors-pq'), 2),
  ]);
  topics.push(topic, parquet);
  const master = await cluster.startMaster();
  await Promise.all([cluster.startWorker(workerEnv()), cluster.startWorker(workerEnv())]);
  const api = apiClient(master.url, cluster.token);

  const produced = makeEvents(24_000, { startMs: Date.now() - 3600_000, spanMs: 3600_000, partitions: 4 });
  const producedPq = parquetEvents(3_000, 2, 89);
  await produceAll(topic.producer, topic.name, produced.slice(0, 2_000));
  await produceAll(parquet.producer, parquet.name, producedPq.slice(0, 500));
  proxy.rule = () => ({ kind: 'pass', delayMs: 50 });
  const common = {
    destination: { bucket, prefix: 'errors' },
    partitionBy: { kind: 'kafka-time', granularity: 'hour' },
    maxRangeMessages: 250,
    flushIntervalMs: 500,
  };
  // The Parquet topic's ranges are cut by size rather than by the flush interval: few jobs more
  // for two workers to catch up on once S3 is well.
  await registerBeside(api, common, topic.name, parquet.name, { flushIntervalMs: 2_000 });
  const load = steadyLoad(topic.producer, topic.name, produced.slice(2_000), 700);
  const loadPq = steadyLoad(parquet.producer, parquet.name, producedPq.slice(500), 100);
  const committed = async () => {
    const body = (await api.get(`/api/v1/topics/${topic.name}`)).body as {
      partitions: Array<{ committedOffset: string }>;
    };
    return body.partitions.reduce((n, p) => n + Number(p.committedOffset), 0);
  };
  await waitFor('first ranges committed', async () => (await committed()) > 0);

  // 1. Half the requests fail with 500.
  let phaseAt = Date.now();
  let before = await committed();
  proxy.rule = everyNth(2, { kind: 'error', status: 500, code: 'InternalError' });
  await sleep(5_000);
  t.diagnostic(
    `500 on every 2nd request for 5 s: ${proxy.count((r) => r.action === 'error', phaseAt)} errors injected, ` +
      `${(await committed()) - before} offsets committed meanwhile`,
  );

  // 2. Every request fails with 503 SlowDown: ranges fail, and the status says so.
  phaseAt = Date.now();
  proxy.rule = () => ({ kind: 'error', status: 503, code: 'SlowDown' });
  const shown = await waitFor(
    'the status to show failed ranges',
    async () => {
      const status = (await api.get('/api/v1/status')).body as {
        recentFailures: Array<{ topic: string; id: string; error: string | null }>;
      };
      const mine = status.recentFailures.filter((f) => f.topic === topic.name);
      return mine.length > 0 ? mine : false;
    },
    30_000,
    250,
  );
  const shownAfter = Date.now() - phaseAt;
  assert.match(shown[0]!.error ?? '', /SLUICE_ERR_S3.*(SlowDown|503)/, 'the failure names the S3 error');
  const view = (await api.get(`/api/v1/topics/${topic.name}`)).body as {
    partitions: Array<{ ranges: Array<{ state: string; error: string | null }> }>;
  };
  assert.ok(
    view.partitions.some((p) => p.ranges.some((r) => r.state === 'failed' && r.error)),
    'the topic view shows the range error',
  );
  await sleep(Math.max(0, 12_000 - shownAfter));
  // Retries of one object with growing, jittered pauses (SDK backoff, then BullMQ's, then the leader's).
  const puts = proxy.seen.filter((r) => r.at >= phaseAt && r.op === 'GetObject');
  const byKey = new Map<string, number[]>();
  for (const r of puts) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r.at]);
  const [retriedKey, times] = [...byKey].sort((a, b) => b[1].length - a[1].length)[0]!;
  const gaps = times.slice(1).map((at, i) => at - times[i]!);
  t.diagnostic(
    `503 on every request: ${proxy.count((r) => r.action === 'error', phaseAt)} errors; status showed ${shown.length} failed range(s) after ${shownAfter} ms ` +
      `("${shown[0]!.error?.slice(0, 120)}…"); one key asked ${times.length} times, pauses ${gaps.join(', ')} ms`,
  );
  assert.ok(times.length >= 3, `${retriedKey} was retried`);
  assert.ok(
    new Set(gaps.map((g) => Math.round(g / 50))).size > 1,
    'pauses between retries differ (backoff with jitter)',
  );

  // 3. Half the connections reset before the request reaches S3.
  phaseAt = Date.now();
  before = await committed();
  proxy.rule = everyNth(2, { kind: 'reset' });
  await sleep(5_000);
  t.diagnostic(
    `reset on every 2nd connection for 5 s: ${proxy.count((r) => r.action === 'reset', phaseAt)} resets, ${(await committed()) - before} offsets committed meanwhile`,
  );

  // 4. Every answer 2 s late.
  phaseAt = Date.now();
  before = await committed();
  proxy.rule = () => ({ kind: 'pass', delayMs: 2_000 });
  await sleep(6_000);
  t.diagnostic(`answers 2 s late for 6 s: ${(await committed()) - before} offsets committed meanwhile`);

  // Well again: progress resumes by itself and the failures clear.
  proxy.rule = PASS;
  const healedAt = Date.now();
  await Promise.all([load.done, loadPq.done]);
  await waitFor(
    'the failures to clear',
    async () => {
      const status = (await api.get('/api/v1/status')).body as { recentFailures: Array<{ topic: string }> };
      return !status.recentFailures.some((f) => f.topic === topic.name || f.topic === parquet.name);
    },
    60_000,
  );
  const end = await verifyEnd({
    api,
    s3,
    admin: topic.admin,
    bucket,
    prefix: 'errors',
    topic: topic.name,
    produced,
  });
  const endPq = await verifyEnd({
    api,
    s3,
    admin: parquet.admin,
    bucket,
    prefix: 'errors',
    topic: parquet.name,
    produced: producedPq,
    format: 'parquet',
  });
  t.diagnostic(
    `all committed ${Date.now() - healedAt} ms after S3 was well again; ${end.commitRecords} ranges exactly once; ` +
      `Parquet: ${endPq.commitRecords} ranges, ${producedPq.length} records exactly once as pyarrow reads them`,
  );
  const metrics = String((await api.get('/metrics')).body);
  assert.ok(
    metricValue(metrics, 'sluice_requeues_total', { topic: topic.name, reason: 'failed' }) >= 1,
    'failed ranges were requeued by the leader',
  );
  assert.ok(
    metricValue(metrics, 'sluice_requeues_total', { topic: parquet.name, reason: 'failed' }) >= 1,
    'failed Parquet ranges were requeued by the leader',
  );
  assert.deepEqual(await openUploads(s3, bucket, 'errors/'), []);
});

test('multipart: an aborted upload leaves nothing visible; a killed worker’s open upload is aborted by the leader', async (t) => {
  const topic = await createTopic(kafka, uniqueName('s3-multipart'), 1);
  topics.push(topic);
  await cluster.stopAll();
  const master = await cluster.startMaster();
  const api = apiClient(master.url, cluster.token);
  // Ranges of ~12 MiB (3000 records of 4 KiB): three parts of 5 MiB each.
  const produced: ProducedRecord[] = Array.from({ length: 6_000 }, (_, i) => ({
    key: `big-${String(i).padStart(5, '0')}`,
    value: JSON.stringify({ i, pad: `${i}`.padEnd(4_096, 'x') }),
    headers: [],
    eventMs: null,
    partition: 0,
  }));
  await produceAll(topic.producer, topic.name, produced, 150);
  const root = `multipart/${topic.name}/`;
  const dataObjects = async () =>
    (await listAll(s3, bucket, root)).filter((o) => !o.key.includes('/_sluice/'));

  // 1. Every UploadPart fails: each upload is aborted, nothing becomes visible.
  const aborted = new Set<string>();
  proxy.rule = (r) => {
    if (r.op === 'AbortMultipartUpload') aborted.add(r.query.get('uploadId')!);
    return r.op === 'UploadPart' ? { kind: 'error', status: 500, code: 'InternalError' } : { kind: 'pass' };
  };
  let worker: SluiceProcess = await cluster.startWorker(workerEnv());
  const res = await api.post('/api/v1/topics', {
    topic: topic.name,
    destination: { bucket, prefix: 'multipart' },
    format: 'jsonl',
    compression: 'none',
    partitionBy: { kind: 'none' },
    maxRangeMessages: 3_000,
    flushIntervalMs: 500,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  await waitFor('uploads to be aborted', async () => aborted.size >= 2, 60_000, 200);
  assert.deepEqual(await dataObjects(), [], 'an aborted multipart upload leaves no visible object');
  const open = await openUploads(s3, bucket, root);
  assert.ok(!open.some((u) => aborted.has(u.uploadId)), 'an aborted upload is not listed as open');
  t.diagnostic(
    `every UploadPart failing: ${aborted.size} uploads aborted by the worker, no object visible, none left open`,
  );

  // 2. The worker dies between two parts: the first part is stored, the upload stays open.
  let killedAt = 0;
  proxy.rule = (r) => {
    if (r.op === 'UploadPart' && killedAt === 0 && r.query.get('partNumber') === '2') {
      killedAt = Date.now();
      return {
        kind: 'pass',
        beforeRespond: async () => {
          worker.child.kill('SIGKILL');
          await worker.exited;
        },
      };
    }
    return { kind: 'pass' };
  };
  await waitFor(
    'the worker to be killed between parts',
    async () => killedAt > 0 && worker.child.signalCode === 'SIGKILL',
    60_000,
    100,
  );
  const left = await waitFor('an open upload left behind', async () => {
    const u = await openUploads(s3, bucket, root);
    return u.length > 0 ? u : false;
  });
  proxy.rule = PASS;
  worker = await cluster.startWorker(workerEnv());
  const cleaned = await waitFor(
    'the leader to abort the abandoned upload',
    async () => ((await openUploads(s3, bucket, root)).length === 0 ? Date.now() : false),
    60_000,
    250,
  );
  t.diagnostic(
    `worker SIGKILLed between parts: ${left.length} open upload(s) left (${left.map((u) => u.key.slice(root.length)).join(', ')}); ` +
      `aborted by the leader ${cleaned - killedAt} ms after the kill (SLUICE_ABANDONED_UPLOAD_AGE_MS ${UPLOAD_AGE_MS})`,
  );
  await verifyEnd({ api, s3, admin: topic.admin, bucket, prefix: 'multipart', topic: topic.name, produced });
  assert.deepEqual(await openUploads(s3, bucket, root), []);
});
