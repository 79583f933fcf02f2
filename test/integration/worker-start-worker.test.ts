/**
 * A whole worker in-process on the local stack: BullMQ job in, objects and a done range out;
 * health, readiness and metrics over HTTP; a clean stop removes its ZooKeeper node.
 * (Kafka is replaced by the in-memory reader; the pipeline tests use the real one.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createRedis,
  decodeJson,
  encodeJson,
  jobId,
  newRange,
  RANGE_JOB_NAME,
  RANGE_QUEUE_NAME,
  type RangeJobData,
  type RangeRecord,
  rangePath,
  workerPath,
} from '@sluice/shared';
import { Queue } from 'bullmq';
import { startWorker } from '../../packages/worker/src/start-worker.ts';
import { FakeReader, jsonRecord } from '../../packages/worker/test/helpers/fake-reader.ts';
import { tempBucket, tempZk, testS3, testWorkerConfig } from '../helpers/worker-stack.ts';

test('takes a range job from BullMQ, writes it, reports health and metrics, and stops cleanly', async (t) => {
  const cfg = testWorkerConfig({ SLUICE_WORKER_PROGRESS_INTERVAL_MS: '200' });
  const zk = await tempZk(t, cfg);
  const s3 = testS3();
  const bucket = await tempBucket(t, s3);

  const range = { topic: 'clicks', partition: 0, start: 0n, end: 100n };
  const output = {
    destination: { bucket, prefix: '' },
    format: 'jsonl' as const,
    compression: 'zstd' as const,
    partitionBy: { kind: 'none' as const },
    serverSideEncryption: 'none' as const,
    kmsKeyId: '',
    storageClass: 'STANDARD',
  };
  const now = new Date().toISOString();
  const record: RangeRecord = newRange(
    { topic: range.topic, topicId: 'topic-id-1', partition: 0, output },
    { start: 0n, end: 100n },
    now,
  );
  const path = rangePath(range);
  await zk.mkdirp(path.slice(0, path.lastIndexOf('/')));
  await zk.create(path, encodeJson(record));

  const reader = new FakeReader(
    Array.from({ length: 100 }, (_, i) => jsonRecord(BigInt(i), Date.UTC(2026, 0, 1) + i, { i })),
  );
  const worker = await startWorker(cfg, { reader, shutdownGraceMs: 2_000 });
  let stopped = false;
  t.after(async () => {
    if (!stopped) await worker.stop();
  });

  // Registered, healthy, ready.
  assert.ok(await zk.get(workerPath(cfg.id)), 'worker node exists');
  assert.equal((await fetch(`${worker.httpAddress}/healthz`)).status, 200);
  let ready: Response | null = null;
  for (let i = 0; i < 50; i++) {
    ready = await fetch(`${worker.httpAddress}/readyz`);
    if (ready.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(ready?.status, 200, JSON.stringify(await ready?.json()));

  // A job in, as the master enqueues it.
  const connection = createRedis(cfg);
  const queue = new Queue(RANGE_QUEUE_NAME, { connection, prefix: cfg.queuePrefix });
  t.after(async () => {
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    connection.disconnect();
  });
  const data: RangeJobData = {
    v: 1,
    topic: range.topic,
    topicId: record.topicId,
    partition: 0,
    start: '0',
    end: '100',
    attempt: 1,
    output,
    plannedAt: now,
  };
  await queue.add(RANGE_JOB_NAME, data, {
    jobId: jobId(range, 1),
    attempts: 3,
    backoff: { type: 'exponential', delay: 500 },
    removeOnComplete: true,
    removeOnFail: true,
  });

  let done: RangeRecord | null = null;
  for (let i = 0; i < 100 && !done; i++) {
    const n = await zk.get(path);
    const r = n ? decodeJson<RangeRecord>(n.data, 'range') : null;
    if (r?.state === 'done') done = r;
    else await new Promise((res) => setTimeout(res, 100));
  }
  assert.ok(done, 'range done');
  assert.equal(done.result!.records, 100);
  assert.equal(done.worker, cfg.id);
  assert.deepEqual(
    done.result!.objects.map((o) => o.key),
    ['clicks/clicks-0-00000000000000000000-00000000000000000100.jsonl.zst'],
  );

  const metrics = await (await fetch(`${worker.httpAddress}/metrics`)).text();
  assert.match(metrics, /sluice_worker_ranges_total\{topic="clicks",outcome="written"\} 1/);
  assert.match(metrics, /sluice_worker_records_total 100/);
  assert.match(metrics, /sluice_worker_bytes_total\{kind="stored"\} \d+/);
  assert.match(metrics, /sluice_worker_active_ranges 0/);
  assert.match(metrics, /process_cpu_user_seconds_total/);

  await worker.stop();
  stopped = true;
  assert.equal(await zk.get(workerPath(cfg.id)), null, 'worker node removed');
});
