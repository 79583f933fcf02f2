/**
 * Invariant 7 with real session expiry: a ZooKeeper server restart does not expire sessions,
 * so this test cuts clients off through a loopback TCP proxy for longer than the session
 * timeout. First one worker (a silent partition: the proxy stops moving bytes), then the
 * leader (the proxy resets its connections and refuses new ones). Each fences itself (stops
 * its work within two thirds of the session timeout), ZooKeeper expires its session, the
 * others carry on (the worker's ranges are requeued, the standby takes over), and once the
 * link is back each opens a new session, registers again and works on. A Parquet topic (inline
 * schema, zstd) runs beside the jsonl one under its own steady load through both cuts. Every
 * record of both lands exactly once (the Parquet topic as pyarrow reads it).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadStackEnv } from '@sluice/test-kit';
import { apiClient } from '../helpers/api.ts';
import { verifyEnd } from '../helpers/end-check.ts';
import { FaultRun } from '../helpers/fault-run.ts';
import type { TestTopic } from '../helpers/kafka.ts';
import { produceAll, steadyLoad } from '../helpers/load.ts';
import { parquetEvents, registerBeside } from '../helpers/parquet-events.ts';
import { logged } from '../helpers/process-log.ts';
import { waitFor } from '../helpers/processes.ts';
import { makeEvents } from '../helpers/records.ts';
import type { S3FaultProxy } from '../helpers/s3-fault-proxy.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import type { ZkView } from '../helpers/zk-view.ts';

const SESSION_MS = 4_000;
const CUT_MS = SESSION_MS + 4_000;
const run = new FaultRun({
  name: 'fault-zk-expiry',
  env: { SLUICE_ZK_SESSION_TIMEOUT_MS: String(SESSION_MS) },
  bucket: 'fault-zk-expiry',
});
const { s3, cluster, bucket } = run;
const prefix = 'expiry';
let s3proxy: S3FaultProxy;
let workerLink: TcpProxy;
let leaderLink: TcpProxy;
let zk: ZkView;
let topic: TestTopic;
let parquet: TestTopic;

before(async () => {
  s3proxy = await run.s3Proxy(150);
  const [host, port] = loadStackEnv().SLUICE_ZOOKEEPER.split(',')[0]!.split(':') as [string, string];
  workerLink = await TcpProxy.start({ host, port: Number(port) });
  leaderLink = await TcpProxy.start({ host, port: Number(port) });
  zk = await run.zkView();
  [topic, parquet] = await Promise.all([run.topic('zk-expiry', 4), run.topic('zk-expiry-pq', 2)]);
});
// Before the cluster stops: heal the links so that the processes can leave ZooKeeper cleanly.
run.defer(() => {
  workerLink?.heal();
  leaderLink?.heal();
});
// After the run's own cleanup (its hook was registered first): the links themselves.
after(async () => {
  await Promise.all([workerLink?.close(), leaderLink?.close()]);
});

test('a worker, then the leader, cut off from ZooKeeper past the session timeout: both fence themselves and come back', async (t) => {
  const leader = await cluster.startMaster({ SLUICE_ZOOKEEPER: `${leaderLink.address}${cluster.chroot}` });
  await waitFor(
    'the first master to lead',
    async () => (await zk.leader())?.record.id === `${cluster.name}-${leader.name}`,
  );
  const standby = await cluster.startMaster();
  const workerEnv = { SLUICE_S3_ENDPOINT: s3proxy.endpoint };
  const cutWorker = await cluster.startWorker({
    ...workerEnv,
    SLUICE_ZOOKEEPER: `${workerLink.address}${cluster.chroot}`,
  });
  await Promise.all([cluster.startWorker(workerEnv), cluster.startWorker(workerEnv)]);
  const cutId = `${cluster.name}-${cutWorker.name}`;
  await waitFor('three workers registered', async () => (await zk.workers()).length === 3);

  const api = apiClient(standby.url, cluster.token);
  const produced = makeEvents(20_000, { startMs: Date.now() - 3600_000, spanMs: 3600_000, partitions: 4 });
  const producedPq = parquetEvents(6_000, 2, 71);
  await produceAll(topic.producer, topic.name, produced.slice(0, 2_000));
  await produceAll(parquet.producer, parquet.name, producedPq.slice(0, 500));
  const common = {
    destination: { bucket, prefix },
    partitionBy: { kind: 'kafka-time', granularity: 'hour' },
    maxRangeMessages: 250,
    flushIntervalMs: 500,
  };
  // The Parquet topic's ranges are cut by size rather than by the flush interval, so that its
  // jobs add few to the queue the jsonl ranges' reassignment is timed through.
  await registerBeside(api, common, topic.name, parquet.name, { flushIntervalMs: 2_000 });
  const load = steadyLoad(topic.producer, topic.name, produced.slice(2_000), 1_000);
  const loadPq = steadyLoad(parquet.producer, parquet.name, producedPq.slice(500), 300);

  // 1. One worker, silently partitioned while it works on a range.
  const busy = await waitFor(
    'the cut-off worker to work on a range',
    () => zk.busiestWorker([topic.name, parquet.name], [cutId]),
    60_000,
    50,
  );
  workerLink.pause();
  const pausedAt = Date.now();
  const fenced = await waitFor(
    'the worker to fence itself',
    async () => logged(cutWorker, ['zookeeper session lost; fencing'], pausedAt)[0],
    CUT_MS,
    100,
  );
  const gone = await waitFor(
    'its node to vanish',
    async () => !(await zk.workers()).includes(cutId) && Date.now(),
    CUT_MS + 5_000,
    50,
  );
  const moved = await Promise.all(
    busy.ranges.map((r) =>
      waitFor(
        'its range to run elsewhere',
        async () => {
          const now = await zk.range(r.topic, r.partition, r.start, r.end);
          if (now === null || (now.attempt > r.record.attempt && now.state !== 'planned')) return Date.now();
          return false;
        },
        30_000,
        50,
      ),
    ),
  );
  const healIn = pausedAt + CUT_MS - Date.now();
  if (healIn > 0) await new Promise((r) => setTimeout(r, healIn));
  workerLink.resume();
  const resumedAt = Date.now();
  await waitFor(
    'the worker to register again',
    async () => (await zk.workers()).includes(cutId),
    30_000,
    100,
  );
  const back = Date.now();
  await waitFor(
    'the worker to write ranges again',
    async () => logged(cutWorker, ['range written'], back).length > 0,
    60_000,
  );
  t.diagnostic(
    `worker partitioned: fenced itself after ${Date.parse(fenced.time) - pausedAt} ms (${String(fenced.reason)}); ` +
      `node gone after ${gone - pausedAt} ms; its ${busy.ranges.length} range(s) (${busy.ranges.filter((r) => r.topic === parquet.name).length} Parquet) running elsewhere after ${moved.map((m) => m - pausedAt).join(', ')} ms; ` +
      `registered again ${back - resumedAt} ms after the link came back`,
  );
  assert.ok(
    Date.parse(fenced.time) - pausedAt < SESSION_MS,
    'the worker fenced itself before its session expired',
  );
  assert.ok(
    logged(cutWorker, ['range aborted'], pausedAt).length +
      logged(cutWorker, ['range written'], pausedAt).length >
      0,
  );

  // 2. The leader, cut off (connections reset, reconnects refused).
  const epoch = (await zk.leader())!.version;
  leaderLink.cut();
  const cutAt = Date.now();
  const took = await waitFor(
    'the standby to take over',
    async () => {
      const l = await zk.leader();
      return l && l.version > epoch && l.record.id === `${cluster.name}-${standby.name}` ? Date.now() : false;
    },
    CUT_MS + 10_000,
    50,
  );
  const stepped = await waitFor(
    'the old leader to stop leading',
    async () => logged(leader, ['leading stopped'], cutAt)[0],
    CUT_MS,
    100,
  );
  const restoreIn = cutAt + CUT_MS - Date.now();
  if (restoreIn > 0) await new Promise((r) => setTimeout(r, restoreIn));
  leaderLink.restore();
  const restoredAt = Date.now();
  const standing = await waitFor(
    'the old leader to stand again',
    async () => logged(leader, ['standing for election'], restoredAt)[0],
    30_000,
    100,
  );
  t.diagnostic(
    `leader cut off: stopped leading after ${Date.parse(stepped.time) - cutAt} ms (${String(stepped.reason)}); ` +
      `standby elected after ${took - cutAt} ms; old leader standing again ${Date.parse(standing.time) - restoredAt} ms after the link came back`,
  );
  assert.ok(Date.parse(stepped.time) - cutAt < SESSION_MS, 'the leader stopped before its session expired');
  assert.ok(took - cutAt < SESSION_MS + 3_000, `takeover took ${took - cutAt} ms`);
  assert.match(String((await apiClient(leader.url).get('/metrics')).body), /^sluice_is_leader 0$/m);

  await Promise.all([load.done, loadPq.done]);
  await verifyEnd({ api, s3, admin: topic.admin, bucket, prefix, topic: topic.name, produced });
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
  t.diagnostic(
    `Parquet: ${endPq.commitRecords} ranges, ${producedPq.length} records exactly once as pyarrow reads them`,
  );
});
