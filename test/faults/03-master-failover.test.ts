/**
 * Invariants 2 and 8: one leader writes, and a range once planned is never planned again
 * differently. Two masters run under a steady load; the leader is SIGKILLed, and later the
 * next leader is SIGSTOPped for longer than its session and woken after the standby took
 * over. The test times each takeover (kill or stop → the standby's epoch in `/sluice/leader`),
 * checks that ranges and commit records never overlap, that no master planned after another
 * was elected, and that the woken old leader stepped down without planning. A Parquet topic
 * (inline schema, zstd) runs beside the jsonl one under its own steady load through both
 * takeovers. Every record of both still lands exactly once (the Parquet topic as pyarrow reads
 * it), and neither topic's ranges overlap.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { checkTiling } from '@sluice/shared';
import { apiClient } from '../helpers/api.ts';
import { commitSpans, verifyEnd } from '../helpers/end-check.ts';
import { FaultRun } from '../helpers/fault-run.ts';
import type { TestTopic } from '../helpers/kafka.ts';
import { produceAll, steadyLoad } from '../helpers/load.ts';
import { parquetEvents, registerBeside } from '../helpers/parquet-events.ts';
import { type LogLine, logLines } from '../helpers/process-log.ts';
import { type SluiceProcess, waitFor } from '../helpers/processes.ts';
import { makeEvents } from '../helpers/records.ts';
import type { S3FaultProxy } from '../helpers/s3-fault-proxy.ts';
import type { ZkView } from '../helpers/zk-view.ts';

const SESSION_MS = 4_000;
const run = new FaultRun({
  name: 'fault-failover',
  env: { SLUICE_ZK_SESSION_TIMEOUT_MS: String(SESSION_MS) },
  bucket: 'fault-failover',
});
const { s3, cluster, bucket } = run;
const prefix = 'failover';
let proxy: S3FaultProxy;
let zk: ZkView;
let topic: TestTopic;
let parquet: TestTopic;
const masters: SluiceProcess[] = [];

before(async () => {
  proxy = await run.s3Proxy(150);
  zk = await run.zkView();
  [topic, parquet] = await Promise.all([run.topic('failover', 4), run.topic('failover-pq', 4)]);
});
run.defer(() => {
  for (const m of masters)
    if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGCONT');
});

const idOf = (m: SluiceProcess) => `${cluster.name}-${m.name}`;

/** Range nodes in flight and commit records of each partition of `t` never overlap. */
async function checkNoOverlap(t: TestTopic): Promise<number> {
  const commits = await commitSpans(s3, bucket, prefix, t.name);
  const nodes = await zk.ranges(t.name);
  let spans = 0;
  for (const p of new Set([...commits.keys(), ...nodes.map((n) => n.partition)])) {
    const all = new Map<string, { start: bigint; end: bigint }>();
    for (const c of commits.get(p) ?? []) all.set(`${c.start}-${c.end}`, c);
    for (const n of nodes.filter((x) => x.partition === p)) all.set(`${n.start}-${n.end}`, n);
    checkTiling(0n, [...all.values()]);
    spans += all.size;
  }
  return spans;
}

/** Waits until `/sluice/leader` names `who` with an epoch above `epoch`; returns when (ms since epoch). */
async function waitLeader(who: SluiceProcess, epoch: number): Promise<{ at: number; epoch: number }> {
  return waitFor(
    `${who.name} to lead`,
    async () => {
      const l = await zk.leader();
      return l && l.record.id === idOf(who) && l.version > epoch
        ? { at: Date.now(), epoch: l.version }
        : false;
    },
    60_000,
    50,
  );
}

test('leader SIGKILLed, then the next leader SIGSTOPped: the standby takes over within the session timeout + ~2 s, plans nothing twice', async (t) => {
  masters.push(await cluster.startMaster());
  const first = (await waitLeader(masters[0]!, -1)).epoch;
  masters.push(await cluster.startMaster());
  await Promise.all([1, 2, 3].map(() => cluster.startWorker({ SLUICE_S3_ENDPOINT: proxy.endpoint })));
  const api = apiClient(masters[1]!.url, cluster.token);

  const produced = makeEvents(24_000, { startMs: Date.now() - 3600_000, spanMs: 3600_000, partitions: 4 });
  const producedPq = parquetEvents(8_000, 4, 61);
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
  const loadPq = steadyLoad(parquet.producer, parquet.name, producedPq.slice(1_000), 300);
  for (const t0 of [topic, parquet])
    await waitFor(
      `ranges of ${t0.name} committed`,
      async () => (await commitSpans(s3, bucket, prefix, t0.name)).size === 4,
    );

  // 1. SIGKILL the leader.
  const [m1, m2] = masters as [SluiceProcess, SluiceProcess];
  m1.child.kill('SIGKILL');
  const killedAt = Date.now();
  const second = await waitLeader(m2, first);
  const killTakeover = second.at - killedAt;
  const firstPlan = await waitFor(
    'the new leader to plan',
    async () => logLines(m2).find((l) => l.msg === 'planned' && Date.parse(l.time) >= killedAt),
    30_000,
    100,
  );
  t.diagnostic(
    `SIGKILL of the leader: ${m2.name} elected after ${killTakeover} ms (epoch ${first} -> ${second.epoch}), ` +
      `first range planned after ${Date.parse(firstPlan.time) - killedAt} ms (session timeout ${SESSION_MS} ms)`,
  );
  assert.ok(killTakeover < SESSION_MS + 3_000, `takeover took ${killTakeover} ms`);
  t.diagnostic(
    `no overlap after the first failover: ${await checkNoOverlap(topic)} ranges and commit records, ` +
      `Parquet ${await checkNoOverlap(parquet)}`,
  );

  // 2. A new standby; then SIGSTOP the leader for longer than its session, wake it after the takeover.
  const m3 = await cluster.startMaster();
  masters.push(m3);
  await new Promise((r) => setTimeout(r, 2_000));
  process.kill(m2.child.pid!, 'SIGSTOP');
  const stoppedAt = Date.now();
  const third = await waitLeader(m3, second.epoch);
  const stopTakeover = third.at - stoppedAt;
  await waitFor(
    'the new leader to plan',
    async () => logLines(m3).some((l) => l.msg === 'planned'),
    30_000,
    100,
  );
  await new Promise((r) => setTimeout(r, 1_500));
  process.kill(m2.child.pid!, 'SIGCONT');
  const wokeAt = Date.now();
  t.diagnostic(
    `SIGSTOP of the leader: ${m3.name} elected after ${stopTakeover} ms (epoch ${second.epoch} -> ${third.epoch}); ${m2.name} woken after ${wokeAt - stoppedAt} ms`,
  );
  assert.ok(stopTakeover < SESSION_MS + 3_000, `takeover took ${stopTakeover} ms`);

  // The woken master steps down: it no longer leads, says so, and stands again as a standby.
  const stepped = await waitFor(
    'the woken master to step down',
    async () => {
      const lines = logLines(m2).filter((l) => Date.parse(l.time) >= wokeAt - 100);
      const down = lines.find((l) =>
        ['leading stopped', 'leadership lost', 'zookeeper session lost'].includes(l.msg),
      );
      const standing = lines.find((l) => l.msg === 'standing for election');
      return down && standing ? lines : false;
    },
    30_000,
    200,
  );
  t.diagnostic(
    `woken old leader: ${stepped
      .filter((l) =>
        ['zookeeper session lost', 'leadership lost', 'leading stopped', 'standing for election'].includes(
          l.msg,
        ),
      )
      .map((l) => `${l.msg}${l.reason ? ` (${String(l.reason)})` : ''}`)
      .join('; ')}`,
  );
  const m2metrics = String((await apiClient(m2.url).get('/metrics')).body);
  assert.match(m2metrics, /^sluice_is_leader 0$/m, 'the woken master reports it does not lead');
  const view = (await apiClient(m2.url).get('/api/v1/status')).body as {
    master: { leader: boolean };
    leader: { id: string };
  };
  assert.equal(view.master.leader, false);
  assert.equal(view.leader.id, idOf(m3));

  await Promise.all([load.done, loadPq.done]);
  await verifyEnd({
    api: apiClient(m3.url, cluster.token),
    s3,
    admin: topic.admin,
    bucket,
    prefix,
    topic: topic.name,
    produced,
  });
  const endPq = await verifyEnd({
    api: apiClient(m3.url, cluster.token),
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

  // No master planned after another master was elected (two never planned at the same time).
  // A 'planned' line is written once ZooKeeper has answered the fenced write. The woken master
  // may log one just after SIGCONT for a write ZooKeeper took before the SIGSTOP (the answer
  // waited in its socket): its clock stamps the line late. Such a line is not a second leader
  // planning (once another master is elected, the stopped one's session is gone and ZooKeeper
  // refuses whatever it sends, until it is elected again), and it may not overlap a range the
  // new leader planned.
  const elected: Array<{ who: string; at: number }> = [];
  const planned: Array<{
    who: string;
    at: number;
    topic: string;
    partition: number;
    start: bigint;
    end: bigint;
  }> = [];
  for (const m of masters) {
    for (const l of logLines(m) as LogLine[]) {
      if (l.msg === 'elected leader') elected.push({ who: m.name, at: Date.parse(l.time) });
      if (l.msg === 'planned')
        planned.push({
          who: m.name,
          at: Date.parse(l.time),
          topic: String(l.topic),
          partition: Number(l.partition),
          start: BigInt(String(l.start)),
          end: BigInt(String(l.end)),
        });
    }
  }
  let stampedAfterWaking = 0;
  for (const p of planned) {
    const mine = elected.filter((e) => e.who === p.who && e.at <= p.at).map((e) => e.at);
    const since = Math.max(...mine);
    const other = elected.find((e) => e.who !== p.who && e.at > since && e.at < p.at);
    if (other && p.who === m2.name && p.at >= wokeAt) {
      const overlapping = planned.find(
        (q) =>
          q.who !== p.who &&
          q.topic === p.topic &&
          q.partition === p.partition &&
          q.start < p.end &&
          p.start < q.end,
      );
      assert.equal(
        overlapping,
        undefined,
        `${p.who}'s range ${p.topic}/${p.partition}/${p.start}-${p.end}, logged on waking, overlaps one ${overlapping?.who} planned`,
      );
      stampedAfterWaking++;
      continue;
    }
    assert.equal(
      other,
      undefined,
      `${p.who} planned at ${new Date(p.at).toISOString()} after ${other?.who} was elected`,
    );
  }
  if (stampedAfterWaking > 0)
    t.diagnostic(
      `${stampedAfterWaking} range(s) the stopped leader wrote before SIGSTOP were logged on waking`,
    );
  t.diagnostic(
    `${planned.length} ranges planned by ${new Set(planned.map((p) => p.who)).size} leaders in turn; ${elected.length} elections`,
  );
});
