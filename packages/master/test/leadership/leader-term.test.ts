/**
 * The leader's passes against the real ZooKeeper, with Kafka and the queue stood in for (their
 * own tests use the real ones): planning, tracking, stopping a re-created topic, removing a
 * deleted one, and every requeue reason of the supervisor.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AbandonedRecord,
  abandonedPath,
  abandonedTopicPath,
  decodeJson,
  encodeJson,
  type PartitionState,
  partitionPath,
  type RangeRecord,
  RETRIES_PATH,
  rangeId,
  rangeNodeName,
  rangePath,
  type TopicRecord,
  topicPath,
  workerPath,
  type ZkSession,
} from '@sluice/shared';
import { eventually, rangeResult, topicRecord, workerRegistration } from '@sluice/test-kit';
import { leaderTerm } from '../helpers/leader-fixture.ts';

async function readJson<T>(s: ZkSession, path: string): Promise<T> {
  return decodeJson<T>((await s.get(path))?.data, path);
}

async function ranges(s: ZkSession, topic: string, partition: number): Promise<string[]> {
  return (await s.children(partitionPath(topic, partition))).sort();
}

/** What a worker would write: the range's current record changed by `fn`. */
async function work(
  s: ZkSession,
  topic: string,
  partition: number,
  start: bigint,
  end: bigint,
  fn: (r: RangeRecord) => RangeRecord,
) {
  const path = rangePath({ topic, partition, start, end });
  const node = await s.get(path);
  await s.set(path, encodeJson(fn(decodeJson<RangeRecord>(node?.data, path))), node!.version);
}

/** A worker registered (ephemeral node) since a minute ago, on a session of its own. */
async function liveWorker(zk: { session(): Promise<ZkSession> }, id: string) {
  const session = await zk.session();
  const reg = workerRegistration(id, new Date(Date.now() - 60_000).toISOString());
  await session.create(workerPath(id), encodeJson(reg), { ephemeral: true });
  return { session, reg };
}

function done(r: RangeRecord): RangeRecord {
  const records = Number(BigInt(r.end) - BigInt(r.start));
  return {
    ...r,
    state: 'done',
    result: rangeResult(records, 100, {
      attempt: r.attempt,
      worker: 'w',
      objectBytes: 10,
      minTimestamp: 1,
      maxTimestamp: 2,
    }),
  };
}

test('plans a registered topic: partition state, then range nodes, then jobs', async (t) => {
  const { s, kafka, queue, term, metrics } = await leaderTerm(t, 'plan');
  await s.create(topicPath('orders'), encodeJson(topicRecord('orders')));
  kafka.set('orders', 'id-1', [
    [0, 0n, 250n],
    [1, 10n, 10n],
  ]);
  await term.tick();

  const p1 = await readJson<PartitionState>(s, partitionPath('orders', 1));
  assert.equal(p1.committedOffset, '10', 'startFrom earliest starts at the log start');
  assert.deepEqual(await ranges(s, 'orders', 0), [
    rangeNodeName({ start: 0n, end: 100n }),
    rangeNodeName({ start: 100n, end: 200n }),
  ]);
  const rec = await readJson<RangeRecord>(
    s,
    rangePath({ topic: 'orders', partition: 0, start: 0n, end: 100n }),
  );
  assert.equal(rec.attempt, 1);
  assert.equal(rec.state, 'planned');
  assert.equal(rec.topicId, 'id-1');
  assert.deepEqual(rec.output.destination, { bucket: 'bucket-a', prefix: 'raw' });

  const job = queue.jobs.get('orders-0-0-100-a1');
  assert.ok(job, `jobs: ${[...queue.jobs.keys()]}`);
  assert.equal(job.name, 'range');
  assert.deepEqual(
    { ...job.opts, priority: undefined },
    {
      jobId: 'orders-0-0-100-a1',
      attempts: 3,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: true,
      removeOnFail: true,
      priority: undefined,
    },
  );
  assert.ok(job.opts.priority >= 1);
  assert.equal(job.data.start, '0');
  assert.equal(job.data.attempt, 1);

  // The short remainder goes once it has waited the flush interval (100 ms).
  await new Promise((r) => setTimeout(r, 150));
  await term.tick();
  assert.ok((await ranges(s, 'orders', 0)).includes(rangeNodeName({ start: 200n, end: 250n })));
  assert.equal(queue.jobs.size, 3);

  // Workers finish the first two: the tracker commits, the planner goes on.
  for (const [a, b] of [
    [0n, 100n],
    [100n, 200n],
  ] as const)
    await work(s, 'orders', 0, a, b, done);
  kafka.set('orders', 'id-1', [
    [0, 0n, 400n],
    [1, 10n, 10n],
  ]);
  await term.tick();
  const p0 = await readJson<PartitionState>(s, partitionPath('orders', 0));
  assert.equal(p0.committedOffset, '200');
  assert.deepEqual(await ranges(s, 'orders', 0), [
    rangeNodeName({ start: 200n, end: 250n }),
    rangeNodeName({ start: 250n, end: 350n }),
  ]);
  const text = await metrics.registry.metrics();
  assert.match(text, /sluice_partition_committed_offset\{topic="orders",partition="0"\} 200/);
  assert.match(text, /sluice_ranges_planned_total\{topic="orders",reason="full"\} 3/);
  // What the alerting rules read: every pass timed, the interval it is held to, the topic's
  // flush interval (the yardstick of its lag in time).
  assert.match(text, /^sluice_leader_pass_duration_seconds_count 3$/m);
  assert.match(text, /^sluice_topic_flush_interval_seconds\{topic="orders"\} 0\.1$/m);
});

test('the ranges gauge counts each registered topic by state, zero included, and drops a topic gone', async (t) => {
  const { s, kafka, term, metrics } = await leaderTerm(t, 'range-states');
  await s.create(topicPath('orders'), encodeJson(topicRecord('orders')));
  await s.create(topicPath('clicks'), encodeJson(topicRecord('clicks', { paused: true })));
  kafka.set('orders', 'id-1', [[0, 0n, 250n]]);
  await term.tick();
  await work(s, 'orders', 0, 0n, 100n, done);
  await term.supervisor.sweep();
  let text = await metrics.registry.metrics();
  assert.match(text, /^sluice_ranges\{topic="orders",state="planned"\} 1$/m);
  assert.match(text, /^sluice_ranges\{topic="orders",state="done"\} 1$/m);
  assert.match(text, /^sluice_ranges\{topic="clicks",state="failed"\} 0$/m, 'a topic with nothing in flight');
  assert.match(text, /^sluice_live_workers 0$/m);
  assert.doesNotMatch(
    text,
    /sluice_topic_flush_interval_seconds\{topic="clicks"\}/,
    'a paused topic is not expected to move',
  );

  await s.removeRecursive(topicPath('clicks'));
  await term.tick();
  await term.supervisor.sweep();
  text = await metrics.registry.metrics();
  assert.doesNotMatch(text, /^sluice_ranges\{topic="clicks"/m);
});

test('a partition added later starts at its log start; a "latest" topic starts at the last stable offset', async (t) => {
  const { s, kafka, term } = await leaderTerm(t, 'partitions');
  await s.create(topicPath('clicks'), encodeJson(topicRecord('clicks', { startFrom: 'latest' })));
  kafka.set('clicks', 'id-1', [[0, 0n, 1_000n]]);
  await term.tick();
  assert.equal((await readJson<PartitionState>(s, partitionPath('clicks', 0))).committedOffset, '1000');
  assert.deepEqual(await ranges(s, 'clicks', 0), []);

  kafka.set('clicks', 'id-1', [
    [0, 0n, 1_000n],
    [1, 3n, 50n],
  ]);
  await term.tick();
  assert.equal((await readJson<PartitionState>(s, partitionPath('clicks', 1))).committedOffset, '3');
});

test('a re-created topic is stopped with an error naming both ids and the fix; nothing more is planned', async (t) => {
  const { s, kafka, queue, term } = await leaderTerm(t, 'recreated');
  await s.create(topicPath('orders'), encodeJson(topicRecord('orders')));
  kafka.set('orders', 'id-1', [[0, 0n, 100n]]);
  await term.tick();
  assert.equal(queue.jobs.size, 1);

  kafka.set('orders', 'id-2', [[0, 0n, 500n]]);
  await term.tick();
  const rec = await readJson<TopicRecord>(s, topicPath('orders'));
  assert.equal(rec.state, 'stopped');
  assert.match(rec.error ?? '', /SLUICE_ERR_TOPIC_RECREATED/);
  assert.match(rec.error ?? '', /id-1/);
  assert.match(rec.error ?? '', /id-2/);
  assert.match(rec.error ?? '', /register it again/);
  await term.tick();
  assert.equal(queue.jobs.size, 1, 'nothing more planned');

  // A topic Kafka no longer has at all is stopped too.
  await s.create(topicPath('gone'), encodeJson(topicRecord('gone')));
  await term.tick();
  const gone = await readJson<TopicRecord>(s, topicPath('gone'));
  assert.equal(gone.state, 'stopped');
  assert.match(gone.error ?? '', /no longer exists in Kafka/);
});

test('paused topics are not planned; a deleting topic is removed once its ranges are committed', async (t) => {
  const { s, kafka, queue, term } = await leaderTerm(t, 'delete');
  await s.create(topicPath('orders'), encodeJson(topicRecord('orders', { paused: true })));
  kafka.set('orders', 'id-1', [[0, 0n, 100n]]);
  await term.tick();
  assert.equal(queue.jobs.size, 0);
  assert.equal(await s.exists(partitionPath('orders', 0)), false);

  const node = await s.get(topicPath('orders'));
  await s.set(topicPath('orders'), encodeJson(topicRecord('orders')), node!.version);
  await term.tick();
  assert.equal(queue.jobs.size, 1);

  const n2 = await s.get(topicPath('orders'));
  await s.set(topicPath('orders'), encodeJson(topicRecord('orders', { state: 'deleting' })), n2!.version);
  kafka.set('orders', 'id-1', [[0, 0n, 900n]]);
  await term.tick();
  assert.equal(await s.exists(topicPath('orders')), true, 'kept while a range is in flight');
  assert.equal(queue.jobs.size, 1, 'a deleting topic is not planned');

  await work(s, 'orders', 0, 0n, 100n, done);
  await term.tick();
  assert.equal(await s.exists(topicPath('orders')), false);
});

test('the supervisor requeues ranges of a lost worker, stalled and failed ranges, operator requests and lost jobs', async (t) => {
  const { zk, s, kafka, queue, term, metrics } = await leaderTerm(t, 'supervise');
  await s.create(topicPath('orders'), encodeJson(topicRecord('orders')));
  kafka.set('orders', 'id-1', [[0, 0n, 400n]]);
  await term.start();
  assert.equal(queue.jobs.size, 4);
  const at = (start: bigint) => ({ topic: 'orders', partition: 0, start, end: start + 100n });
  const record = (start: bigint) => readJson<RangeRecord>(s, rangePath(at(start)));

  // A worker registers, starts [0,100), and dies.
  const { session: ws, reg } = await liveWorker(zk, 'w1');
  const active = (r: RangeRecord): RangeRecord => {
    const now = new Date().toISOString();
    return { ...r, state: 'active', worker: 'w1', startedAt: now, progressAt: now, updatedAt: now };
  };
  await work(s, 'orders', 0, 0n, 100n, active);
  await work(s, 'orders', 0, 100n, 200n, active);
  await term.supervisor.sweep();
  assert.equal((await record(0n)).attempt, 1, 'a live worker keeps its range');
  assert.match(await metrics.registry.metrics(), /^sluice_live_workers 1$/m);

  await ws.close();
  // The range's node is written first, its job enqueued after (ZooKeeper is the truth): wait for both.
  const lost = await eventually(
    async () => {
      const r = await record(0n);
      return r.attempt === 2 && queue.jobs.has(`${rangeId(at(0n))}-a2`) ? r : null;
    },
    10_000,
    'the watch to requeue the lost worker’s range and enqueue its new attempt',
  );
  assert.equal(lost.state, 'planned');
  assert.equal(lost.requeueReason, 'worker-lost');
  assert.equal(lost.worker, null);
  assert.ok(!queue.jobs.has(`${rangeId(at(0n))}-a1`), 'the superseded job left the queue');
  assert.equal((await record(100n)).requeueReason, 'worker-lost');

  // Stalled: active, no progress for longer than the stall timeout (1 s).
  await work(s, 'orders', 0, 200n, 300n, (r) => ({
    ...active(r),
    worker: 'w-alive',
    progressAt: new Date(Date.now() - 5_000).toISOString(),
  }));
  const alive = await zk.session();
  await alive.create(workerPath('w-alive'), encodeJson({ ...reg, id: 'w-alive' }), { ephemeral: true });
  // Failed: after the backoff for one failure (5 s) since its last update.
  await work(s, 'orders', 0, 300n, 400n, (r) => ({
    ...r,
    state: 'failed',
    failures: 1,
    error: 'boom',
    updatedAt: new Date(Date.now() - 6_000).toISOString(),
  }));
  await term.supervisor.sweep();
  assert.equal((await record(200n)).requeueReason, 'stalled');
  assert.equal((await record(300n)).requeueReason, 'failed');
  assert.equal((await record(300n)).failures, 1, 'failures are kept for the next backoff');

  // Operator: POST /ranges/{id}/retry creates a request node.
  await s.create(`${RETRIES_PATH}/${rangeId(at(0n))}`);
  await eventually(async () => (await record(0n)).attempt === 3, 10_000, 'the operator retry');
  assert.equal((await record(0n)).requeueReason, 'operator');
  await eventually(async () => (await s.children(RETRIES_PATH)).length === 0, 5_000, 'the request to go');
  assert.ok(!queue.jobs.has(`${rangeId(at(0n))}-a2`), 'the superseded job left the queue');
  // A request naming an attempt already superseded is dropped: a burst of requests made
  // against attempt 2 makes one new attempt, not one each.
  const stale = { v: 1, rangeId: rangeId(at(0n)), requestedAt: new Date().toISOString(), attempt: 2 };
  await s.create(`${RETRIES_PATH}/${rangeId(at(0n))}`, encodeJson(stale));
  await eventually(
    async () => (await s.children(RETRIES_PATH)).length === 0,
    5_000,
    'the stale request to go',
  );
  assert.equal((await record(0n)).attempt, 3, 'a request for attempt 2 does not requeue attempt 3');

  // Redis lost everything: every planned or active range is requeued.
  queue.jobs.clear();
  await term.supervisor.reconcile();
  for (const start of [0n, 100n, 200n, 300n]) {
    const r = await record(start);
    assert.equal(r.requeueReason, 'queue-lost');
    assert.ok(queue.jobs.has(`${rangeId(at(start))}-a${r.attempt}`));
  }
  // A done range is never requeued.
  await work(s, 'orders', 0, 0n, 100n, done);
  queue.jobs.clear();
  await term.supervisor.reconcile();
  assert.equal((await record(0n)).state, 'done');
  const text = await metrics.registry.metrics();
  assert.match(text, /sluice_requeues_total\{topic="orders",reason="worker-lost"\} 2/);
  assert.match(text, /sluice_requeues_total\{topic="orders",reason="queue-lost"\} 7/);
});

/** Rewrites the stored topic record (what PATCH and DELETE do through the API). */
async function setTopic(s: ZkSession, topic: string, fn: (r: TopicRecord) => TopicRecord): Promise<void> {
  const node = await s.get(topicPath(topic));
  await s.set(
    topicPath(topic),
    encodeJson(fn(decodeJson<TopicRecord>(node?.data, topicPath(topic)))),
    node!.version,
  );
}

test('after a destination change, ranges that never wrote follow it under a new attempt; the others keep theirs', async (t) => {
  const { zk, s, kafka, queue, term } = await leaderTerm(t, 'follow');
  await s.create(topicPath('orders'), encodeJson(topicRecord('orders')));
  kafka.set('orders', 'id-1', [[0, 0n, 400n]]);
  await term.tick();
  assert.equal(queue.jobs.size, 4);
  const at = (start: bigint) => ({ topic: 'orders', partition: 0, start, end: start + 100n });
  const record = (start: bigint) => readJson<RangeRecord>(s, rangePath(at(start)));

  // [0,100) failed at once against the missing bucket; [100,200) waits, planned;
  // [200,300) is being worked by a live worker; [300,400) recorded a key before failing.
  const failedAt = new Date().toISOString();
  await work(s, 'orders', 0, 0n, 100n, (r) => ({
    ...r,
    state: 'failed',
    failures: 3,
    error: 'NoSuchBucket',
    updatedAt: failedAt,
  }));
  const { session: ws } = await liveWorker(zk, 'w1');
  const now = new Date().toISOString();
  await work(s, 'orders', 0, 200n, 300n, (r) => ({
    ...r,
    state: 'active',
    worker: 'w1',
    startedAt: now,
    progressAt: now,
  }));
  const key = 'raw/orders/dt=2026-01-01/hr=00/orders-0-00000000000000000300-00000000000000000400.jsonl.gz';
  await work(s, 'orders', 0, 300n, 400n, (r) => ({
    ...r,
    state: 'failed',
    failures: 1,
    keys: [key],
    updatedAt: failedAt,
  }));

  await setTopic(s, 'orders', (r) => ({ ...r, destination: { bucket: 'bucket-b', prefix: 'raw' } }));
  await term.tick();
  await term.supervisor.sweep();

  for (const start of [0n, 100n]) {
    const r = await record(start);
    assert.equal(r.attempt, 2, `[${start}, ${start + 100n}) has a new attempt`);
    assert.equal(r.state, 'planned');
    assert.equal(r.output.destination.bucket, 'bucket-b');
    assert.equal(r.requeueReason, 'destination-changed');
    assert.equal(r.failures, 0);
    const id = `orders-0-${start}-${start + 100n}`;
    assert.equal(queue.jobs.has(`${id}-a1`), false, 'the superseded job is removed');
    assert.equal(
      queue.jobs.get(`${id}-a2`)?.data.output.destination.bucket,
      'bucket-b',
      'the new job carries the new bucket',
    );
  }
  for (const start of [200n, 300n]) {
    const r = await record(start);
    assert.equal(r.attempt, 1, `[${start}, ${start + 100n}) may have written: same attempt`);
    assert.equal(r.output.destination.bucket, 'bucket-a', 'and the old snapshot');
  }
  await ws.close();
});

test('a forced DELETE abandons the unfinished ranges, records exactly their offsets, removes their jobs and the topic', async (t) => {
  const { s, kafka, queue, term } = await leaderTerm(t, 'force');
  await s.create(topicPath('orders'), encodeJson(topicRecord('orders')));
  kafka.set('orders', 'id-1', [[0, 0n, 400n]]);
  await term.tick();
  // [0,100) done and committed; [100,200) failing; [200,300) recorded a key; [300,400) done above the hole.
  await work(s, 'orders', 0, 0n, 100n, done);
  await work(s, 'orders', 0, 100n, 200n, (r) => ({
    ...r,
    state: 'failed',
    failures: 2,
    error: 'NoSuchBucket: the bucket does not exist',
  }));
  const key = 'raw/orders/x/orders-0-00000000000000000200-00000000000000000300.jsonl.gz';
  await work(s, 'orders', 0, 200n, 300n, (r) => ({ ...r, keys: [key] }));
  await work(s, 'orders', 0, 300n, 400n, done);
  await setTopic(s, 'orders', (r) => ({ ...r, state: 'deleting' }));
  await term.tick();
  assert.equal(await s.exists(topicPath('orders')), true, 'a plain DELETE waits for the ranges in flight');
  assert.equal(await s.exists(abandonedTopicPath('orders')), false);

  const forcedAt = new Date().toISOString();
  await setTopic(s, 'orders', (r) => ({ ...r, forcedAt }));
  await term.tick();
  assert.equal(await s.exists(topicPath('orders')), false, 'the forced DELETE removed the topic at once');
  const names = await s.children(abandonedTopicPath('orders'));
  assert.equal(names.length, 1);
  const rec = await readJson<AbandonedRecord>(s, abandonedPath('orders', names[0]!));
  assert.deepEqual(
    rec.ranges.map((r) => [r.partition, r.start, r.end, r.state, r.error, r.keys]),
    [
      [0, '100', '200', 'failed', 'NoSuchBucket: the bucket does not exist', []],
      [0, '200', '300', 'planned', null, [key]],
    ],
    'exactly the unfinished ranges: not the committed one, not the one done above the hole',
  );
  assert.deepEqual(rec.destination, { bucket: 'bucket-a', prefix: 'raw' });
  assert.match(rec.reason, /force=true/);
  assert.deepEqual(
    [...queue.jobs.keys()].filter((id) => id.startsWith('orders-0-100-') || id.startsWith('orders-0-200-')),
    [],
    'the abandoned attempts’ jobs are gone',
  );
});
