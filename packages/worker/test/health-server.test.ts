import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SLUICE_VERSION } from '@sluice/shared';
import { pino } from 'pino';
import { createHealthServer, type Readiness } from '../src/health-server.ts';
import { WorkerMetrics } from '../src/worker-metrics.ts';

test('healthz, readyz (503 with reasons) and metrics', async (t) => {
  let readiness: Readiness = { ready: false, reasons: ['zookeeper session is not alive'] };
  const metrics = new WorkerMetrics();
  const app = createHealthServer({ metrics, readiness: () => readiness, log: pino({ level: 'silent' }) });
  t.after(() => app.close());

  assert.equal((await app.inject('/healthz')).statusCode, 200);

  const notReady = await app.inject('/readyz');
  assert.equal(notReady.statusCode, 503);
  assert.deepEqual(notReady.json(), { status: 'not ready', reasons: ['zookeeper session is not alive'] });

  readiness = { ready: true, reasons: [] };
  assert.equal((await app.inject('/readyz')).statusCode, 200);

  metrics.ranges.inc({ topic: 'orders', outcome: 'written' });
  metrics.bytes.inc({ kind: 'raw' }, 10);
  const res = await app.inject('/metrics');
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type'] as string, /^text\/plain/);
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
    assert.ok(res.body.includes(name), name);
  }
});
