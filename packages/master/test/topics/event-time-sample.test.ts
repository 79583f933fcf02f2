/** What a sample must show for an event-time field to be used in its unit (issue 15 point 4). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SampledRecord } from '../../src/kafka/kafka-sample.ts';
import { eventTimeSampleProblem, sampleOffsets } from '../../src/topics/event-time-sample.ts';

const NOW = Date.UTC(2026, 11, 6, 12);

function rec(offset: number, value: unknown): { partition: number; record: SampledRecord } {
  const bytes =
    value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  return {
    partition: offset % 2,
    record: {
      offset: BigInt(offset),
      timestamp: NOW,
      keyBytes: 0,
      valueBytes: bytes?.length ?? 0,
      headerBytes: 0,
      headers: 0,
      value: bytes,
    },
  };
}

const seconds = Array.from({ length: 10 }, (_, i) => rec(i, { ev: { ts: NOW / 1000 - i } }));

describe('eventTimeSampleProblem', () => {
  test('epoch seconds with unit "s" pass; read as ms (declared or by default) they are refused with the fix', () => {
    const by = { kind: 'event-time', field: 'ev.ts', granularity: 'hour' } as const;
    assert.equal(eventTimeSampleProblem({ ...by, unit: 's' }, seconds, NOW), null);
    const declared = eventTimeSampleProblem({ ...by, unit: 'ms' }, seconds, NOW);
    assert.match(declared ?? '', /partitionBy\.field "ev\.ts" in unit "ms"/);
    assert.match(declared ?? '', /10 of 10 sampled values/);
    assert.match(
      declared ?? '',
      /e\.g\. 1796558400 \(partition 0, offset 0\) reads as 1970-01-21T19:02:38\.400Z/,
    );
    assert.match(declared ?? '', /set partitionBy\.unit to "s"/);
    const none = eventTimeSampleProblem(by, seconds, NOW);
    assert.match(none ?? '', /none declared: epoch milliseconds, or ISO-8601 text/);
    assert.match(none ?? '', /set partitionBy\.unit to "s"/);
  });

  test('values that do not parse, and dates more than a day ahead, are refused', () => {
    const iso = [rec(0, { t: '2026-12-06T10:00:00Z' }), rec(1, { t: '2026-12-06T11:00:00Z' })];
    const p = eventTimeSampleProblem(
      { kind: 'event-time', field: 't', granularity: 'day', unit: 's' },
      iso,
      NOW,
    );
    assert.match(p ?? '', /"2026-12-06T10:00:00Z" \(partition 0, offset 0\) does not parse/);
    assert.match(p ?? '', /set partitionBy\.unit to "iso8601"/);
    const ahead = [rec(0, { t: NOW + 2 * 86_400_000 })];
    assert.match(
      eventTimeSampleProblem(
        { kind: 'event-time', field: 't', granularity: 'day', unit: 'ms' },
        ahead,
        NOW,
      ) ?? '',
      /reads as 2026-12-08T12:00:00\.000Z/,
    );
  });

  test('a few odd records among good ones pass (they become counted fallbacks)', () => {
    const mixed = [...seconds, rec(20, { ev: { ts: 'soon' } }), rec(21, 'not json'), rec(22, null)];
    assert.equal(
      eventTimeSampleProblem(
        { kind: 'event-time', field: 'ev.ts', granularity: 'hour', unit: 's' },
        mixed,
        NOW,
      ),
      null,
    );
  });

  test('a field none of the records has is refused; an empty sample passes', () => {
    const by = { kind: 'event-time', field: 'ev.tss', granularity: 'hour', unit: 's' } as const;
    assert.match(eventTimeSampleProblem(by, seconds, NOW) ?? '', /is in none of the 10 records sampled/);
    assert.equal(eventTimeSampleProblem(by, [], NOW), null);
  });

  test('the example value shown cannot drive a terminal', () => {
    const p = eventTimeSampleProblem(
      { kind: 'event-time', field: 't', granularity: 'hour', unit: 'iso8601' },
      [rec(0, { t: 'x\u009b\u202ey' })],
      NOW,
    );
    assert.match(p ?? '', /"x\\u009b\\u202ey"/);
  });
});

test('sampleOffsets: where the registration starts, or the last records when fewer are left', () => {
  assert.deepEqual(
    sampleOffsets([
      { partition: 0, earliest: 0n, lastStable: 1000n, start: 0n },
      { partition: 1, earliest: 0n, lastStable: 1000n, start: 995n },
      { partition: 2, earliest: 0n, lastStable: 5n, start: 5n },
      { partition: 3, earliest: 7n, lastStable: 7n, start: 7n },
    ]),
    [
      { partition: 0, offset: 0n },
      { partition: 1, offset: 980n },
      { partition: 2, offset: 0n },
    ],
  );
});
