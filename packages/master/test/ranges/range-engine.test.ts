/**
 * One range engine: a supervision rule applies to a replay's line exactly as to a topic
 * partition's. The two fixes of invariant 7 that once went into the topic supervisor only (a
 * worker that registered again; a planned job held by a worker that left) are run here on
 * both kinds of line side by side, against the real ZooKeeper (a fake queue stands in for
 * BullMQ, the test plays the workers).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeJson,
  encodeJson,
  type RangeRecord,
  rangePath,
  replayRangePath,
  topicPath,
  workerPath,
  type ZkSession,
} from '@sluice/shared';
import { topicRecord, workerRegistration } from '@sluice/test-kit';
import { jobOptionsOf } from '../../src/ranges/range-enqueuer.ts';
import {
  lineJobData,
  linePriority,
  lineRangePath,
  REPLAY_PRIORITY,
  RETRY_PRIORITY,
  replayLine,
  topicLine,
} from '../../src/ranges/range-line.ts';
import { createReplay } from '../../src/stores/replay-store.ts';
import { leaderTerm, replayRecord } from '../helpers/leader-fixture.ts';

async function read(s: ZkSession, path: string): Promise<RangeRecord> {
  return decodeJson<RangeRecord>((await s.get(path))?.data, path);
}

async function change(s: ZkSession, path: string, fn: (r: RangeRecord) => RangeRecord): Promise<void> {
  const node = await s.get(path);
  await s.set(path, encodeJson(fn(decodeJson<RangeRecord>(node?.data, path))), node!.version);
}

test('a line describes the nodes, job ids, payloads and priorities a running installation already has', () => {
  const topic = topicLine('clicks', 3);
  const replay = replayLine('r-x-1', 'clicks', 3, 500n);
  const span = { start: 100n, end: 200n };
  const range = { topic: 'clicks', partition: 3, ...span };
  assert.equal(lineRangePath(topic, span), rangePath(range));
  assert.equal(lineRangePath(replay, span), replayRangePath('r-x-1', range));
  assert.equal(topic.statePath, '/sluice/topics/clicks/partitions/3');
  assert.equal(replay.statePath, '/sluice/replays/r-x-1/partitions/3');
  const rec = { topic: 'clicks', partition: 3, start: '100', end: '200', attempt: 2 } as RangeRecord;
  assert.equal(jobOptionsOf(lineJobData(topic, rec), 1).jobId, 'clicks-3-100-200-a2');
  assert.equal(jobOptionsOf(lineJobData(replay, rec), 1).jobId, 'r-x-1-clicks-3-100-200-a2');
  assert.equal('replay' in lineJobData(topic, rec), false, 'a topic job payload has no replay field');
  assert.equal(lineJobData(replay, rec).replay, 'r-x-1');
  assert.ok(REPLAY_PRIORITY > 1_000, 'replays run after the topics');
});

test('a retried attempt runs before every new range of its kind; replays stay behind the topics', () => {
  const topic = topicLine('clicks', 3);
  const replay = replayLine('r-x-1', 'clicks', 3, 500n);
  const retried = linePriority(topic, 50, 2);
  for (const inFlight of [0, 1, 50, 100_000])
    assert.ok(retried < linePriority(topic, inFlight, 1), `${inFlight}`);
  assert.ok(
    linePriority(topic, 100_000, 1) < linePriority(replay, 0, 2),
    'a retried replay range after new topic ranges',
  );
  assert.ok(
    linePriority(replay, 0, 2) < linePriority(replay, 0, 1),
    'a retried replay range before new replay ranges',
  );
});

test('supervision requeues a replay range exactly like a topic range when its worker registered again or left holding its job', async (t) => {
  const { zk, s, kafka, queue, term } = await leaderTerm(t, 'engine');
  const topic = topicRecord('clicks');
  await s.create(topicPath('clicks'), encodeJson(topic));
  kafka.set('clicks', 'id-1', [[0, 0n, 400n]]);
  const replay = replayRecord('r-engine-1');
  await createReplay(s, replay);
  const replays = term.integrity.replays;
  const supervise = async () => {
    await term.supervisor.sweep();
    await replays.pass();
  };

  // Both lines planned: the topic's from 0, the replay's window from 50.
  await term.tick();
  await supervise();
  const topicLine0 = topicLine('clicks', 0);
  const replayLine0 = replayLine('r-engine-1', 'clicks', 0, 350n);
  const activeOn = {
    topic: lineRangePath(topicLine0, { start: 0n, end: 100n }),
    replay: lineRangePath(replayLine0, { start: 50n, end: 150n }),
  };
  const heldBy = {
    topic: lineRangePath(topicLine0, { start: 100n, end: 200n }),
    replay: lineRangePath(replayLine0, { start: 150n, end: 250n }),
  };
  for (const p of [...Object.values(activeOn), ...Object.values(heldBy)]) {
    assert.equal((await read(s, p)).attempt, 1, `${p} planned`);
  }

  // w1 started a range on each line, lost its session and registered again since.
  const startedAt = new Date(Date.now() - 10_000).toISOString();
  const registration = workerRegistration;
  const w1 = await zk.session();
  await w1.create(workerPath('w1'), encodeJson(registration('w1', new Date().toISOString())), {
    ephemeral: true,
  });
  for (const p of Object.values(activeOn)) {
    await change(s, p, (r) => ({
      ...r,
      state: 'active',
      worker: 'w1',
      startedAt,
      progressAt: new Date().toISOString(),
    }));
  }
  // w2 took the job of a planned range on each line and has not started it.
  const w2 = await zk.session();
  await w2.create(workerPath('w2'), encodeJson(registration('w2', startedAt)), { ephemeral: true });
  for (const p of Object.values(heldBy)) {
    const rec = await read(s, p);
    const line = p === heldBy.topic ? topicLine0 : replayLine0;
    const job = queue.jobs.get(jobOptionsOf(lineJobData(line, rec), 1).jobId);
    assert.ok(job, `the job of ${p} is queued`);
    Object.assign(job, { processedBy: 'w2', isActive: async () => true });
  }

  await supervise();
  for (const [what, p] of Object.entries(activeOn)) {
    const r = await read(s, p);
    assert.deepEqual(
      [r.attempt, r.requeueReason, r.state],
      [2, 'worker-lost', 'planned'],
      `${what}: w1 registered again`,
    );
  }
  for (const [what, p] of Object.entries(heldBy)) {
    assert.equal((await read(s, p)).attempt, 1, `${what}: w2 is still registered`);
  }

  // w2 leaves, still holding both jobs.
  await w2.close();
  await supervise();
  for (const [what, p] of Object.entries(heldBy)) {
    const r = await read(s, p);
    assert.deepEqual([r.attempt, r.requeueReason], [2, 'worker-lost'], `${what}: w2 left holding the job`);
  }

  // The new attempts are enqueued on their own lines: same ids, payloads and priorities as ever.
  for (const [line, p] of [
    [topicLine0, activeOn.topic],
    [replayLine0, activeOn.replay],
    [topicLine0, heldBy.topic],
    [replayLine0, heldBy.replay],
  ] as const) {
    const data = lineJobData(line, await read(s, p));
    const job = queue.jobs.get(jobOptionsOf(data, 1).jobId);
    assert.ok(job, `${p}: attempt 2 is enqueued`);
    assert.deepEqual(job.data, data);
    // A retried attempt goes first within its kind: before new topic ranges, or new replay ranges.
    if (line.replay) assert.equal(job.opts.priority, REPLAY_PRIORITY - 1);
    else assert.equal(job.opts.priority, RETRY_PRIORITY);
  }
  await w1.close();
});
