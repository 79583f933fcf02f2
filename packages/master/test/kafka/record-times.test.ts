/** The timestamp of the record at an offset, from a Fetch answer's batches (pure). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstRecordTimestamp } from '../../src/kafka/record-times.ts';

const batch = (
  firstOffset: bigint,
  firstTimestamp: number,
  deltas: Array<[number, number]>,
  attributes = 0,
) => ({
  firstOffset,
  attributes,
  firstTimestamp: BigInt(firstTimestamp),
  maxTimestamp: BigInt(firstTimestamp + Math.max(0, ...deltas.map(([, t]) => t))),
  records: deltas.map(([offsetDelta, t]) => ({ offsetDelta, timestampDelta: BigInt(t) })),
});

test('the record at the offset inside a batch that starts before it', () => {
  assert.equal(
    firstRecordTimestamp(
      [
        batch(10n, 1_000, [
          [0, 0],
          [1, 5],
          [2, 9],
        ]),
      ],
      11n,
    ),
    1_005,
  );
});

test('the first record after the offset when the offset itself is gone (compaction)', () => {
  assert.equal(
    firstRecordTimestamp(
      [
        batch(10n, 1_000, [
          [0, 0],
          [3, 30],
        ]),
      ],
      11n,
    ),
    1_030,
  );
  assert.equal(firstRecordTimestamp([batch(10n, 1_000, [[0, 0]]), batch(20n, 2_000, [[0, 0]])], 11n), 2_000);
});

test('LogAppendTime batches carry the broker time as their max timestamp', () => {
  const b = {
    ...batch(
      0n,
      -1,
      [
        [0, 0],
        [1, 0],
      ],
      0x08,
    ),
    maxTimestamp: 7_777n,
  };
  assert.equal(firstRecordTimestamp([b], 1n), 7_777);
});

test('no record at or after the offset: unknown', () => {
  assert.equal(firstRecordTimestamp([], 0n), null);
  assert.equal(firstRecordTimestamp([batch(0n, 1, [[0, 0]])], 5n), null);
});
