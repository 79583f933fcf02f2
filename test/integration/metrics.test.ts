/**
 * Prometheus metrics and probes of a real master and worker while data flows: the names an
 * operator alerts on are there (deploy/prometheus/sluice-rules.yaml reads them), and their
 * values move (committed offsets, records written, upload and fetch latencies); with reads
 * protected, Prometheus scrapes with the metrics token the way the Kubernetes base does.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SLUICE_VERSION } from '@sluice/shared';
import { apiClient } from '../helpers/api.ts';
import { createTopic, kafkaClient, type TestTopic } from '../helpers/kafka.ts';
import { type SluiceProcess, TestCluster, uniqueName, waitFor } from '../helpers/processes.ts';
import { metricNames, metricValue, scrape } from '../helpers/prometheus.ts';
import { createBucket, s3Client } from '../helpers/s3.ts';
import { startTraffic, type Traffic } from '../helpers/traffic.ts';

const MASTER_METRICS = [
  'sluice_is_leader',
  'sluice_partition_committed_offset',
  'sluice_partition_high_watermark',
  'sluice_partition_lag_records',
  'sluice_partition_lag_seconds',
  'sluice_ranges',
  'sluice_ranges_planned_total',
  'sluice_requeues_total',
  'sluice_gaps_offsets_total',
  'sluice_committed_records_total',
  'sluice_committed_bytes_total',
  'sluice_master_errors_total',
  'sluice_leader_pass_duration_seconds',
  'sluice_leader_pass_interval_seconds',
  'sluice_live_workers',
  'sluice_topic_flush_interval_seconds',
  'sluice_build_info',
];
const WORKER_METRICS = [
  'sluice_worker_ranges_total',
  'sluice_worker_records_total',
  'sluice_worker_bytes_total',
  'sluice_worker_upload_seconds',
  'sluice_worker_fetch_seconds',
  'sluice_worker_gaps_total',
  'sluice_worker_errors_total',
  'sluice_worker_active_ranges',
  'sluice_build_info',
];

const cluster = new TestCluster({ name: 'metrics' });
const kafka = kafkaClient();
const s3 = s3Client();
const bucket = uniqueName('it-metrics').toLowerCase();
let dropBucket: () => Promise<void>;
let master: SluiceProcess;
let standby: SluiceProcess;
let worker: SluiceProcess;
let topic: TestTopic;
let traffic: Traffic;

before(async () => {
  dropBucket = (await createBucket(s3, bucket)).delete;
  master = await cluster.startMaster();
  worker = await cluster.startWorker();
  standby = await cluster.startMaster();
  topic = await createTopic(kafka, uniqueName('metered'), 2);
  const res = await apiClient(master.url, cluster.token).post('/api/v1/topics', {
    topic: topic.name,
    destination: { bucket },
    maxRangeMessages: 1_000,
    flushIntervalMs: 500,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  traffic = startTraffic(topic.producer, topic.name, { partitions: 2, batch: 200, everyMs: 200 });
});

after(async () => {
  await traffic?.stop();
  await cluster.stopAll();
  await topic?.delete();
  await dropBucket?.();
});

test('health and readiness answer on the master and the worker', async () => {
  for (const p of [master, worker]) {
    const health = await fetch(`${p.url}/healthz`);
    assert.equal(health.status, 200, `${p.name} /healthz`);
    await waitFor(
      `${p.name} /readyz 200`,
      async () => (await fetch(`${p.url}/readyz`)).status === 200,
      30_000,
      300,
    );
  }
});

test('the master exposes lag, committed offsets, ranges, requeues, gaps and errors, and its numbers move', async () => {
  const labels = { topic: topic.name, partition: '0' };
  const first = await waitFor(
    'a committed offset above 0 for partition 0',
    async () => {
      const text = await scrape(master.url);
      return metricValue(text, 'sluice_partition_committed_offset', labels) > 0 ? text : false;
    },
    90_000,
    1_000,
  );
  const names = metricNames(first);
  for (const n of MASTER_METRICS) assert.ok(names.has(n), `master exposes ${n}`);
  assert.equal(metricValue(first, 'sluice_is_leader'), 1);

  const later = await waitFor(
    'the committed offset gauge to grow',
    async () => {
      const text = await scrape(master.url);
      return metricValue(text, 'sluice_partition_committed_offset', labels) >
        metricValue(first, 'sluice_partition_committed_offset', labels)
        ? text
        : false;
    },
    60_000,
    1_000,
  );
  assert.ok(
    metricValue(later, 'sluice_committed_records_total', { topic: topic.name }) >
      metricValue(first, 'sluice_committed_records_total', { topic: topic.name }),
    'committed records grow',
  );
  assert.ok(
    metricValue(later, 'sluice_partition_high_watermark', labels) >=
      metricValue(later, 'sluice_partition_committed_offset', labels),
  );
  assert.ok(metricValue(later, 'sluice_ranges_planned_total', { topic: topic.name }) > 0);
  // The time lag is refreshed by the leader's status view (at least every 15 s).
  const withLag = await waitFor(
    'a time lag gauge for the topic',
    async () => {
      const text = await scrape(master.url);
      return /^sluice_partition_lag_seconds\{[^}]*topic="/m.test(text) &&
        text.includes(`topic="${topic.name}"`)
        ? text
        : false;
    },
    40_000,
    1_000,
  );
  const lagSeconds = metricValue(withLag, 'sluice_partition_lag_seconds', labels);
  assert.ok(lagSeconds >= 0 && lagSeconds < 120, `lag seconds ${lagSeconds}`);
});

test('the leader reports what the alerting rules compare: ranges and flush interval per topic, pass times, live workers, its release', async () => {
  const text = await waitFor(
    'a sweep that saw the worker and a timed pass',
    async () => {
      const t = await scrape(master.url);
      return metricValue(t, 'sluice_live_workers') === 1 &&
        metricValue(t, 'sluice_leader_pass_duration_seconds_count') > 1 &&
        t.includes(`sluice_ranges{topic="${topic.name}"`)
        ? t
        : false;
    },
    30_000,
    500,
  );
  // SLUICE_PLAN_INTERVAL_MS of the test cluster: 250; the topic's flushIntervalMs: 500.
  assert.equal(metricValue(text, 'sluice_leader_pass_interval_seconds'), 0.25);
  assert.equal(metricValue(text, 'sluice_topic_flush_interval_seconds', { topic: topic.name }), 0.5);
  // Every state of the topic has a series (0 when none), so an alert sees a topic recover.
  for (const state of ['planned', 'active', 'done', 'failed'])
    assert.match(
      text,
      new RegExp(`^sluice_ranges\\{topic="${topic.name}",state="${state}"\\} \\d+$`, 'm'),
      text
        .split('\n')
        .filter((l) => l.startsWith('sluice_ranges{'))
        .join('\n'),
    );
  assert.equal(metricValue(text, 'sluice_build_info', { version: SLUICE_VERSION, node: process.version }), 1);
  // The standby has the release too, and no leader numbers for a rule to pick up.
  const standbyText = await scrape(standby.url);
  assert.equal(metricValue(standbyText, 'sluice_build_info', { version: SLUICE_VERSION }), 1);
  assert.doesNotMatch(standbyText, /^sluice_ranges\{/m);
});

test('with SLUICE_PROTECT_READS, /metrics answers the metrics token from a file and nothing else', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-metrics-token-'));
  const scrapeToken = 'scrape-' + cluster.token.slice(0, 40);
  writeFileSync(join(dir, 'SLUICE_METRICS_TOKEN'), `${scrapeToken}\n`, { mode: 0o600 });
  const guarded = await cluster.startMaster({
    SLUICE_PROTECT_READS: 'true',
    SLUICE_METRICS_TOKEN_FILE: join(dir, 'SLUICE_METRICS_TOKEN'),
  });
  const get = (path: string, token?: string) =>
    fetch(`${guarded.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  assert.equal((await get('/metrics')).status, 401, 'no token: refused');
  const scraped = await get('/metrics', scrapeToken);
  assert.equal(scraped.status, 200);
  assert.equal(metricValue(await scraped.text(), 'sluice_is_leader'), 0);
  assert.equal(
    (await get('/api/v1/status', scrapeToken)).status,
    401,
    'the metrics token opens nothing else',
  );
  assert.equal((await get('/api/v1/status', cluster.token)).status, 200);
  await guarded.stop('SIGTERM', 15_000);
});

test('the worker exposes records and bytes written, upload and fetch latencies, ranges, gaps and errors, and they move', async () => {
  const first = await waitFor(
    'records written by the worker',
    async () => {
      const text = await scrape(worker.url);
      return metricValue(text, 'sluice_worker_records_total') > 0 ? text : false;
    },
    90_000,
    1_000,
  );
  const names = metricNames(first);
  for (const n of WORKER_METRICS) assert.ok(names.has(n), `worker exposes ${n}`);
  assert.ok(metricValue(first, 'sluice_worker_bytes_total', { kind: 'stored' }) > 0);
  assert.ok(metricValue(first, 'sluice_worker_upload_seconds_count') > 0, 'uploads timed');
  assert.ok(metricValue(first, 'sluice_worker_fetch_seconds_count') > 0, 'fetches timed');
  assert.ok(metricValue(first, 'sluice_worker_ranges_total', { topic: topic.name, outcome: 'written' }) > 0);
  assert.equal(
    metricValue(first, 'sluice_build_info', { version: SLUICE_VERSION, node: process.version }),
    1,
  );
  await waitFor(
    'the worker records counter to grow',
    async () => {
      const text = await scrape(worker.url);
      return (
        metricValue(text, 'sluice_worker_records_total') > metricValue(first, 'sluice_worker_records_total')
      );
    },
    60_000,
    1_000,
  );
});

test('a standby answers the status with throughput from its own samples, and reports no partition gauges', async () => {
  const api = apiClient(standby.url, cluster.token);
  const status = await waitFor(
    'throughput of the topic on the standby',
    async () => {
      const s = (await api.get('/api/v1/status')).body;
      const t = s.topics.find((x: { topic: string }) => x.topic === topic.name);
      return t?.throughput.m1 && t.throughput.m1.recordsPerSec > 0 ? s : false;
    },
    60_000,
    1_000,
  );
  assert.equal(status.master.leader, false);
  assert.equal(status.leader.id, `${cluster.name}-master-1`);
  assert.ok(status.throughput.history.length > 0);
  const text = await scrape(standby.url);
  assert.equal(metricValue(text, 'sluice_is_leader'), 0);
  assert.equal(metricValue(text, 'sluice_partition_committed_offset', { topic: topic.name }), 0);
});
