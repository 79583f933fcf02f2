/**
 * Invariants 6 and 7: a worker may die at any instant. Three workers move a topic under a
 * steady load; one at a time, a worker is SIGKILLed while it is in the middle of a range,
 * three times. Its ephemeral node goes when ZooKeeper ends its session, and the leader
 * requeues its active ranges at once: the test times the kill → "a new attempt of the range is
 * active on another worker", which must be about the ZooKeeper session timeout plus a second
 * or two, not BullMQ's stalled-job interval (30 s). Before those, a worker is killed right
 * after it took a job, before it started the range (still planned): that range too must run
 * elsewhere as fast. A Parquet topic (inline schema, zstd) runs beside the jsonl one under its
 * own steady load: each kill prefers a worker in the middle of a range of both, and when none
 * of the three hit a Parquet range, a fourth kills a worker in the middle of one, so Parquet
 * ranges die half-written too. Every record of both still lands exactly once (the Parquet
 * topic as pyarrow reads it).
 *
 * S3 answers each request after 250 ms (through a fault proxy per worker), as a distant S3
 * would, so that ranges take a while and a kill lands in the middle of one.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { apiClient } from '../helpers/api.ts';
import { verifyEnd } from '../helpers/end-check.ts';
import { FaultRun } from '../helpers/fault-run.ts';
import type { TestTopic } from '../helpers/kafka.ts';
import { produceAll, steadyLoad } from '../helpers/load.ts';
import { parquetEvents, registerBeside } from '../helpers/parquet-events.ts';
import { type SluiceProcess, waitFor } from '../helpers/processes.ts';
import { metricValue } from '../helpers/prometheus.ts';
import { makeEvents } from '../helpers/records.ts';
import type { S3FaultProxy } from '../helpers/s3-fault-proxy.ts';
import type { ZkView } from '../helpers/zk-view.ts';

const SESSION_MS = 4_000;
const run = new FaultRun({
  name: 'fault-dead-worker',
  env: { SLUICE_ZK_SESSION_TIMEOUT_MS: String(SESSION_MS), SLUICE_STALL_TIMEOUT_MS: '60000' },
  bucket: 'fault-dead',
});
const { s3, cluster, bucket } = run;
let zk: ZkView;
let topic: TestTopic;
let parquet: TestTopic;

before(async () => {
  zk = await run.zkView();
  [topic, parquet] = await Promise.all([run.topic('dead-worker', 4), run.topic('dead-worker-pq', 2)]);
});

test('SIGKILLed workers: their ranges run elsewhere within the session timeout + ~2 s; every record lands once', async (t) => {
  const master = await cluster.startMaster();
  // Each worker reaches S3 through a proxy of its own, so the test knows who asks for what.
  const workers = new Map<string, SluiceProcess>();
  const proxyOf = new Map<string, S3FaultProxy>();
  const addWorker = async () => {
    const proxy = await run.s3Proxy(250);
    const w = await cluster.startWorker({
      SLUICE_S3_ENDPOINT: proxy.endpoint,
      // Three slots: a requeued range goes before every waiting new range, but it still needs a
      // free slot; with every slot busy on the two topics' ranges it would time those ranges.
      SLUICE_WORKER_CONCURRENCY: '3',
    });
    workers.set(`${cluster.name}-${w.name}`, w);
    proxyOf.set(`${cluster.name}-${w.name}`, proxy);
  };
  await Promise.all([addWorker(), addWorker(), addWorker()]);
  await waitFor('three workers registered', async () => (await zk.workers()).length === 3);
  const api = apiClient(master.url, cluster.token);

  const produced = makeEvents(24_000, {
    startMs: Date.now() - 3600_000,
    spanMs: 3600_000,
    partitions: 4,
    tombstoneEvery: 97,
  });
  const producedPq = parquetEvents(6_000, 2, 97);
  await produceAll(topic.producer, topic.name, produced.slice(0, 4_000));
  const common = {
    destination: { bucket, prefix: 'dead' },
    partitionBy: { kind: 'kafka-time', granularity: 'hour' },
    maxRangeMessages: 250,
    flushIntervalMs: 500,
  };
  // The Parquet topic's ranges are cut by size (250 records) rather than by the flush interval:
  // a job costs a worker slot for its S3 round trips however few records it has, and the
  // two topics' jobs must leave free slots, or the test would time the queue, not reassignment.
  await registerBeside(api, common, topic.name, parquet.name, { flushIntervalMs: 2_000 });
  // 600 a second (1,000 before the Parquet topic came): with three slots a worker the backlog
  // drains sooner, and the kills need jsonl ranges in flight until the third (about 30 s on a
  // loaded machine, workers started in between).
  const load = steadyLoad(topic.producer, topic.name, produced.slice(4_000), 600);

  const latencies: number[] = [];
  // Kill 0: a worker that has taken a job but not yet started its range (it is looking for the
  // range's commit record): the range is still planned, its job held by a dead worker.
  const [victim4, proxy4] = [...proxyOf].find(([id]) => workers.has(id))!;
  let taken: { partition: number; start: bigint; end: bigint } | null = null;
  let killedAt4 = 0;
  proxy4.rule = (r) => {
    const m = /partition=(\d+)\/(\d{20})-(\d{20})\.json$/.exec(r.key);
    if (r.op === 'GetObject' && m && taken === null) {
      taken = { partition: Number(m[1]), start: BigInt(m[2]!), end: BigInt(m[3]!) };
      killedAt4 = Date.now();
      workers.get(victim4)!.child.kill('SIGKILL');
      return { kind: 'reset' };
    }
    return { kind: 'pass', delayMs: 250 };
  };
  await waitFor('a worker killed as it takes a job', async () => taken !== null, 60_000, 50);
  const t4 = taken as unknown as { partition: number; start: bigint; end: bigint };
  await workers.get(victim4)!.exited;
  workers.delete(victim4);
  const before4 = await zk.range(topic.name, t4.partition, t4.start, t4.end);
  const elsewhere4 = await waitFor(
    'the taken range to run elsewhere',
    async () => {
      const now = await zk.range(topic.name, t4.partition, t4.start, t4.end);
      if (now === null || now.state === 'done')
        return { ms: Date.now() - killedAt4, how: now ? 'done' : 'committed' };
      if (now.state === 'active' && now.worker !== victim4)
        return {
          ms: Date.now() - killedAt4,
          how: `attempt ${now.attempt} active on ${now.worker?.replace(`${cluster.name}-`, '')}`,
        };
      return false;
    },
    60_000,
    50,
  );
  t.diagnostic(
    `kill 0: ${victim4.replace(`${cluster.name}-`, '')} killed after taking the job of range ${t4.partition}/${t4.start}-${t4.end} (${before4?.state ?? 'gone'}, not started); ` +
      `running elsewhere after ${elsewhere4.ms} ms (${elsewhere4.how})`,
  );
  latencies.push(elsewhere4.ms);
  await addWorker();
  // The Parquet topic's load starts now: both topics' first ranges in every slot would have the
  // requeued range of kill 0 wait for a slot to free (it goes first, but only into a free slot).
  const loadPq = steadyLoad(parquet.producer, parquet.name, producedPq, 200);

  let parquetHeld = 0;
  const holds = (name: string) => (rs: Array<{ topic: string }>) => rs.some((r) => r.topic === name);
  for (let kill = 1; kill <= 3 || parquetHeld === 0; kill++) {
    // A worker in the middle of a range of the jsonl topic (its range node says active, on it),
    // of a Parquet range too if one is; after three kills, of a Parquet range if none was hit.
    const target = kill <= 3 ? topic.name : parquet.name;
    const { worker: victim, ranges } = await waitFor(
      `a worker with a range of ${target} active`,
      () => zk.busiestWorker([topic.name, parquet.name], workers.keys(), holds(target), holds(parquet.name)),
      60_000,
      50,
    );
    const proc = workers.get(victim)!;
    proc.child.kill('SIGKILL');
    const killedAt = Date.now();
    await proc.exited;
    workers.delete(victim);
    // What it held when it died: ranges still active on it (one may have finished in between).
    const held = [];
    for (const r of ranges) {
      const now = await zk.range(r.topic, r.partition, r.start, r.end);
      if (now && now.state === 'active' && now.worker === victim && now.attempt === r.record.attempt)
        held.push(r);
    }
    const heldPq = held.filter((r) => r.topic === parquet.name).length;
    if (!holds(target)(held)) {
      t.diagnostic(`kill ${kill}: ${victim} finished its ranges before the signal landed; killing another`);
      kill--;
      await addWorker();
      continue;
    }
    const nodeGone = waitFor(
      'the worker node to vanish',
      async () => !(await zk.workers()).includes(victim),
      30_000,
      50,
    ).then(() => Date.now() - killedAt);
    const taken = await Promise.all(
      held.map((r) =>
        waitFor(
          `range ${r.topic}/${r.partition}/${r.start}-${r.end} to run elsewhere`,
          async () => {
            const now = await zk.range(r.topic, r.partition, r.start, r.end);
            if (now === null) return { ms: Date.now() - killedAt, how: 'committed' };
            if (now.attempt > r.record.attempt && (now.state === 'active' || now.state === 'done')) {
              assert.notEqual(now.worker, victim);
              assert.equal(now.requeueReason, 'worker-lost');
              return {
                ms: Date.now() - killedAt,
                how: `attempt ${now.attempt} ${now.state} on ${now.worker?.replace(`${cluster.name}-`, '')}`,
              };
            }
            return false;
          },
          60_000,
          50,
        ),
      ),
    );
    const goneMs = await nodeGone;
    for (const x of taken) latencies.push(x.ms);
    parquetHeld += heldPq;
    t.diagnostic(
      `kill ${kill}: ${victim.replace(`${cluster.name}-`, '')} held ${held.length} range(s), ${heldPq} of them Parquet; node gone after ${goneMs} ms; ` +
        `running elsewhere after ${taken.map((x) => `${x.ms} ms (${x.how})`).join(', ')}`,
    );
    await addWorker();
  }

  await Promise.all([load.done, loadPq.done]);
  // A job a killed worker had taken but not yet started (its range still planned) must not
  // wait for BullMQ's stalled-job check (30 s and more): the tail drains in a few seconds.
  const loadDoneAt = Date.now();
  const end = await verifyEnd({
    timeoutMs: 20_000,
    api,
    s3,
    admin: topic.admin,
    bucket,
    prefix: 'dead',
    topic: topic.name,
    produced,
  });
  const endPq = await verifyEnd({
    timeoutMs: 20_000,
    api,
    s3,
    admin: parquet.admin,
    bucket,
    prefix: 'dead',
    topic: parquet.name,
    produced: producedPq,
    format: 'parquet',
  });
  const max = Math.max(...latencies);
  t.diagnostic(
    `reassignment after SIGKILL (session timeout ${SESSION_MS} ms): min ${Math.min(...latencies)} ms, max ${max} ms, ` +
      `mean ${Math.round(latencies.reduce((a, b) => a + b, 0) / latencies.length)} ms over ${latencies.length} ranges; ` +
      `${end.commitRecords} ranges, ${end.dataObjects} objects, ${produced.length} records exactly once; ` +
      `Parquet: ${parquetHeld} range(s) held by killed workers, ${endPq.commitRecords} ranges, ${endPq.dataObjects} objects, ` +
      `${producedPq.length} records exactly once as pyarrow reads them; all committed ${Date.now() - loadDoneAt} ms after the last record was produced`,
  );
  // Session timeout, ZooKeeper's expiry tick, the leader's sweep and a free worker slot; far below BullMQ's 30 s.
  assert.ok(max < SESSION_MS + 5_000, `a range waited ${max} ms after its worker died`);
  const metrics = String((await api.get('/metrics')).body);
  const lost = metricValue(metrics, 'sluice_requeues_total', { topic: topic.name, reason: 'worker-lost' });
  assert.ok(lost >= 3, `worker-lost requeues counted: ${lost}`);
  assert.ok(parquetHeld >= 1, 'a Parquet range was in the middle of its write when its worker died');
  const lostPq = metricValue(metrics, 'sluice_requeues_total', {
    topic: parquet.name,
    reason: 'worker-lost',
  });
  assert.ok(lostPq >= 1, `worker-lost requeues of the Parquet topic counted: ${lostPq}`);
});
