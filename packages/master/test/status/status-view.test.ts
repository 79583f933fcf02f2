/** The status answer from what was read (pure). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newRange, type RangeRecord, TOPIC_DEFAULTS, type TopicRecord } from '@sluice/shared';
import {
  buildStatus,
  caughtUpOffsets,
  committedTotals,
  partitionTimeLags,
  timeQueries,
} from '../../src/status/status-view.ts';
import { ThroughputTracker } from '../../src/status/throughput.ts';

const NOW = Date.parse('2026-11-25T10:00:00Z');
const T = '2026-11-25T09:59:00.000Z';

const topic: TopicRecord = {
  ...TOPIC_DEFAULTS,
  topic: 'weblogs',
  destination: { bucket: 'lake', prefix: '' },
  topicId: 'id-1',
  paused: false,
  state: 'active',
  error: null,
  createdAt: T,
  updatedAt: T,
};

function range(start: number, end: number, over: Partial<RangeRecord>): RangeRecord {
  const origin = { topic: 'weblogs', topicId: 'id-1', partition: 0, output: {} as RangeRecord['output'] };
  return { ...newRange(origin, { start: BigInt(start), end: BigInt(end) }, T), ...over };
}

const state = (committed: number, extra: object = {}) => ({
  v: 1 as const,
  committedOffset: String(committed),
  committedRecords: committed,
  committedBytes: committed * 10,
  committedRanges: 1,
  gapOffsets: '0',
  bytesPerOffset: 10,
  committedMaxTimestamp: null,
  updatedAt: T,
  ...extra,
});

const ranges = [
  range(100, 200, {
    state: 'active',
    worker: 'w1',
    attempt: 2,
    failures: 1,
    error: 'S3 503',
    requeueReason: 'failed',
    startedAt: '2026-11-25T09:59:10.000Z',
    progressAt: '2026-11-25T09:59:55.000Z',
    progressOffset: '150',
  }),
  range(200, 300, {
    state: 'done',
    result: {
      attempt: 1,
      worker: 'w1',
      records: 90,
      rawBytes: 900,
      objectBytes: 300,
      objects: [],
      minTimestamp: 1,
      maxTimestamp: 2,
      gaps: [{ start: '200', end: '210', cause: 'retention' }],
      eventTimeFallbacks: 0,
      tombstones: 0,
      binaryValues: 0,
      completedAt: T,
    },
  }),
  range(300, 400, {
    state: 'failed',
    worker: 'w2',
    failures: 3,
    error: 'NoSuchBucket',
    updatedAt: '2026-11-25T09:59:30.000Z',
  }),
];

const flights = new Map([
  [
    'weblogs',
    [
      { partition: 0, state: state(100, { gapOffsets: '5' }), ranges, rangeCount: 3 },
      { partition: 1, state: state(50), ranges: [], rangeCount: 0 },
    ],
  ],
]);
const kafka = new Map([
  [
    'weblogs',
    {
      metadata: { topic: 'weblogs', topicId: 'id-1', partitions: [0, 1, 2] },
      offsets: new Map([
        [0, { partition: 0, earliest: 0n, latest: 500n, lastStable: 500n }],
        [1, { partition: 1, earliest: 0n, latest: 50n, lastStable: 50n }],
        [2, { partition: 2, earliest: 7n, latest: 9n, lastStable: 9n }],
      ]),
      error: null,
    },
  ],
]);

test('partitions behind are asked for the time of the record at their committed offset (or log start)', () => {
  assert.deepEqual(timeQueries([topic], flights, kafka), [
    { topic: 'weblogs', partition: 0, offset: 100n },
    // Not started: starts at the log start offset (startFrom earliest).
    { topic: 'weblogs', partition: 2, offset: 7n },
  ]);
});

test("the leader's time-lag gauges between answers are the answers' lagMs", () => {
  const recordTime = (_t: string, p: number) => (p === 0 ? NOW - 30_000 : null);
  const answer = buildStatus({
    nowMs: NOW,
    master: { id: 'm1', leader: true },
    leader: null,
    topics: [topic],
    flights,
    kafka,
    workers: [],
    queue: { queue: null, queueError: null },
    recordTime,
    throughput: new ThroughputTracker(),
  });
  const lags = partitionTimeLags({ nowMs: NOW, topics: [topic], flights, kafka, recordTime });
  assert.deepEqual(
    lags,
    answer.topics[0]!.partitions.map((p) => ({ topic: 'weblogs', partition: p.partition, lagMs: p.lagMs })),
  );
  assert.deepEqual(
    lags.map((l) => l.lagMs),
    [30_000, 0, null],
  );
  // Only partition 1 is caught up (committed 50 at its watermark): the next look may ask its watermark alone.
  assert.deepEqual([...(caughtUpOffsets(flights, kafka).get('weblogs')?.keys() ?? [])], [1]);
});

test('lag in records and time, where each partition is stuck, failures, gaps and workers', () => {
  const throughput = new ThroughputTracker();
  throughput.sample(NOW - 60_000, new Map([['weblogs', { records: 0, bytes: 0 }]]));
  throughput.sample(NOW, committedTotals(flights));
  const s = buildStatus({
    nowMs: NOW,
    master: { id: 'm1', leader: true },
    leader: { v: 1, id: 'm1', host: 'h', httpAddress: 'http://h:8080', since: T },
    topics: [topic],
    flights,
    kafka,
    workers: [
      {
        v: 1,
        id: 'w1',
        host: 'h1',
        pid: 1,
        version: '0.1.0',
        concurrency: 2,
        httpAddress: null,
        startedAt: '2026-11-25T09:00:00.000Z',
      },
      {
        v: 1,
        id: 'w2',
        host: 'h2',
        pid: 2,
        version: '0.1.0',
        concurrency: 2,
        httpAddress: null,
        startedAt: 'garbage',
        ready: false,
        notReadyReason: 'SLUICE_ERR_UNAUTHORIZED: S3 refused the credentials',
      },
    ],
    queue: { queue: null, queueError: 'Redis did not answer' },
    recordTime: (_t, p) => (p === 0 ? NOW - 90_000 : null),
    throughput,
  });
  const t = s.topics[0]!;
  assert.deepEqual(
    t.partitions.map((p) => [p.partition, p.committedOffset, p.highWatermark, p.lag, p.lagMs, p.started]),
    [
      [0, '100', '500', 400, 90_000, true],
      [1, '50', '50', 0, 0, true],
      [2, '7', '9', 2, null, false],
    ],
  );
  assert.equal(t.lag, 402);
  assert.equal(t.lagMs, 90_000);
  assert.deepEqual(t.partitions[0]!.head, {
    id: 'weblogs-0-100-200',
    state: 'active',
    attempt: 2,
    worker: 'w1',
    failures: 1,
    error: 'S3 503',
    progressOffset: '150',
    updatedAt: T,
  });
  assert.deepEqual(t.ranges, { planned: 0, active: 1, done: 1, failed: 1 });
  assert.equal(t.committedRecords, 150);
  assert.deepEqual(t.throughput.m1, { recordsPerSec: 2.5, bytesPerSec: 25 });
  assert.deepEqual(s.summary, {
    topics: 1,
    partitions: 3,
    lag: 402,
    lagMs: 90_000,
    ranges: { planned: 0, active: 1, done: 1, failed: 1 },
    workers: 2,
    failures: 2,
    gapOffsets: '5',
  });
  // Failed now, and requeued after a failure: both shown, newest first.
  assert.deepEqual(
    s.recentFailures.map((f) => [f.id, f.state, f.error, f.requeueReason]),
    [
      ['weblogs-0-300-400', 'failed', 'NoSuchBucket', null],
      ['weblogs-0-100-200', 'active', 'S3 503', 'failed'],
    ],
  );
  assert.deepEqual(s.gaps, [
    {
      topic: 'weblogs',
      partition: 0,
      lostOffsets: '5',
      uncommitted: [{ rangeId: 'weblogs-0-200-300', start: '200', end: '210', cause: 'retention' }],
    },
  ]);
  assert.deepEqual(
    s.workers.map((w) => [w.id, w.activeRanges, w.uptimeSeconds, w.lastHeartbeat]),
    [
      ['w1', 1, 3600, '2026-11-25T09:59:55.000Z'],
      ['w2', 0, 0, null],
    ],
  );
  // A registration without readiness (an older worker) is ready; a worker stopped by a fault of its own says why.
  assert.deepEqual(
    s.workers.map((w) => [w.id, w.ready, w.notReadyReason]),
    [
      ['w1', true, null],
      ['w2', false, 'SLUICE_ERR_UNAUTHORIZED: S3 refused the credentials'],
    ],
  );
  assert.equal(s.queueError, 'Redis did not answer');
  assert.equal(s.throughput.history.length, 1);
});
