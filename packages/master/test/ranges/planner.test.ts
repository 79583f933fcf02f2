import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkTiling } from '@sluice/shared';
import {
  type Arrival,
  firstSeenMs,
  fullRangeOffsets,
  MAX_ARRIVALS,
  noteArrival,
  type PlanInput,
  planRanges,
} from '../../src/ranges/planner.ts';

const MIN = 60_000;

function input(over: Partial<PlanInput> = {}): PlanInput {
  return {
    planned: 0n,
    earliest: 0n,
    lastStable: 0n,
    policy: { maxRangeMessages: 100, maxRangeBytes: 1_000_000, flushIntervalMs: 10 * MIN },
    bytesPerOffset: 0,
    arrivals: [],
    nowMs: 1_000_000,
    inFlight: 0,
    maxInFlight: 4,
    ...over,
  };
}

const spans = (p: ReturnType<typeof planRanges>) => p.map((s) => [s.start, s.end, s.reason]);

describe('fullRangeOffsets', () => {
  test('is the message cap while the size per offset is unknown', () => {
    assert.equal(fullRangeOffsets({ maxRangeMessages: 5_000_000, maxRangeBytes: 1024 }, 0), 5_000_000n);
  });

  test('is lowered by the byte cap once the size per offset is known', () => {
    assert.equal(fullRangeOffsets({ maxRangeMessages: 5_000_000, maxRangeBytes: 256 << 20 }, 1024), 262_144n);
  });

  test('is at least one offset when one record is bigger than the byte cap', () => {
    assert.equal(fullRangeOffsets({ maxRangeMessages: 100, maxRangeBytes: 1024 }, 10_000_000), 1n);
  });

  test('ignores a nonsense estimate', () => {
    assert.equal(fullRangeOffsets({ maxRangeMessages: 100, maxRangeBytes: 1024 }, Number.NaN), 100n);
    assert.equal(fullRangeOffsets({ maxRangeMessages: 100, maxRangeBytes: 1024 }, -5), 100n);
  });
});

describe('planRanges', () => {
  test('plans nothing when there is nothing new', () => {
    assert.deepEqual(planRanges(input({ planned: 500n, earliest: 0n, lastStable: 500n })), []);
  });

  test('plans nothing beyond the last stable offset, even when planned is past it', () => {
    assert.deepEqual(planRanges(input({ planned: 900n, lastStable: 500n, nowMs: 1e12 })), []);
  });

  test('cuts full ranges while the backlog holds a whole one, up to the in-flight cap', () => {
    const p = planRanges(input({ planned: 0n, lastStable: 1_000n }));
    assert.deepEqual(spans(p), [
      [0n, 100n, 'full'],
      [100n, 200n, 'full'],
      [200n, 300n, 'full'],
      [300n, 400n, 'full'],
    ]);
    assert.equal(checkTiling(0n, p), 400n);
  });

  test('counts ranges already in flight against the cap', () => {
    assert.equal(planRanges(input({ lastStable: 1_000n, inFlight: 3 })).length, 1);
    assert.deepEqual(planRanges(input({ lastStable: 1_000n, inFlight: 4 })), []);
    assert.deepEqual(planRanges(input({ lastStable: 1_000n, inFlight: 9 })), []);
  });

  test('sizes full ranges by bytes per offset', () => {
    const p = planRanges(
      input({
        lastStable: 10_000n,
        bytesPerOffset: 250,
        policy: { maxRangeMessages: 1000, maxRangeBytes: 10_000, flushIntervalMs: MIN },
      }),
    );
    assert.deepEqual(
      p.map((s) => s.end - s.start),
      [40n, 40n, 40n, 40n],
    );
  });

  test('keeps a short remainder until it has waited the flush interval', () => {
    const arrivals: Arrival[] = [{ below: 250n, atMs: 0 }];
    const early = planRanges(input({ planned: 0n, lastStable: 250n, arrivals, nowMs: 10 * MIN - 1 }));
    assert.deepEqual(spans(early), [
      [0n, 100n, 'full'],
      [100n, 200n, 'full'],
    ]);
    const due = planRanges(input({ planned: 200n, lastStable: 250n, arrivals, nowMs: 10 * MIN }));
    assert.deepEqual(spans(due), [[200n, 250n, 'flush']]);
  });

  test('times the remainder from when its own first record was seen', () => {
    // offsets 0..99 seen at t=0, 100..149 only at t=5 min.
    const arrivals: Arrival[] = [
      { below: 100n, atMs: 0 },
      { below: 150n, atMs: 5 * MIN },
    ];
    assert.deepEqual(planRanges(input({ planned: 100n, lastStable: 150n, arrivals, nowMs: 11 * MIN })), []);
    assert.deepEqual(
      spans(planRanges(input({ planned: 100n, lastStable: 150n, arrivals, nowMs: 15 * MIN }))),
      [[100n, 150n, 'flush']],
    );
  });

  test('does not flush a remainder it has never seen arrive', () => {
    assert.deepEqual(planRanges(input({ planned: 0n, lastStable: 50n, arrivals: [], nowMs: 1e12 })), []);
  });

  test('flushes the remainder in the same pass as full ranges when the cap leaves room', () => {
    const p = planRanges(
      input({ planned: 0n, lastStable: 230n, arrivals: [{ below: 230n, atMs: 0 }], nowMs: 10 * MIN }),
    );
    assert.deepEqual(spans(p), [
      [0n, 100n, 'full'],
      [100n, 200n, 'full'],
      [200n, 230n, 'flush'],
    ]);
    assert.equal(checkTiling(0n, p), 230n);
  });

  test('does not flush when the cap is reached by full ranges', () => {
    const p = planRanges(
      input({ lastStable: 430n, arrivals: [{ below: 430n, atMs: 0 }], nowMs: 10 * MIN, maxInFlight: 4 }),
    );
    assert.equal(p.length, 4);
    assert.ok(p.every((s) => s.reason === 'full'));
  });

  test('plans the span deleted by retention as one range by itself, then goes on from the log start', () => {
    const p = planRanges(input({ planned: 10n, earliest: 5_000n, lastStable: 5_150n }));
    assert.deepEqual(spans(p), [
      [10n, 5_000n, 'gap'],
      [5_000n, 5_100n, 'full'],
    ]);
    assert.equal(checkTiling(10n, p), 5_100n);
  });

  test('plans a gap even when nothing after it is readable yet', () => {
    assert.deepEqual(spans(planRanges(input({ planned: 0n, earliest: 700n, lastStable: 700n }))), [
      [0n, 700n, 'gap'],
    ]);
  });

  test('a gap range counts against the in-flight cap', () => {
    assert.deepEqual(
      spans(planRanges(input({ planned: 0n, earliest: 50n, lastStable: 1_000n, inFlight: 3 }))),
      [[0n, 50n, 'gap']],
    );
  });

  test('handles offsets near 2^63 without losing precision', () => {
    const max = 2n ** 63n - 1n;
    const start = max - 250n;
    const arrivals: Arrival[] = [{ below: max, atMs: 0 }];
    const p = planRanges(
      input({ planned: start, earliest: start, lastStable: max, arrivals, nowMs: 10 * MIN }),
    );
    assert.deepEqual(spans(p), [
      [start, start + 100n, 'full'],
      [start + 100n, start + 200n, 'full'],
      [start + 200n, max, 'flush'],
    ]);
    assert.equal(checkTiling(start, p), max);
  });

  test('a huge message cap with a huge backlog cuts exact ranges', () => {
    const p = planRanges(
      input({
        planned: 2n ** 62n,
        earliest: 0n,
        lastStable: 2n ** 62n + 3_000_000_000n,
        policy: { maxRangeMessages: 1_000_000_000, maxRangeBytes: 50 * 2 ** 30, flushIntervalMs: MIN },
      }),
    );
    assert.deepEqual(
      p.map((s) => s.end - s.start),
      [1_000_000_000n, 1_000_000_000n, 1_000_000_000n],
    );
  });

  test('successive passes tile the offset line with no gap and no overlap', () => {
    // A simulated partition: records arrive, ranges are planned and complete out of order.
    let planned = 0n;
    let arrivals: Arrival[] = [];
    const all: { start: bigint; end: bigint }[] = [];
    let inFlight: bigint[] = [];
    let lastStable = 0n;
    for (let tick = 0; tick < 400; tick++) {
      const nowMs = tick * 1_000;
      lastStable += BigInt((tick * 37) % 83);
      arrivals = noteArrival(arrivals, lastStable, planned, nowMs);
      const p = planRanges({
        planned,
        earliest: 0n,
        lastStable,
        policy: { maxRangeMessages: 97, maxRangeBytes: 1 << 30, flushIntervalMs: 7_000 },
        bytesPerOffset: tick > 200 ? 10_000_000 : 0,
        arrivals,
        nowMs,
        inFlight: inFlight.length,
        maxInFlight: 3,
      });
      for (const s of p) {
        assert.ok(s.end <= lastStable, 'never beyond the last stable offset');
        all.push(s);
        inFlight.push(s.end);
        planned = s.end;
      }
      inFlight = inFlight.filter((_, i) => (tick + i) % 3 !== 0);
    }
    assert.equal(checkTiling(0n, all), planned);
    assert.ok(planned > 0n);
  });
});

describe('noteArrival', () => {
  test('records each growth of the last stable offset with its time', () => {
    let a = noteArrival([], 100n, 0n, 1);
    a = noteArrival(a, 100n, 0n, 2);
    a = noteArrival(a, 150n, 0n, 3);
    assert.deepEqual(a, [
      { below: 100n, atMs: 1 },
      { below: 150n, atMs: 3 },
    ]);
    assert.equal(firstSeenMs(a, 99n), 1);
    assert.equal(firstSeenMs(a, 100n), 3);
    assert.equal(firstSeenMs(a, 150n), null);
  });

  test('forgets what is planned', () => {
    const a = noteArrival(
      [
        { below: 100n, atMs: 1 },
        { below: 150n, atMs: 3 },
      ],
      150n,
      100n,
      9,
    );
    assert.deepEqual(a, [{ below: 150n, atMs: 3 }]);
    assert.deepEqual(noteArrival(a, 150n, 150n, 10), []);
  });

  test('stays bounded, keeping the older time for the newest offsets', () => {
    let a: Arrival[] = [];
    for (let i = 1; i <= MAX_ARRIVALS + 50; i++) a = noteArrival(a, BigInt(i), 0n, i);
    assert.equal(a.length, MAX_ARRIVALS);
    assert.deepEqual(a[a.length - 1], { below: BigInt(MAX_ARRIVALS + 50), atMs: MAX_ARRIVALS });
  });
});
