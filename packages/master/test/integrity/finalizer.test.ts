import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { commitRecordKey, timeFolderStart } from '@sluice/shared';
import {
  absorb,
  afterFinalizing,
  committedCommitKeys,
  DAY_MS,
  dueUnits,
  emptyState,
  HOUR_MS,
  successMarker,
  watermark,
  withLate,
} from '../../src/integrity/finalizer.ts';

const ROOT = 'lake/clicks/';
const H8 = Date.UTC(2026, 10, 25, 8);
const MIN = 60_000;
const obj = (folder: string, records: number) => ({
  key: `${ROOT}${folder}clicks-0-${'0'.repeat(20)}-${'0'.repeat(19)}1.jsonl.gz`,
  records,
});

describe('finalizer', () => {
  test('folders name their span', () => {
    assert.equal(timeFolderStart('dt=2026-11-25/hr=08/', 'hour'), H8);
    assert.equal(timeFolderStart('dt=2026-11-25/', 'day'), Date.UTC(2026, 10, 25));
    assert.equal(timeFolderStart('dt=2026-11-25/', 'hour'), null);
    assert.equal(timeFolderStart('dt=2026-11-25/hr=24/', 'hour'), null);
    assert.equal(timeFolderStart('dt=2026-02-30/', 'day'), null);
    assert.equal(timeFolderStart('', 'hour'), null);
  });

  test('the watermark is the slowest partition, less the lateness; an idle partition follows the clock', () => {
    const now = H8 + 3 * HOUR_MS;
    assert.equal(
      watermark(
        [
          { partition: 0, committedMaxTimestamp: H8 + 2 * HOUR_MS, idle: false },
          { partition: 1, committedMaxTimestamp: H8 + HOUR_MS + 20 * MIN, idle: false },
        ],
        now,
        10 * MIN,
      ),
      H8 + HOUR_MS + 10 * MIN,
    );
    assert.equal(
      watermark([{ partition: 0, committedMaxTimestamp: H8, idle: true }], now, 10 * MIN),
      now - 10 * MIN,
    );
    assert.equal(watermark([{ partition: 0, committedMaxTimestamp: null, idle: true }], now, 0), now);
    assert.equal(
      watermark(
        [
          { partition: 0, committedMaxTimestamp: null, idle: false },
          { partition: 1, committedMaxTimestamp: now, idle: true },
        ],
        now,
        0,
      ),
      null,
      'a partition with a backlog and nothing committed holds everything back',
    );
    assert.equal(watermark([], now, 0), null);
  });

  test('an hour is due once the watermark passed its end; empty hours since registration are due too', () => {
    const s = absorb(emptyState(ROOT, 'hour', 'x'), [
      { key: 'c1', objects: [obj('dt=2026-11-25/hr=08/', 10), obj('dt=2026-11-25/hr=09/', 5)] },
      { key: 'c2', objects: [obj('dt=2026-11-25/hr=08/', 7), obj('other/x', 1)] },
    ]).state;
    assert.deepEqual(s.pending, {
      [String(H8)]: { objects: 2, records: 17 },
      [String(H8 + HOUR_MS)]: { objects: 1, records: 5 },
    });
    // Registered at 08:30: the 08 folder is due once the watermark reaches 09:00.
    assert.deepEqual(dueUnits(s, H8 + HOUR_MS - 1, H8 + 30 * MIN), []);
    assert.deepEqual(dueUnits(s, H8 + HOUR_MS, H8 + 30 * MIN), [H8]);
    // An empty 10 o'clock folder is finalized too, in order.
    assert.deepEqual(dueUnits(s, H8 + 3 * HOUR_MS, H8 + 30 * MIN), [H8, H8 + HOUR_MS, H8 + 2 * HOUR_MS]);
    // Data older than the registration is finalized; empty folders before it are not made.
    const old = absorb(emptyState(ROOT, 'hour', 'x'), [
      { key: 'c', objects: [obj('dt=2026-11-20/hr=03/', 1)] },
    ]).state;
    assert.deepEqual(dueUnits(old, H8 + HOUR_MS, H8), [Date.UTC(2026, 10, 20, 3), H8]);
    assert.deepEqual(dueUnits(s, null, 0), []);
  });

  test('finalizing moves the newest finalized on and drops the counted folders', () => {
    let s = absorb(emptyState(ROOT, 'hour', 'x'), [
      { key: 'c1', objects: [obj('dt=2026-11-25/hr=08/', 10), obj('dt=2026-11-25/hr=09/', 5)] },
    ]).state;
    s = afterFinalizing(s, [H8], 'now');
    assert.equal(s.newestFinalized, H8);
    assert.deepEqual(Object.keys(s.pending), [String(H8 + HOUR_MS)]);
    assert.deepEqual(dueUnits(s, H8 + 2 * HOUR_MS, H8), [H8 + HOUR_MS]);
    assert.equal(afterFinalizing(s, [], 'later'), s);
  });

  test('data for a finalized folder is late; counting it into the marker is idempotent', () => {
    let s = afterFinalizing(emptyState(ROOT, 'hour', 'x'), [H8], 'now');
    const r = absorb(s, [
      { key: 'c3', objects: [obj('dt=2026-11-25/hr=08/', 4), obj('dt=2026-11-25/hr=09/', 2)] },
      { key: 'c4', objects: [obj('dt=2026-11-25/hr=07/', 1)] },
    ]);
    s = r.state;
    assert.deepEqual(
      r.late.map((l) => [l.unit, l.commit, l.records]),
      [
        [H8, 'c3', 4],
        [H8 - HOUR_MS, 'c4', 1],
      ],
    );
    assert.equal(s.lateRecords, 5);
    assert.equal(s.lateObjects, 2);
    assert.deepEqual(s.pending, { [String(H8 + HOUR_MS)]: { objects: 1, records: 2 } });

    const m = successMarker('clicks', 'hour', H8, { objects: 2, records: 17 }, 'then');
    assert.equal(m.folder, 'dt=2026-11-25/hr=08/');
    assert.equal(m.start, '2026-11-25T08:00:00.000Z');
    assert.equal(m.end, '2026-11-25T09:00:00.000Z');
    const updated = withLate(m, r.late[0]!, 'now');
    assert.ok(updated);
    assert.deepEqual(
      [updated.records, updated.objects, updated.lateRecords, updated.lateCommits],
      [21, 3, 4, ['c3']],
    );
    assert.equal(updated.updatedAt, 'now');
    assert.equal(updated.finalizedAt, 'then');
    assert.equal(withLate(updated, r.late[0]!, 'again'), null, 'the same late commit is not counted twice');
  });

  test('days', () => {
    const d = Date.UTC(2026, 10, 25);
    const s = absorb(emptyState(ROOT, 'day', 'x'), [
      { key: 'c', objects: [obj('dt=2026-11-25/', 3), obj('dt=2026-11-25/hr=08/', 1)] },
    ]).state;
    assert.deepEqual(s.pending, { [String(d)]: { objects: 1, records: 3 } });
    assert.deepEqual(dueUnits(s, d + DAY_MS, d), [d]);
    assert.equal(successMarker('clicks', 'day', d, { objects: 1, records: 3 }, 'x').folder, 'dt=2026-11-25/');
  });
});

test('a pass counts commit records only up to the committed offset: a lower record written later is not skipped', () => {
  const key = (start: number, end: number) =>
    commitRecordKey('logs', { topic: 't', partition: 0, start: BigInt(start), end: BigInt(end) });
  // [250, 500) finished before [0, 250): both listed in key order, nothing committed yet.
  assert.deepEqual(committedCommitKeys([key(250, 500)], 0n), [], 'a record above the committed offset waits');
  assert.deepEqual(committedCommitKeys([key(0, 250), key(250, 500), key(500, 600)], 500n), [
    key(0, 250),
    key(250, 500),
  ]);
  assert.deepEqual(committedCommitKeys([key(0, 250), 'logs/t/_sluice/commits/partition=0/notes.txt'], 250n), [
    key(0, 250),
  ]);
});
