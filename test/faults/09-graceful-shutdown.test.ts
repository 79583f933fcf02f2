/**
 * Graceful shutdown under load (the way a rolling deploy stops pods): SIGTERM to workers
 * in the middle of ranges, and to the leader. A worker stops taking jobs, finishes the ranges
 * in hand, leaves ZooKeeper and exits 0; the leader hands over at once (its election node
 * goes first, so the standby need not wait for a session to expire) and exits 0. Nothing is
 * lost or duplicated, and no range even needs a second attempt: of a jsonl topic and of a
 * Parquet topic (inline schema, zstd) beside it under its own steady load, each worker stopped
 * in the middle of ranges of both.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { apiClient } from '../helpers/api.ts';
import { commitSpans, verifyEnd } from '../helpers/end-check.ts';
import { FaultRun } from '../helpers/fault-run.ts';
import type { TestTopic } from '../helpers/kafka.ts';
import { produceAll, steadyLoad } from '../helpers/load.ts';
import { parquetEvents, registerBeside } from '../helpers/parquet-events.ts';
import { logged } from '../helpers/process-log.ts';
import { type SluiceProcess, waitFor } from '../helpers/processes.ts';
import { makeEvents } from '../helpers/records.ts';
import { getText } from '../helpers/s3.ts';
import type { S3FaultProxy } from '../helpers/s3-fault-proxy.ts';
import type { ZkView } from '../helpers/zk-view.ts';

const SESSION_MS = 4_000;
const run = new FaultRun({
  name: 'fault-sigterm',
  env: { SLUICE_ZK_SESSION_TIMEOUT_MS: String(SESSION_MS) },
  bucket: 'fault-sigterm',
});
const { s3, cluster, bucket } = run;
const prefix = 'sigterm';
let proxy: S3FaultProxy;
let zk: ZkView;
let topic: TestTopic;
let parquet: TestTopic;

before(async () => {
  proxy = await run.s3Proxy(200);
  zk = await run.zkView();
  [topic, parquet] = await Promise.all([run.topic('sigterm', 4), run.topic('sigterm-pq', 4)]);
});

test('SIGTERM to workers and to the leader under load loses and duplicates nothing', async (t) => {
  const leader = await cluster.startMaster();
  await waitFor(
    'the first master to lead',
    async () => (await zk.leader())?.record.id === `${cluster.name}-${leader.name}`,
  );
  const standby = await cluster.startMaster();
  const workerEnv = { SLUICE_S3_ENDPOINT: proxy.endpoint };
  const workers = new Map<string, SluiceProcess>();
  const addWorker = async () => {
    const w = await cluster.startWorker(workerEnv);
    workers.set(`${cluster.name}-${w.name}`, w);
  };
  await Promise.all([addWorker(), addWorker(), addWorker()]);
  const api = apiClient(standby.url, cluster.token);

  const produced = makeEvents(20_000, {
    startMs: Date.now() - 3600_000,
    spanMs: 3600_000,
    partitions: 4,
    tombstoneEvery: 53,
  });
  const producedPq = parquetEvents(10_000, 4, 53);
  await produceAll(topic.producer, topic.name, produced.slice(0, 2_000));
  await produceAll(parquet.producer, parquet.name, producedPq.slice(0, 1_000));
  const common = {
    destination: { bucket, prefix },
    partitionBy: { kind: 'kafka-time', granularity: 'hour' },
    maxRangeMessages: 250,
    flushIntervalMs: 500,
  };
  await registerBeside(api, common, topic.name, parquet.name);
  const load = steadyLoad(topic.producer, topic.name, produced.slice(2_000), 1_000);
  const loadPq = steadyLoad(parquet.producer, parquet.name, producedPq.slice(1_000), 500);

  // Two workers, one after the other, each stopped in the middle of ranges of both topics.
  for (let round = 1; round <= 2; round++) {
    const busy = await waitFor(
      'a worker with ranges of both topics active',
      () =>
        zk.busiestWorker([topic.name, parquet.name], workers.keys(), (rs) =>
          [topic.name, parquet.name].every((name) => rs.some((r) => r.topic === name)),
        ),
      60_000,
      50,
    );
    const w = workers.get(busy.worker)!;
    const termAt = Date.now();
    const code = await w.stop('SIGTERM');
    workers.delete(busy.worker);
    const finished = busy.ranges.filter((r) =>
      logged(w, ['range written']).some((l) => l.range === `${r.topic}-${r.partition}-${r.start}-${r.end}`),
    );
    t.diagnostic(
      `SIGTERM to ${w.name} with ${busy.ranges.length} range(s) active (${busy.ranges.filter((r) => r.topic === parquet.name).length} Parquet): exit ${code} after ${Date.now() - termAt} ms, ${finished.length} finished by it`,
    );
    assert.equal(code, 0);
    assert.equal(
      finished.length,
      busy.ranges.length,
      'the ranges in hand were finished before the worker left',
    );
    await addWorker();
  }

  // The leader: the standby leads at once, without waiting for a session to expire.
  const epoch = (await zk.leader())!.version;
  const termAt = Date.now();
  const stopping = leader.stop('SIGTERM');
  const took = await waitFor(
    'the standby to lead',
    async () => {
      const l = await zk.leader();
      return l && l.version > epoch && l.record.id === `${cluster.name}-${standby.name}`
        ? Date.now() - termAt
        : false;
    },
    30_000,
    20,
  );
  const code = await stopping;
  t.diagnostic(
    `SIGTERM to the leader: standby leads after ${took} ms (session timeout ${SESSION_MS} ms); old leader exit ${code} after ${Date.now() - termAt} ms`,
  );
  assert.equal(code, 0);
  assert.ok(took < SESSION_MS / 2, `handover took ${took} ms`);
  assert.ok(logged(leader, ['leadership handed over']).length === 1);

  await Promise.all([load.done, loadPq.done]);
  const end = await verifyEnd({ api, s3, admin: topic.admin, bucket, prefix, topic: topic.name, produced });
  const endPq = await verifyEnd({
    api,
    s3,
    admin: parquet.admin,
    bucket,
    prefix,
    topic: parquet.name,
    produced: producedPq,
    format: 'parquet',
  });
  for (const [t0, name, ranges] of [
    [topic, 'jsonl', end.commitRecords],
    [parquet, 'Parquet', endPq.commitRecords],
  ] as const) {
    const attempts = new Map<number, number>();
    for (const list of (await commitSpans(s3, bucket, prefix, t0.name)).values()) {
      for (const c of list) {
        const rec = JSON.parse(await getText(s3, bucket, c.key)) as { attempt: number };
        attempts.set(rec.attempt, (attempts.get(rec.attempt) ?? 0) + 1);
      }
    }
    t.diagnostic(
      `${name}: ${ranges} ranges; by attempt: ${[...attempts].map(([a, n]) => `${n} x attempt ${a}`).join(', ')}`,
    );
    assert.deepEqual([...attempts.keys()], [1], `${name}: every range was written by its first attempt`);
  }
});
