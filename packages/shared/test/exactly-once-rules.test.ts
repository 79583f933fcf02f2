/**
 * The rules of exactly-once.ts that topic and replay lines share (creation, requeue
 * decisions, commit totals, the log label), tested alone: no ZooKeeper, no queue, no clock.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  commitTotals,
  ErrorCodes,
  fail,
  failedRetryDelayMs,
  isSluiceError,
  jobRequeueReason,
  newPartitionState,
  newRange,
  newRanges,
  type OutputSpec,
  operatorRetry,
  operatorRetryDue,
  type RangeRecord,
  type RangeResult,
  rangeId,
  rangeLabel,
  requeue,
  requeueReason,
  requeueStillDue,
  TOPIC_DEFAULTS,
} from '@sluice/shared';

const T = '2026-03-01T10:00:00.000Z';
const T_MS = Date.parse(T);
const output: OutputSpec = {
  destination: { bucket: 'b', prefix: 'p' },
  format: TOPIC_DEFAULTS.format,
  compression: TOPIC_DEFAULTS.compression,
  partitionBy: TOPIC_DEFAULTS.partitionBy,
  serverSideEncryption: 'none',
  kmsKeyId: '',
  storageClass: 'STANDARD',
};
const origin = { topic: 'clicks', topicId: 'id-1', partition: 3, output };

function range(over: Partial<RangeRecord> = {}): RangeRecord {
  return { ...newRange(origin, { start: 100n, end: 200n }, T), ...over };
}

function result(records: number, objectBytes: number, gaps: RangeResult['gaps'] = []): RangeResult {
  return {
    attempt: 1,
    worker: 'w1',
    records,
    rawBytes: objectBytes * 10,
    objectBytes,
    objects: [],
    minTimestamp: null,
    maxTimestamp: null,
    gaps,
    eventTimeFallbacks: 0,
    tombstones: 0,
    binaryValues: 0,
    completedAt: T,
  };
}

const isInvariant = (err: unknown) => isSluiceError(err, ErrorCodes.INVARIANT) && !err.retryable;

test('a new range is planned, attempt 1, with nothing of any attempt', () => {
  const r = newRange(origin, { start: 100n, end: 200n }, T);
  assert.deepEqual(r, {
    v: 1,
    topic: 'clicks',
    topicId: 'id-1',
    partition: 3,
    start: '100',
    end: '200',
    attempt: 1,
    state: 'planned',
    output,
    plannedAt: T,
    updatedAt: T,
    worker: null,
    startedAt: null,
    progressAt: null,
    progressOffset: null,
    keys: [],
    failures: 0,
    error: null,
    requeueReason: null,
    result: null,
  });
});

test('new ranges must tile the line from its planned offset, or nothing is created', () => {
  const ok = newRanges(
    origin,
    10n,
    [
      { start: 10n, end: 20n },
      { start: 20n, end: 25n },
    ],
    T,
  );
  assert.deepEqual(
    ok.map((r) => [r.start, r.end]),
    [
      ['10', '20'],
      ['20', '25'],
    ],
  );
  assert.throws(() => newRanges(origin, 10n, [{ start: 11n, end: 20n }], T), isInvariant);
  assert.throws(() => newRanges(origin, 10n, [{ start: 5n, end: 20n }], T), isInvariant);
  assert.throws(() => newRanges(origin, 10n, [{ start: 10n, end: 10n }], T), isInvariant);
  assert.deepEqual(newRanges(origin, 10n, [], T), []);
});

test('a new partition state starts its line at the given offset with nothing committed', () => {
  const s = newPartitionState(42n, T);
  assert.equal(s.committedOffset, '42');
  assert.equal(s.startOffset, '42');
  assert.equal(s.committedRecords + s.committedBytes + s.committedRanges + s.bytesPerOffset, 0);
  assert.equal(s.gapOffsets, '0');
  assert.equal(s.committedMaxTimestamp, null);
});

test('commit totals add records, bytes, ranges, event-time fallbacks and gap offsets, and never move backward', () => {
  const totals = {
    committedOffset: '100',
    committedRecords: 5,
    committedBytes: 50,
    committedRanges: 1,
    gapOffsets: '3',
  };
  const covered = [
    range({ state: 'done', result: result(10, 100, [{ start: '100', end: '110', cause: 'retention' }]) }),
    range({ start: '200', end: '300', state: 'done', result: { ...result(7, 70), eventTimeFallbacks: 2 } }),
    range({ start: '300', end: '310', state: 'done', result: null }),
  ];
  // A state written before fallbacks were counted lacks the counter: it starts at 0.
  assert.deepEqual(commitTotals(totals, 310n, covered), {
    committedOffset: '310',
    committedRecords: 22,
    committedBytes: 220,
    committedRanges: 4,
    eventTimeFallbacks: 2,
    gapOffsets: '13',
  });
  assert.throws(() => commitTotals(totals, 99n, []), isInvariant);
  assert.throws(() => commitTotals(totals, 99n, []), /backward/);
});

test('requeue reasons from the range node and its worker registration', () => {
  const facts = { nowMs: T_MS + 1_000, stallTimeoutMs: 60_000 };
  const active = range({ state: 'active', worker: 'w1', startedAt: T, progressAt: T });
  assert.equal(requeueReason(active, facts), null, 'worker not looked up');
  assert.equal(requeueReason(active, { ...facts, workerSince: T_MS - 5_000 }), null, 'same registration');
  assert.equal(requeueReason(active, { ...facts, workerSince: null }), 'worker-lost', 'worker gone');
  assert.equal(
    requeueReason(active, { ...facts, workerSince: T_MS + 500 }),
    'worker-lost',
    'worker registered again after it started the range',
  );
  assert.equal(requeueReason(active, { ...facts, nowMs: T_MS + 61_000, workerSince: T_MS }), 'stalled');

  const failed = range({ state: 'failed', failures: 2, updatedAt: T });
  assert.equal(requeueReason(failed, { ...facts, nowMs: T_MS + failedRetryDelayMs(2) - 1 }), null);
  assert.equal(requeueReason(failed, { ...facts, nowMs: T_MS + failedRetryDelayMs(2) }), 'failed');

  assert.equal(requeueReason(range(), { ...facts, workerSince: null }), null, 'planned: no worker yet');
  assert.equal(requeueReason(range({ state: 'done' }), { ...facts, nowMs: T_MS + 1e9 }), null);
});

test("a failure of the worker's own leaves the range's failures and backoff as they were; the range's own grows them", () => {
  const facts = { nowMs: T_MS + 1_000, stallTimeoutMs: 60_000 };
  const active = range({ state: 'active', worker: 'w1', startedAt: T, progressAt: T, failures: 2 });

  const own = fail(active, 1, 'SLUICE_ERR_UNAUTHORIZED: S3 refused the credentials', 'worker');
  assert.equal(own.state, 'failed');
  assert.equal(own.failures, 2, 'not counted against the range');
  assert.equal(own.error, 'SLUICE_ERR_UNAUTHORIZED: S3 refused the credentials');
  // Requeued at the next pass, without the backoff of its earlier failures.
  assert.equal(requeueReason({ ...own, updatedAt: T }, { ...facts, nowMs: T_MS }), 'worker-fault');
  const next = requeue(own, 'worker-fault');
  assert.equal(next.attempt, 2);
  assert.equal(next.failures, 2);
  assert.equal(next.workerFault, undefined, 'the new attempt carries no mark of the old fault');

  const ranges = fail(next, 2, 'SLUICE_ERR_S3: bucket "b" does not exist');
  assert.equal(ranges.failures, 3, "the range's own failure counts");
  assert.equal(ranges.workerFault, undefined);
  assert.equal(
    requeueReason({ ...ranges, updatedAt: T }, { ...facts, nowMs: T_MS }),
    null,
    'backoff applies',
  );
  // A range failure after a worker fault of the same attempt (another worker's job) is the range's.
  assert.equal(fail(own, 1, 'boom').workerFault, undefined);
  assert.throws(
    () => fail(active, 2, 'x', 'worker'),
    (e) => isSluiceError(e, ErrorCodes.STALE_ATTEMPT),
  );
});

test('requeue reasons from the queue', () => {
  const planned = range();
  const active = range({ state: 'active', worker: 'w1' });
  assert.equal(jobRequeueReason(planned, { exists: false, heldByGoneWorker: false }), 'queue-lost');
  assert.equal(jobRequeueReason(active, { exists: false, heldByGoneWorker: false }), 'queue-lost');
  assert.equal(jobRequeueReason(planned, { exists: true, heldByGoneWorker: true }), 'worker-lost');
  assert.equal(jobRequeueReason(planned, { heldByGoneWorker: true }), 'worker-lost');
  assert.equal(jobRequeueReason(active, { exists: true, heldByGoneWorker: true }), null);
  assert.equal(jobRequeueReason(planned, { exists: true, heldByGoneWorker: false }), null);
  assert.equal(jobRequeueReason(planned, { heldByGoneWorker: false }), null, 'existence not looked at');
  for (const state of ['done', 'failed'] as const) {
    assert.equal(jobRequeueReason(range({ state }), { exists: false, heldByGoneWorker: true }), null);
  }
});

test('a requeue decided on an earlier read applies only if nothing changed, except for an operator', () => {
  const read = { record: range({ state: 'active', worker: 'w1' }), version: 4 };
  assert.ok(requeueStillDue(read, read, 'worker-lost'));
  assert.ok(!requeueStillDue(read, { ...read, version: 5 }, 'stalled'));
  assert.ok(!requeueStillDue(read, { record: { ...read.record, attempt: 2 }, version: 4 }, 'failed'));
  assert.ok(requeueStillDue(read, { record: { ...read.record, attempt: 2 }, version: 9 }, 'operator'));
  assert.ok(!requeueStillDue(read, { record: { ...read.record, state: 'done' }, version: 9 }, 'operator'));
});

test('an operator retry of a range whose requeued attempt waits in the queue is a no-op; of a done range refused', () => {
  assert.equal(operatorRetry(range({ state: 'done' })), 'done');
  assert.equal(operatorRetry(range({ state: 'planned', attempt: 2 })), 'already-queued');
  assert.equal(
    operatorRetry(range({ state: 'planned', attempt: 1 })),
    'request',
    'first attempt: may be retried',
  );
  for (const state of ['active', 'failed'] as const) {
    assert.equal(operatorRetry(range({ state, attempt: 5 })), 'request', state);
  }
});

test('the leader acts on a retry request only while the range is at the attempt it names', () => {
  const at3 = range({ state: 'failed', attempt: 3 });
  assert.ok(operatorRetryDue(at3, 3));
  assert.ok(!operatorRetryDue(at3, 2), 'a request made before the last requeue');
  assert.ok(operatorRetryDue(at3, undefined), 'requests of older releases name no attempt');
  assert.ok(!operatorRetryDue(range({ state: 'done', attempt: 3 }), 3));
});

test('log lines name a range by its API id', () => {
  const r = { topic: 'a-b', partition: 2, start: 10n, end: 20n };
  assert.equal(rangeLabel(r), 'a-b-2-10-20');
  assert.equal(rangeLabel(r), rangeId(r));
  assert.equal(rangeLabel(range()), 'clicks-3-100-200');
});
