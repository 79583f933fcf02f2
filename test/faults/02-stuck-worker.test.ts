/**
 * Invariants 2, 4 and 7, the stall path: a worker that stops making progress loses its range
 * after SLUICE_STALL_TIMEOUT_MS (8 s here) although its ZooKeeper session lives on (30 s
 * here, so this is the stall path and not the dead-worker one). The worker is SIGSTOPped in
 * the middle of a range under load; its range is requeued as `stalled` and finished by another
 * worker; then the stuck worker is SIGCONTed. It must not commit its stale result over the
 * newer one, nor rewrite the completed range's objects, nor write any object under another
 * name: the objects' bytes are unchanged after it wakes and nothing extra appears. A Parquet
 * topic (inline schema, zstd) runs beside the jsonl one under its own steady load; the worker
 * stopped is one in the middle of a range of each if one turns up, and every record of both
 * lands exactly once (the Parquet topic as pyarrow reads it).
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { apiClient } from '../helpers/api.ts';
import { changedObjects, snapshotObjects, verifyEnd } from '../helpers/end-check.ts';
import { FaultRun } from '../helpers/fault-run.ts';
import type { TestTopic } from '../helpers/kafka.ts';
import { produceAll, steadyLoad } from '../helpers/load.ts';
import { parquetEvents, registerBeside } from '../helpers/parquet-events.ts';
import { logged } from '../helpers/process-log.ts';
import { type SluiceProcess, waitFor } from '../helpers/processes.ts';
import { metricValue } from '../helpers/prometheus.ts';
import { makeEvents } from '../helpers/records.ts';
import { getText } from '../helpers/s3.ts';
import type { S3FaultProxy } from '../helpers/s3-fault-proxy.ts';
import type { ZkView } from '../helpers/zk-view.ts';

const STALL_MS = 8_000;
const run = new FaultRun({
  name: 'fault-stuck-worker',
  env: { SLUICE_STALL_TIMEOUT_MS: String(STALL_MS), SLUICE_ZK_SESSION_TIMEOUT_MS: '4000' },
  bucket: 'fault-stuck',
});
const { s3, cluster, bucket } = run;
let proxy: S3FaultProxy;
let zk: ZkView;
let topic: TestTopic;
let parquet: TestTopic;
let stuck: SluiceProcess | undefined;

before(async () => {
  proxy = await run.s3Proxy(250);
  zk = await run.zkView();
  [topic, parquet] = await Promise.all([run.topic('stuck-worker', 4), run.topic('stuck-worker-pq', 2)]);
});
run.defer(() => {
  if (stuck && stuck.child.exitCode === null) stuck.child.kill('SIGCONT');
});

test('a SIGSTOPped worker loses its range after the stall timeout and, woken, changes nothing in S3', async (t) => {
  const master = await cluster.startMaster();
  // The workers' sessions outlive the stop: only the stall timeout can take the range away.
  const workerEnv = {
    SLUICE_S3_ENDPOINT: proxy.endpoint,
    SLUICE_WORKER_CONCURRENCY: '2',
    SLUICE_ZK_SESSION_TIMEOUT_MS: '30000',
  };
  const procs = await Promise.all([1, 2, 3].map(() => cluster.startWorker(workerEnv)));
  const byId = new Map(procs.map((p) => [`${cluster.name}-${p.name}`, p]));
  await waitFor('three workers registered', async () => (await zk.workers()).length === 3);
  const api = apiClient(master.url, cluster.token);

  const produced = makeEvents(20_000, { startMs: Date.now() - 3600_000, spanMs: 3600_000, partitions: 4 });
  const producedPq = parquetEvents(5_000, 2, 67);
  await produceAll(topic.producer, topic.name, produced.slice(0, 4_000));
  await produceAll(parquet.producer, parquet.name, producedPq.slice(0, 500));
  const common = {
    destination: { bucket, prefix: 'stuck' },
    partitionBy: { kind: 'kafka-time', granularity: 'hour' },
    maxRangeMessages: 250,
    flushIntervalMs: 500,
  };
  // The Parquet topic's ranges are cut by size rather than by the flush interval: few jobs more.
  await registerBeside(api, common, topic.name, parquet.name, { flushIntervalMs: 2_000 });
  const load = steadyLoad(topic.producer, topic.name, produced.slice(4_000, 16_000), 800);
  const loadPq = steadyLoad(parquet.producer, parquet.name, producedPq.slice(500), 250);
  const holds = (name: string) => (rs: Array<{ topic: string }>) => rs.some((r) => r.topic === name);

  // Ranges here are small and quick: the busiest worker may finish what it held between the
  // look and the stop. Then it is woken at once (nothing changed for it) and the look repeats.
  const stopMidRange = async () => {
    for (let tries = 1; ; tries++) {
      // One in the middle of a range of each topic if one turns up within 10 s, else of the jsonl one.
      const busiest = (both: boolean) =>
        waitFor(
          both ? 'a worker with a jsonl and a Parquet range active' : 'a worker with a range active',
          () =>
            zk.busiestWorker(
              [topic.name, parquet.name],
              byId.keys(),
              (rs) => holds(topic.name)(rs) && (!both || holds(parquet.name)(rs)),
            ),
          both ? 10_000 : 60_000,
          50,
        );
      const { worker, ranges } = await busiest(true).catch(() => busiest(false));
      const proc = byId.get(worker)!;
      process.kill(proc.child.pid!, 'SIGSTOP');
      const stoppedAt = Date.now();
      const held: typeof ranges = [];
      for (const r of ranges) {
        const now = await zk.range(r.topic, r.partition, r.start, r.end);
        if (now && now.state === 'active' && now.worker === worker && now.attempt === r.record.attempt)
          held.push(r);
      }
      if (holds(topic.name)(held) || tries === 5) return { victim: worker, proc, held, stoppedAt, tries };
      process.kill(proc.child.pid!, 'SIGCONT');
    }
  };
  const { victim, proc, held, stoppedAt, tries } = await stopMidRange();
  stuck = proc;
  assert.ok(holds(topic.name)(held), `the stopped worker was in the middle of a range (${tries} tries)`);
  const heldPq = held.filter((r) => r.topic === parquet.name).length;

  // Requeued as stalled, taken by another worker, finished; the stuck worker's node still there.
  const requeued = await Promise.all(
    held.map((r) =>
      waitFor(
        `range ${r.topic}/${r.partition}/${r.start}-${r.end} requeued and done elsewhere`,
        async () => {
          const now = await zk.range(r.topic, r.partition, r.start, r.end);
          if (now === null) return { ms: Date.now() - stoppedAt, how: 'committed' };
          if (now.attempt === r.record.attempt) return false;
          assert.equal(now.requeueReason, 'stalled', 'requeued by the stall timeout');
          if (now.state !== 'done') return false;
          assert.notEqual(now.result?.worker, victim);
          return {
            ms: Date.now() - stoppedAt,
            how: `attempt ${now.attempt} done by ${now.result?.worker?.replace(`${cluster.name}-`, '')}`,
          };
        },
        60_000,
        100,
      ),
    ),
  );
  assert.ok((await zk.workers()).includes(victim), 'the stuck worker still holds its ZooKeeper session');
  t.diagnostic(
    `SIGSTOP: ${held.length} range(s) (${heldPq} Parquet) requeued as stalled and finished elsewhere after ${requeued.map((x) => `${x.ms} ms (${x.how})`).join(', ')} (stall timeout ${STALL_MS} ms)`,
  );
  assert.ok(
    requeued.every((x) => x.ms > STALL_MS - 1_500),
    'not requeued before the stall timeout (the session path did not fire)',
  );

  // What the stuck worker could touch: the held ranges' objects and commit records.
  const span = (r: (typeof held)[number]) =>
    `${String(r.start).padStart(20, '0')}-${String(r.end).padStart(20, '0')}`;
  const isHeld = (key: string) =>
    held.some(
      (r) =>
        key.startsWith(`stuck/${r.topic}/`) &&
        (key.includes(`-${r.partition}-${span(r)}`) ||
          key.endsWith(`partition=${r.partition}/${span(r)}.json`)),
    );
  const snapshot = async () => {
    const all = await snapshotObjects(s3, bucket, 'stuck/');
    return new Map([...all].filter(([key]) => isHeld(key)));
  };
  const before = await snapshot();
  assert.ok(
    before.size >= held.length * 2,
    `objects and commit records of the held ranges: ${[...before.keys()].join(', ')}`,
  );

  const wokeAt = Date.now();
  process.kill(stuck.child.pid!, 'SIGCONT');
  // It meets its stale attempt at its next ZooKeeper write (or finds the range gone) and stops;
  // or its next S3 write is refused first (the newer attempt's object stands: If-None-Match),
  // and its job attempt fails, to be retried by whichever worker BullMQ hands it to; or its
  // job's lock was lost while it slept and the attempt is aborted.
  const givingUp = [
    'attempt superseded',
    'range gone',
    'range attempt failed; will retry',
    'range failed',
    'range aborted',
  ];
  const ends = await waitFor(
    'the woken worker to give up its stale attempts',
    async () => {
      const lines = logged(stuck!, givingUp, wokeAt - 1_000);
      const ids = held.map((r) => `${r.topic}-${r.partition}-${r.start}-${r.end}`);
      return ids.every((id) => lines.some((l) => l.range === id)) ? lines : false;
    },
    30_000,
    250,
  );
  const ids = new Set(held.map((r) => `${r.topic}-${r.partition}-${r.start}-${r.end}`));
  const told = logged(stuck, ['another commit record stands', ...givingUp], wokeAt - 1_000);
  t.diagnostic(
    `woken worker: ${told
      .filter((l) => ids.has(String(l.range)))
      .map((l) => l.msg)
      .join(', ')} (${ends.length} range(s) given up)`,
  );
  await new Promise((r) => setTimeout(r, 2_000));
  const afterWake = await snapshot();
  assert.deepEqual(changedObjects(before, afterWake), [], 'no object of the held ranges changed');
  assert.deepEqual(
    [...afterWake.keys()].sort(),
    [...before.keys()].sort(),
    'no object appeared under their names',
  );
  for (const [key] of afterWake) {
    if (!key.endsWith('.json')) continue;
    const commit = JSON.parse(await getText(s3, bucket, key)) as { worker: string; attempt: number };
    assert.notEqual(commit.worker, victim, `${key} is the newer attempt's record`);
    assert.ok(commit.attempt >= 2, `${key} is the newer attempt's record`);
  }
  // The woken worker carries on with new ranges (its session survived). The steady load may
  // have ended while it slept, so records keep arriving until it has written one.
  await Promise.all([load.done, loadPq.done]);
  const after = steadyLoad(topic.producer, topic.name, produced.slice(16_000), 400);
  await waitFor(
    'the woken worker to write a range again',
    async () => logged(stuck!, ['range written'], wokeAt).length > 0,
    60_000,
  );
  await after.done;
  await verifyEnd({ api, s3, admin: topic.admin, bucket, prefix: 'stuck', topic: topic.name, produced });
  const endPq = await verifyEnd({
    api,
    s3,
    admin: parquet.admin,
    bucket,
    prefix: 'stuck',
    topic: parquet.name,
    produced: producedPq,
    format: 'parquet',
  });
  t.diagnostic(
    `Parquet: ${endPq.commitRecords} ranges, ${producedPq.length} records exactly once as pyarrow reads them`,
  );
  const metrics = String((await api.get('/metrics')).body);
  assert.ok(metricValue(metrics, 'sluice_requeues_total', { topic: topic.name, reason: 'stalled' }) >= 1);
});
