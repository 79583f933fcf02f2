/**
 * Retention against Sluice (DESIGN.md, "Edges that a real Kafka has", and invariant 4):
 *
 *  - Kafka deletes the start of ranges that are planned but not yet read (the workers are not
 *    running yet; `deleteTopicRecords` moves the log start into the second range). Each range
 *    completes with its gap recorded (commit record, partition state, status, metrics), and
 *    the partition moves on to its high watermark without hanging.
 *  - A range whose first attempt wrote its objects and its commit record, but whose worker died
 *    before marking it done, is retried after retention deleted all its records. The retry
 *    finds the commit record and only reports it: the completed objects are never replaced by
 *    fewer records.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { apiClient } from '../helpers/api.ts';
import { changedObjects, snapshotObjects, verifyEnd } from '../helpers/end-check.ts';
import { FaultRun } from '../helpers/fault-run.ts';
import type { TestTopic } from '../helpers/kafka.ts';
import { produceAll } from '../helpers/load.ts';
import { logged } from '../helpers/process-log.ts';
import { type SluiceProcess, waitFor } from '../helpers/processes.ts';
import { makeEvents } from '../helpers/records.ts';
import { getText } from '../helpers/s3.ts';
import type { S3FaultProxy } from '../helpers/s3-fault-proxy.ts';
import type { ZkView } from '../helpers/zk-view.ts';

const run = new FaultRun({
  name: 'fault-retention',
  env: { SLUICE_ZK_SESSION_TIMEOUT_MS: '4000' },
  bucket: 'fault-retention',
});
const { s3, cluster, bucket } = run;
const prefix = 'retention';
let proxy: S3FaultProxy;
let zk: ZkView;
let topic: TestTopic;

before(async () => {
  proxy = await run.s3Proxy();
  zk = await run.zkView();
  topic = await run.topic('retention', 2);
});

const pad = (n: number) => String(n).padStart(20, '0');

interface Commit {
  attempt: number;
  worker: string;
  records: number;
  gaps: Array<{ start: string; end: string; cause: string }>;
  objects: Array<{ key: string; records: number }>;
}

test('retention deleted the start of planned ranges: gaps recorded, the partition moves on; a retry never rewrites a completed range with less', async (t) => {
  const all = makeEvents(5_000, { startMs: Date.now() - 3600_000, spanMs: 3600_000, partitions: 1 });
  // Partition 0 gets 3000 records, partition 1 gets 2000.
  const p0 = all.slice(0, 3_000).map((r) => ({ ...r, partition: 0 }));
  const p1 = all.slice(3_000).map((r) => ({ ...r, partition: 1 }));
  await produceAll(topic.producer, topic.name, [...p0, ...p1]);

  // Only the master: ranges are planned and enqueued, nobody reads them yet.
  const master = await cluster.startMaster();
  const api = apiClient(master.url, cluster.token);
  const res = await api.post('/api/v1/topics', {
    topic: topic.name,
    destination: { bucket, prefix },
    partitionBy: { kind: 'none' },
    maxRangeMessages: 1_000,
    flushIntervalMs: 500,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  await waitFor('all ranges planned', async () => (await zk.ranges(topic.name)).length === 5, 30_000, 200);

  // Retention takes the first 1500 offsets of partition 0: all of one planned range, half of the next.
  await topic.admin.fetchTopicMetadata({ topics: [topic.name] }); // kafkajs needs it to find the leader
  await topic.admin.deleteTopicRecords({ topic: topic.name, partitions: [{ partition: 0, offset: '1500' }] });

  // Partition 1's first range: its worker dies right after S3 stored the commit record, before ZooKeeper hears of it.
  const commitOfP1 = `${prefix}/${topic.name}/_sluice/commits/partition=1/${pad(0)}-${pad(1000)}.json`;
  let first: SluiceProcess | undefined;
  let started: () => void = () => {};
  const firstStarted = new Promise<void>((resolve) => {
    started = resolve;
  });
  let killed = false;
  proxy.rule = (r) => {
    if (!killed && r.op === 'PutObject' && r.key === commitOfP1) {
      killed = true;
      return {
        kind: 'pass',
        beforeRespond: async () => {
          await firstStarted; // it may take its first job before its start is confirmed
          first!.child.kill('SIGKILL');
          await first!.exited;
        },
      };
    }
    return { kind: 'pass' };
  };
  first = await cluster.startWorker({ SLUICE_S3_ENDPOINT: proxy.endpoint, SLUICE_WORKER_CONCURRENCY: '1' });
  started();
  await waitFor(
    'the first worker to die after its commit record',
    async () => first!.child.signalCode === 'SIGKILL',
    60_000,
    100,
  );
  const p1node = await zk.range(topic.name, 1, 0n, 1000n);
  assert.equal(p1node?.state, 'active', 'the range is not marked done: its worker died first');
  const p1objects = await snapshotObjects(s3, bucket, `${prefix}/${topic.name}/`).then(
    (m) => new Map([...m].filter(([k]) => k.includes(`-1-${pad(0)}-${pad(1000)}`) || k === commitOfP1)),
  );
  assert.equal(
    p1objects.size,
    2,
    `the range's object and its commit record: ${[...p1objects.keys()].join(', ')}`,
  );
  // Now retention takes every record of that range too.
  await topic.admin.deleteTopicRecords({ topic: topic.name, partitions: [{ partition: 1, offset: '1000' }] });

  const second = await cluster.startWorker();
  await verifyEnd({
    api,
    s3,
    admin: topic.admin,
    bucket,
    prefix,
    topic: topic.name,
    // Partition 1's first 1000 records were copied before retention deleted them.
    produced: [...p0.slice(1_500), ...p1],
    logStartOffsets: new Map([[0, 1_500n]]),
  });

  // The retry recognised the commit record; the objects are as the first attempt wrote them.
  const p1after = new Map(
    [...(await snapshotObjects(s3, bucket, `${prefix}/${topic.name}/`))].filter(([k]) => p1objects.has(k)),
  );
  assert.deepEqual(changedObjects(p1objects, p1after), [], 'the completed range was not rewritten');
  const p1commit = JSON.parse(await getText(s3, bucket, commitOfP1)) as Commit;
  assert.equal(p1commit.records, 1_000);
  assert.equal(p1commit.attempt, 1);
  assert.deepEqual(p1commit.gaps, []);
  const recognised = logged(second, ['range already committed']).filter(
    (l) => l.range === `${topic.name}-1-0-1000`,
  );
  assert.equal(recognised.length, 1, 'the retry found the commit record and only reported it');

  // Partition 0: the gaps are in the commit records, the partition state, the status and the metrics.
  const c0 = JSON.parse(
    await getText(
      s3,
      bucket,
      `${prefix}/${topic.name}/_sluice/commits/partition=0/${pad(0)}-${pad(1000)}.json`,
    ),
  ) as Commit;
  const c1 = JSON.parse(
    await getText(
      s3,
      bucket,
      `${prefix}/${topic.name}/_sluice/commits/partition=0/${pad(1000)}-${pad(2000)}.json`,
    ),
  ) as Commit;
  assert.deepEqual(c0.gaps, [{ start: '0', end: '1000', cause: 'retention' }]);
  assert.equal(c0.records, 0);
  assert.deepEqual(c0.objects, []);
  assert.deepEqual(c1.gaps, [{ start: '1000', end: '1500', cause: 'retention' }]);
  assert.equal(c1.records, 500);
  assert.equal((await zk.partitionState(topic.name, 0))?.gapOffsets, '1500');
  assert.equal((await zk.partitionState(topic.name, 1))?.gapOffsets, '0');
  const status = (await api.get('/api/v1/status')).body as {
    gaps: Array<{ topic: string; partition: number; lostOffsets: string }>;
  };
  assert.deepEqual(
    status.gaps.filter((g) => g.topic === topic.name).map((g) => [g.partition, g.lostOffsets]),
    [[0, '1500']],
    'the status lists the gap',
  );
  const metrics = String((await api.get('/metrics')).body);
  assert.match(metrics, new RegExp(`sluice_gaps_offsets_total\\{topic="${topic.name}"\\} 1500`));
  t.diagnostic(
    `partition 0: gaps [0,1000) and [1000,1500) recorded, 1500 offsets lost, committed to its high watermark; ` +
      `partition 1: the retry after retention found the commit record (attempt 1, 1000 records) and rewrote nothing`,
  );
});
