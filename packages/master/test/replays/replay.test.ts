/**
 * Replays: the pure rules (window resolution, destinations, commit arithmetic, registration
 * estimates) and the leader's replay runner against the real ZooKeeper (a fake queue stands in
 * for BullMQ, the test plays the workers).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeJson,
  encodeJson,
  type RangeRecord,
  rangeJobNodePath,
  replayPartitionPath,
  replayPath,
  TOPIC_DEFAULTS,
  type TopicConfig,
  type ZkSession,
} from '@sluice/shared';
import { topicRecord } from '@sluice/test-kit';
import type { SampledRecord } from '../../src/kafka/kafka-sample.ts';
import { REPLAY_PRIORITY } from '../../src/ranges/range-line.ts';
import {
  type ReplayPartitionState,
  type ReplayRecord,
  resolveWindow,
} from '../../src/replays/replay-record.ts';
import { commitReplayPartition } from '../../src/replays/replay-runner.ts';
import { createReplay } from '../../src/stores/replay-store.ts';
import { destinationConflict } from '../../src/topics/output-folders.ts';
import { estimateRegistration } from '../../src/topics/registration-estimate.ts';
import { leaderTerm, replayRecord } from '../helpers/leader-fixture.ts';

const W = { partition: null, fromOffset: null, toOffset: null, fromTimestamp: null, toTimestamp: null };

describe('replay rules', () => {
  test('an offset window is clipped to what Kafka has, and says so', () => {
    const bounds = [
      { partition: 1, earliest: 50n, lastStable: 500n },
      { partition: 0, earliest: 0n, lastStable: 80n },
    ];
    const r = resolveWindow({ ...W, fromOffset: '10', toOffset: '100' }, bounds);
    assert.deepEqual(r.partitions, [
      { partition: 0, start: '10', end: '80' },
      { partition: 1, start: '50', end: '100' },
    ]);
    assert.equal(r.notes.length, 2);
    assert.match(r.notes[0]!, /partition 0: the window ends at 100, Kafka can give up to 80/);
    assert.match(r.notes[1]!, /partition 1: offsets 10 to 50 are deleted/);
    assert.deepEqual(resolveWindow({ ...W, partition: 1 }, bounds).partitions, [
      { partition: 1, start: '50', end: '500' },
    ]);
    assert.deepEqual(resolveWindow({ ...W, fromOffset: '600' }, bounds).partitions[1], {
      partition: 1,
      start: '500',
      end: '500',
    });
  });

  test('a time window is the offsets Kafka finds for its times', () => {
    const bounds = [
      { partition: 0, earliest: 0n, lastStable: 100n, atFrom: 20n, atTo: 70n },
      { partition: 1, earliest: 0n, lastStable: 100n, atFrom: null, atTo: null },
    ];
    assert.deepEqual(resolveWindow({ ...W, fromTimestamp: 1, toTimestamp: 2 }, bounds).partitions, [
      { partition: 0, start: '20', end: '70' },
      { partition: 1, start: '100', end: '100' },
    ]);
  });

  test('a destination inside or holding another writer’s folder is refused', () => {
    const others = [{ what: 'topic "clicks"', bucket: 'lake', root: 'raw/clicks/' }];
    assert.match(
      destinationConflict({ what: 'r', bucket: 'lake', root: 'raw/clicks/' }, others)!,
      /inside the folder of topic "clicks"/,
    );
    assert.match(
      destinationConflict({ what: 'r', bucket: 'lake', root: 'raw/clicks/x/clicks/' }, others)!,
      /inside/,
    );
    assert.match(
      destinationConflict({ what: 'r', bucket: 'lake', root: 'raw/' }, others)!,
      /holds the folder/,
    );
    assert.equal(destinationConflict({ what: 'r', bucket: 'lake', root: 'replays/clicks/' }, others), null);
    assert.equal(destinationConflict({ what: 'r', bucket: 'other', root: 'raw/clicks/' }, others), null);
    assert.equal(destinationConflict({ what: 'r', bucket: 'lake', root: 'raw/clicks2/' }, others), null);
  });

  test('committing replay ranges adds their records, bytes and gaps', () => {
    const state: ReplayPartitionState = {
      v: 1,
      partition: 0,
      start: '0',
      end: '300',
      committedOffset: '0',
      committedRecords: 0,
      committedBytes: 0,
      committedRanges: 0,
      gapOffsets: '0',
      updatedAt: 'x',
    };
    const result = (
      records: number,
      gaps: RangeRecord['result'] extends infer R ? (R extends { gaps: infer G } ? G : never) : never,
    ) => ({ records, objectBytes: records * 10, gaps }) as unknown as RangeRecord['result'];
    const next = commitReplayPartition(
      state,
      200n,
      [
        { result: result(90, [{ start: '0', end: '10', cause: 'retention' }]) } as RangeRecord,
        { result: result(100, []) } as RangeRecord,
      ],
      'now',
    );
    assert.deepEqual(
      [
        next.committedOffset,
        next.committedRecords,
        next.committedBytes,
        next.committedRanges,
        next.gapOffsets,
      ],
      ['200', 190, 1900, 2, '10'],
    );
  });

  test('a registration estimate: backlog, ranges, objects across hour boundaries, first keys', () => {
    const cfg: TopicConfig = {
      ...TOPIC_DEFAULTS,
      topic: 'clicks',
      destination: { bucket: 'lake', prefix: 'raw' },
      maxRangeMessages: 1000,
    };
    const h = Date.UTC(2026, 10, 25, 8, 30);
    const rec = (offset: bigint, timestamp: number): SampledRecord => ({
      offset,
      timestamp,
      keyBytes: 10,
      valueBytes: 200,
      headerBytes: 0,
      headers: 0,
      value: null,
    });
    const e = estimateRegistration(cfg, [
      {
        partition: 0,
        earliest: 100n,
        lastStable: 2600n,
        sample: [rec(100n, h), rec(101n, h)],
        lastTimestamp: h + 3 * 3_600_000,
      },
      { partition: 1, earliest: 0n, lastStable: 0n, sample: [], lastTimestamp: null },
    ]);
    assert.equal(e.backlog.records, '2500');
    assert.equal(e.partitions[0]!.ranges, 3);
    assert.equal(e.partitions[0]!.objects, 6, '3 ranges plus 3 hour boundaries crossed');
    assert.equal(e.partitions[1]!.ranges, 0);
    assert.ok(e.backlog.bytes! > 2500 * 200);
    assert.deepEqual(e.output.firstKeys, [
      `raw/clicks/dt=2026-11-25/hr=08/clicks-0-${'0'.repeat(17)}100-${'0'.repeat(16)}1100.jsonl.gz`,
    ]);
    assert.equal(e.output.typicalObjectRecords, 417);
    const latest = estimateRegistration({ ...cfg, startFrom: 'latest' }, [
      { partition: 0, earliest: 100n, lastStable: 2600n, sample: [], lastTimestamp: null },
    ]);
    assert.equal(latest.backlog.records, '0');
    assert.equal(latest.backlog.bytes, 0);
  });
});

describe('replay runner (real ZooKeeper)', () => {
  async function setup(t: import('node:test').TestContext) {
    const f = await leaderTerm(t, 'replay');
    const replay = replayRecord('r-test-1');
    await createReplay(f.s, replay);
    const pass = () => f.term.integrity.replays.runReplay('r-test-1', { reconcile: true });
    return { ...f, replay, pass };
  }

  async function finish(zk: ZkSession, path: string, records: number, state: RangeRecord['state'] = 'done') {
    const node = await zk.get(path);
    const rec = decodeJson<RangeRecord>(node!.data, path);
    const result = {
      attempt: rec.attempt,
      worker: 'w-1',
      records,
      rawBytes: records * 10,
      objectBytes: records,
      objects: [],
      minTimestamp: null,
      maxTimestamp: null,
      gaps: [],
      eventTimeFallbacks: 0,
      tombstones: 0,
      binaryValues: 0,
      completedAt: new Date().toISOString(),
    };
    await zk.set(
      path,
      encodeJson({
        ...rec,
        state,
        ...(state === 'done'
          ? { result }
          : { failures: 1, error: 'boom', updatedAt: '2000-01-01T00:00:00Z' }),
      }),
      node!.version,
    );
  }

  test('plans the fixed window in replay jobs, commits in order, and finishes', async (t) => {
    const s = await setup(t);
    assert.equal(await s.pass(), 'running');
    const jobs = [...s.queue.jobs.values()];
    assert.deepEqual(
      jobs.map((j) => [j.opts.jobId, j.data.start, j.data.end, j.data.replay, j.opts.priority]),
      [
        ['r-test-1-clicks-0-50-150-a1', '50', '150', 'r-test-1', REPLAY_PRIORITY],
        ['r-test-1-clicks-0-150-250-a1', '150', '250', 'r-test-1', REPLAY_PRIORITY],
        ['r-test-1-clicks-0-250-350-a1', '250', '350', 'r-test-1', REPLAY_PRIORITY],
      ],
    );
    const paths = jobs.map((j) => rangeJobNodePath(j.data));
    assert.ok(paths.every((p) => p.startsWith(`${replayPath('r-test-1')}/partitions/0/`)));
    assert.equal(
      await s.s.exists('/sluice/topics/clicks/partitions/0'),
      false,
      'the topic’s own state is untouched',
    );

    // The second range is done first: nothing commits until the first is.
    await finish(s.s, paths[1]!, 100);
    await s.pass();
    const state = async () =>
      decodeJson<ReplayPartitionState>((await s.s.get(replayPartitionPath('r-test-1', 0)))!.data, 'p');
    assert.equal((await state()).committedOffset, '50');
    await finish(s.s, paths[0]!, 90);
    await s.pass();
    assert.equal((await state()).committedOffset, '250');
    assert.equal((await state()).committedRecords, 190);
    assert.equal(await s.s.exists(paths[0]!), false, 'committed ranges are pruned');
    await finish(s.s, paths[2]!, 100);
    assert.equal(await s.pass(), 'done');
    const rec = decodeJson<ReplayRecord>((await s.s.get(replayPath('r-test-1')))!.data, 'r');
    assert.equal(rec.state, 'done');
    assert.ok(rec.finishedAt);
  });

  test('a failed range is requeued after its backoff; a lost job and a lost worker too', async (t) => {
    const s = await setup(t);
    await s.pass();
    const jobs = [...s.queue.jobs.values()];
    const paths = jobs.map((j) => rangeJobNodePath(j.data));
    await finish(s.s, paths[0]!, 0, 'failed');
    // The second range's job vanished from Redis; the third is active on a worker that is gone.
    s.queue.jobs.delete(jobs[1]!.opts.jobId);
    const third = await s.s.get(paths[2]!);
    const rec3 = decodeJson<RangeRecord>(third!.data, 'r');
    const t0 = new Date().toISOString();
    await s.s.set(
      paths[2]!,
      encodeJson({ ...rec3, state: 'active', worker: 'w-gone', startedAt: t0, progressAt: t0 }),
      third!.version,
    );
    await s.pass();
    const read = async (p: string) => decodeJson<RangeRecord>((await s.s.get(p))!.data, p);
    assert.deepEqual(
      await Promise.all(paths.map(async (p) => [(await read(p)).attempt, (await read(p)).requeueReason])),
      [
        [2, 'failed'],
        [2, 'queue-lost'],
        [2, 'worker-lost'],
      ],
    );
    assert.ok(s.queue.jobs.has('r-test-1-clicks-0-50-150-a2'), 'the new attempt is enqueued');
  });

  test('a replay enqueue that failed is retried with the same attempt at the next pass', async (t) => {
    const s = await setup(t);
    const add = s.queue.add.bind(s.queue);
    s.queue.add = async () => {
      throw new Error('redis is down');
    };
    assert.equal(await s.pass(), 'running');
    assert.equal(s.queue.jobs.size, 0, 'the ranges are planned, their jobs not added');
    s.queue.add = add;
    await s.term.integrity.replays.pass();
    assert.deepEqual(
      [...s.queue.jobs.keys()].sort(),
      ['r-test-1-clicks-0-150-250-a1', 'r-test-1-clicks-0-250-350-a1', 'r-test-1-clicks-0-50-150-a1'],
      'the same attempts, not requeued as lost',
    );
  });

  test('a cancelled replay plans nothing more and drops ranges nobody works on', async (t) => {
    const s = await setup(t);
    await s.pass();
    const node = await s.s.get(replayPath('r-test-1'));
    await s.s.set(replayPath('r-test-1'), encodeJson({ ...s.replay, state: 'cancelled' }), node!.version);
    assert.equal(await s.pass(), 'cancelled');
    assert.deepEqual(await s.s.children(replayPartitionPath('r-test-1', 0)), []);
  });
});
