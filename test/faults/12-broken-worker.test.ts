/**
 * Issue 15, point 3: one broken worker must not slow everyone. A worker whose S3 credentials
 * are wrong used to stay ready, take every job, fail each at once and so grab every requeued
 * range while a good worker waited, and each failure grew the range's backoff (up to 5 min).
 *
 * Two broken workers start first, each reaching S3 through a proxy of its own so the test sees
 * every request it makes: `bad` has a wrong secret key (the S3 server refuses its signature)
 * and `denied` is answered 403 AccessDenied by its proxy until the test "fixes" it. Data is
 * produced and the topic registered; each takes one job, fails, and must then take no job:
 * only probes reach S3, its /readyz answers 503 with the reason, GET /api/v1/status lists it
 * with `ready: false` and that reason. A good worker then starts and commits everything. The
 * `denied` worker is fixed: its probe passes, it is ready again and takes jobs. Throughout, no
 * range's failure count grows (the leader requeues them as `worker-fault`, without backoff),
 * and every record lands exactly once (end-check.ts). Budget: under 90 s (about 30 s here).
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { apiClient } from '../helpers/api.ts';
import { verifyEnd } from '../helpers/end-check.ts';
import { FaultRun } from '../helpers/fault-run.ts';
import type { TestTopic } from '../helpers/kafka.ts';
import { produceAll } from '../helpers/load.ts';
import { type SluiceProcess, waitFor } from '../helpers/processes.ts';
import { metricValue } from '../helpers/prometheus.ts';
import { makeEvents } from '../helpers/records.ts';
import type { S3Request } from '../helpers/s3-fault-proxy.ts';
import type { ZkView } from '../helpers/zk-view.ts';

const run = new FaultRun({
  name: 'fault-broken-worker',
  // Probes every second, then every 2 s, so that the fixed worker is back soon.
  env: { SLUICE_WORKER_PROBE_MAX_INTERVAL_MS: '2000' },
  bucket: 'fault-broken',
});
const { s3, cluster, bucket } = run;
let zk: ZkView;
let topic: TestTopic;

before(async () => {
  zk = await run.zkView();
  topic = await run.topic('broken-worker', 4);
});

/** A probe's request: HeadBucket (no key) or the write probe's object. */
const isProbe = (r: S3Request) => r.key === '' || r.key.includes('/_sluice/probe/');

interface WorkerStatus {
  id: string;
  ready: boolean;
  notReadyReason: string | null;
}

async function readyz(w: SluiceProcess): Promise<{ status: number; reasons: string[] }> {
  const res = await fetch(`${w.url}/readyz`);
  return { status: res.status, reasons: ((await res.json()) as { reasons?: string[] }).reasons ?? [] };
}

test('a worker failing for a reason of its own takes no job until its probe passes; ranges keep their failure count; the good worker commits everything', async (t) => {
  const master = await cluster.startMaster();
  const api = apiClient(master.url, cluster.token);
  const badProxy = await run.s3Proxy();
  const deniedProxy = await run.s3Proxy();
  let fixed = false;
  deniedProxy.rule = () => (fixed ? { kind: 'pass' } : { kind: 'error', status: 403, code: 'AccessDenied' });
  const [bad, denied] = await Promise.all([
    cluster.startWorker({
      SLUICE_S3_ENDPOINT: badProxy.endpoint,
      AWS_SECRET_ACCESS_KEY: 'not-the-secret-key-of-this-s3-server',
      SLUICE_WORKER_CONCURRENCY: '1',
    }),
    cluster.startWorker({ SLUICE_S3_ENDPOINT: deniedProxy.endpoint, SLUICE_WORKER_CONCURRENCY: '1' }),
  ]);
  const badId = `${cluster.name}-${bad.name}`;
  const deniedId = `${cluster.name}-${denied.name}`;
  await waitFor('two workers registered', async () => (await zk.workers()).length === 2);

  const produced = makeEvents(8_000, { startMs: Date.now() - 3600_000, spanMs: 3600_000, partitions: 4 });
  await produceAll(topic.producer, topic.name, produced.slice(0, 6_000));
  const res = await api.post('/api/v1/topics', {
    topic: topic.name,
    destination: { bucket, prefix: 'broken' },
    partitionBy: { kind: 'kafka-time', granularity: 'hour' },
    maxRangeMessages: 250,
    flushIntervalMs: 500,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));

  // Every range node seen while the test runs: their failure counts, the reasons of requeues.
  let maxFailures = 0;
  const requeueReasons = new Set<string>();
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      for (const r of await zk.ranges(topic.name).catch(() => [])) {
        maxFailures = Math.max(maxFailures, r.record.failures);
        if (r.record.requeueReason) requeueReasons.add(r.record.requeueReason);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  t.after(async () => {
    watching = false;
    await watcher;
  });

  const workersOf = async () =>
    ((await api.get('/api/v1/status')).body as { workers: WorkerStatus[] }).workers;
  const notReady = await waitFor(
    'both broken workers listed as not ready',
    async () => {
      const ws = await workersOf();
      const b = ws.find((w) => w.id === badId);
      const d = ws.find((w) => w.id === deniedId);
      return b?.ready === false && d?.ready === false ? { b, d } : false;
    },
    30_000,
    100,
  );
  assert.match(notReady.b.notReadyReason ?? '', /SLUICE_ERR_UNAUTHORIZED.*S3 refused the credentials/);
  assert.match(notReady.d.notReadyReason ?? '', /SLUICE_ERR_FORBIDDEN.*access denied/);
  const badReady = await readyz(bad);
  assert.equal(badReady.status, 503);
  assert.ok(
    badReady.reasons.some((r) => /taking no jobs until a probe passes: .*S3 refused the credentials/.test(r)),
    JSON.stringify(badReady.reasons),
  );
  assert.equal((await readyz(denied)).status, 503);

  // The good worker starts only now: it must commit what was produced while the broken ones ran.
  const goodStartedAt = Date.now();
  await cluster.startWorker({ SLUICE_WORKER_CONCURRENCY: '2' });
  await waitFor(
    'the good worker to commit ranges',
    async () =>
      (await zk.partitionState(topic.name, 0).then((p) => p && BigInt(p.committedOffset) > 0n)) ?? false,
    30_000,
    100,
  );

  // Fix the denied worker: its next probe passes, it is ready again and takes jobs.
  fixed = true;
  const fixedAt = Date.now();
  await waitFor(
    'the fixed worker ready again',
    async () => (await readyz(denied)).status === 200,
    20_000,
    100,
  );
  const back = (await workersOf()).find((w) => w.id === deniedId);
  assert.deepEqual({ ready: back?.ready, reason: back?.notReadyReason }, { ready: true, reason: null });
  await produceAll(topic.producer, topic.name, produced.slice(6_000));

  const end = await verifyEnd({
    timeoutMs: 60_000,
    api,
    s3,
    admin: topic.admin,
    bucket,
    prefix: 'broken',
    topic: topic.name,
    produced,
  });

  // The wrong-key worker: one job's requests, then nothing but probes, and still not ready.
  const firstBad = badProxy.seen[0];
  assert.ok(firstBad, 'the worker with the wrong key took a job');
  const afterFirst = badProxy.seen.filter((r) => r.at > firstBad.at + 1_000);
  assert.deepEqual(
    afterFirst.filter((r) => !isProbe(r)).map((r) => `${r.method} ${r.key}`),
    [],
    'no job after its first failure',
  );
  assert.ok(afterFirst.length >= 2, `it kept probing (${afterFirst.length} probe requests)`);
  assert.equal((await readyz(bad)).status, 503);
  assert.equal((await workersOf()).find((w) => w.id === badId)?.ready, false);

  // The denied worker: only probes while denied, jobs again once fixed.
  const firstDenied = deniedProxy.seen[0]!;
  const whileDenied = deniedProxy.seen.filter((r) => r.at > firstDenied.at + 1_000 && r.at < fixedAt);
  assert.deepEqual(
    whileDenied.filter((r) => !isProbe(r)).map((r) => `${r.method} ${r.key}`),
    [],
  );
  const worked = deniedProxy.count((r) => !isProbe(r) && r.action === 'pass', fixedAt);
  assert.ok(worked > 0, 'the fixed worker took jobs again');

  // No range's failure count grew from the broken workers; their ranges were requeued as theirs.
  watching = false;
  await watcher;
  assert.equal(maxFailures, 0, 'a range counted a failure');
  assert.ok(requeueReasons.has('worker-fault'), `requeue reasons seen: ${[...requeueReasons].join(', ')}`);
  const metrics = String((await api.get('/metrics')).body);
  const requeues = (reason: string) =>
    metricValue(metrics, 'sluice_requeues_total', { topic: topic.name, reason });
  assert.ok(requeues('worker-fault') >= 2, `worker-fault requeues: ${requeues('worker-fault')}`);
  assert.equal(requeues('failed'), 0, 'no range requeued after a backoff');

  t.diagnostic(
    `wrong key: ${afterFirst.length} probe requests after its first failure; denied: ${worked} job requests after the fix; ` +
      `${end.commitRecords} ranges, ${produced.length} records exactly once, all committed ${Date.now() - goodStartedAt} ms after the good worker started`,
  );
});
