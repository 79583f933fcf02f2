import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { SLUICE_VERSION } from '@sluice/shared';
import { pino } from 'pino';
import { createHealthServer, type Readiness } from '../src/health-server.ts';
import { WorkerMetrics } from '../src/worker-metrics.ts';

test('healthz, readyz (503 with reasons) and metrics; a JSON 404 for anything else', async (t) => {
  let readiness: Readiness = { ready: false, reasons: ['zookeeper session is not alive'] };
  const metrics = new WorkerMetrics();
  const http = createHealthServer({ metrics, readiness: () => readiness, log: pino({ level: 'silent' }) });
  await http.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => http.close());
  const base = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;

  const healthz = await fetch(`${base}/healthz`);
  assert.equal(healthz.status, 200);
  assert.deepEqual(await healthz.json(), { status: 'ok' });
  assert.equal((await fetch(`${base}/healthz?probe=1`, { method: 'HEAD' })).status, 200);

  const notReady = await fetch(`${base}/readyz`);
  assert.equal(notReady.status, 503);
  assert.deepEqual(await notReady.json(), {
    status: 'not ready',
    reasons: ['zookeeper session is not alive'],
  });

  readiness = { ready: true, reasons: [] };
  const ready = await fetch(`${base}/readyz`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { status: 'ready', reasons: [] });

  for (const [method, path] of [
    ['GET', '/nothing'],
    ['POST', '/healthz'],
  ] as const) {
    const missing = await fetch(`${base}${path}`, { method });
    assert.equal(missing.status, 404);
    assert.match(
      ((await missing.json()) as { message: string }).message,
      /serves GET \/healthz, \/readyz and \/metrics/,
    );
  }

  metrics.ranges.inc({ topic: 'orders', outcome: 'written' });
  metrics.bytes.inc({ kind: 'raw' }, 10);
  const res = await fetch(`${base}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const body = await res.text();
  for (const name of [
    'sluice_worker_ranges_total{topic="orders",outcome="written"} 1',
    `sluice_build_info{version="${SLUICE_VERSION}",node="${process.version}"} 1`,
    'sluice_worker_bytes_total{kind="raw"} 10',
    'sluice_worker_upload_seconds_bucket',
    'sluice_worker_fetch_seconds_bucket',
    'sluice_worker_gaps_total',
    'sluice_worker_errors_total',
    'sluice_worker_active_ranges',
    'sluice_worker_records_total',
    'process_resident_memory_bytes',
  ]) {
    assert.ok(body.includes(name), name);
  }
});
