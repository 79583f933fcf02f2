import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newRange, type PartitionState, type RangeRecord } from '@sluice/shared';
import type { KafkaTopicView } from '../../src/kafka/kafka-view.ts';
import { expectedStartOffset, lagOf, partitionViews, rangeCounts } from '../../src/status/partition-view.ts';
import type { PartitionFlight } from '../../src/stores/partition-reader.ts';

const offsets = { earliest: 10n, lastStable: 95n };

test('lag is high watermark minus committed, null when either is unknown', () => {
  assert.equal(lagOf(100n, 40n), 60);
  assert.equal(lagOf(null, 40n), null);
  assert.equal(lagOf(100n, null), null);
});

test('an unstarted partition starts at the log start, or at the last stable offset for latest', () => {
  assert.equal(expectedStartOffset('earliest', false, offsets), 10n);
  assert.equal(expectedStartOffset('latest', false, offsets), 95n);
  // A partition added after the topic started is read from its beginning.
  assert.equal(expectedStartOffset('latest', true, offsets), 10n);
  assert.equal(expectedStartOffset('earliest', false, undefined), null);
});

function state(committedOffset: string): PartitionState {
  return {
    v: 1,
    committedOffset,
    committedRecords: 7,
    committedBytes: 70,
    committedRanges: 1,
    gapOffsets: '0',
    bytesPerOffset: 10,
    committedMaxTimestamp: null,
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

function range(start: string, end: string, s: RangeRecord['state']): RangeRecord {
  const origin = { topic: 'orders', topicId: 'id', partition: 0, output: {} as RangeRecord['output'] };
  return {
    ...newRange(origin, { start: BigInt(start), end: BigInt(end) }, '2026-01-01T00:00:00.000Z'),
    attempt: 2,
    state: s,
    worker: s === 'active' ? 'w1' : null,
    failures: s === 'failed' ? 1 : 0,
    error: s === 'failed' ? 'boom' : null,
  };
}

test('every Kafka partition is shown, started or not, with offsets as strings', () => {
  const flights: PartitionFlight[] = [
    {
      partition: 0,
      state: state('40'),
      ranges: [range('60', '80', 'planned'), range('40', '60', 'active')],
      rangeCount: 2,
    },
  ];
  const kafka: KafkaTopicView = {
    metadata: { topic: 'orders', topicId: 'id', partitions: [0, 1] },
    offsets: new Map([
      [0, { partition: 0, earliest: 0n, latest: 100n, lastStable: 100n }],
      [1, { partition: 1, earliest: 5n, latest: 9n, lastStable: 9n }],
    ]),
    error: null,
  };
  const views = partitionViews({ startFrom: 'earliest' }, flights, kafka);
  assert.equal(views.length, 2);
  assert.deepEqual(
    views.map((v) => [v.partition, v.started, v.committedOffset, v.highWatermark, v.lag]),
    [
      [0, true, '40', '100', 60],
      [1, false, '5', '9', 4],
    ],
  );
  assert.deepEqual(
    views[0]!.ranges.map((r) => [r.id, r.state, r.worker]),
    [
      ['orders-0-40-60', 'active', 'w1'],
      ['orders-0-60-80', 'planned', null],
    ],
  );
});

test('without Kafka the ZooKeeper view remains, with unknown watermarks', () => {
  const views = partitionViews(
    { startFrom: 'earliest' },
    [{ partition: 3, state: state('12'), ranges: [], rangeCount: 0 }],
    { metadata: null, offsets: new Map(), error: 'Kafka did not answer' },
  );
  assert.deepEqual(
    views.map((v) => [v.partition, v.committedOffset, v.highWatermark, v.lag]),
    [[3, '12', null, null]],
  );
});

test('ranges are counted by state', () => {
  assert.deepEqual(
    rangeCounts([range('0', '1', 'failed'), range('1', '2', 'active'), range('2', '3', 'failed')]),
    {
      planned: 0,
      active: 1,
      done: 0,
      failed: 2,
    },
  );
});
