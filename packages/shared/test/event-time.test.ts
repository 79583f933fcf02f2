/** The event-time units (issue 15 point 4: epoch seconds read as milliseconds landed in 1970). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fieldAt, parseEventTime, parseIsoTime } from '../src/event-time.ts';

const T = Date.UTC(2026, 10, 25, 8, 30, 0); // 2026-11-25T08:30:00Z

describe('parseIsoTime', () => {
  test('UTC, offsets, fractions, date only', () => {
    assert.equal(parseIsoTime('2026-11-25T08:30:00Z'), T);
    assert.equal(parseIsoTime('2026-11-25T08:30:00.123Z'), T + 123);
    assert.equal(parseIsoTime('2026-11-25T08:30:00.123456789Z'), T + 123);
    assert.equal(parseIsoTime('2026-11-25T10:30:00+02:00'), T);
    assert.equal(parseIsoTime('2026-11-25T03:00:00-0530'), T);
    assert.equal(parseIsoTime('2026-11-25 08:30:00Z'), T);
    assert.equal(parseIsoTime('2026-11-25'), Date.UTC(2026, 10, 25));
  });

  test('no zone means UTC, never the local zone', () => {
    assert.equal(parseIsoTime('2026-11-25T08:30:00'), T);
    assert.equal(parseIsoTime('2026-11-25T08:30'), T);
  });

  test('rejects what is not a valid ISO-8601 time', () => {
    for (const bad of [
      'yesterday',
      '2026-02-30T00:00:00Z',
      '2026-13-01',
      '2026-11-25T25:00:00Z',
      'Wed, 25 Nov 2026 08:30:00 GMT',
      '11/25/2026',
      '',
    ]) {
      assert.equal(parseIsoTime(bad), undefined, bad);
    }
  });
});

describe('parseEventTime', () => {
  test('epoch milliseconds as a number or a numeric string', () => {
    assert.equal(parseEventTime(T), T);
    assert.equal(parseEventTime(String(T)), T);
    assert.equal(parseEventTime(T + 0.7), T);
  });

  test('ISO strings', () => {
    assert.equal(parseEventTime('2026-11-25T08:30:00Z'), T);
  });

  test('garbage and out-of-range times are not times', () => {
    for (const bad of [null, true, {}, [], 'soon', Number.NaN, Number.POSITIVE_INFINITY, 1e20, '-1e99']) {
      assert.equal(parseEventTime(bad), undefined, String(bad));
    }
  });
});

test('fieldAt follows a dotted path through objects only', () => {
  const v = { event: { ts: 5, list: [1] }, 'a.b': 1 };
  assert.equal(fieldAt(v, ['event', 'ts']), 5);
  assert.equal(fieldAt(v, ['event', 'missing']), undefined);
  assert.equal(fieldAt(v, ['event', 'list', '0']), undefined);
  assert.equal(fieldAt('str', ['length']), undefined);
  assert.equal(fieldAt({}, ['constructor']), undefined);
});

describe('parseEventTime with a declared unit', () => {
  test('s, ms, us, ns: numbers and numeric strings', () => {
    assert.equal(parseEventTime(T / 1000, 's'), T);
    assert.equal(parseEventTime(String(T / 1000), 's'), T);
    assert.equal(parseEventTime((T + 250) / 1000, 's'), T + 250, 'fractions of seconds');
    assert.equal(parseEventTime(T, 'ms'), T);
    assert.equal(parseEventTime(T * 1000 + 999, 'us'), T);
    assert.equal(parseEventTime(`${T}999`, 'us'), T);
    assert.equal(parseEventTime(T * 1e6, 'ns'), T);
  });

  test('nanosecond strings beyond 2^53 keep their milliseconds', () => {
    assert.equal(parseEventTime('1764059400123999999', 'ns'), 1764059400123);
    assert.equal(parseEventTime('-1', 'ns'), -1, 'floor, not toward zero');
  });

  test('iso8601 takes texts only; numeric units take no ISO text', () => {
    assert.equal(parseEventTime('2026-11-25T08:30:00Z', 'iso8601'), T);
    assert.equal(parseEventTime(T, 'iso8601'), undefined);
    assert.equal(parseEventTime(String(T), 'iso8601'), undefined);
    for (const unit of ['s', 'ms', 'us', 'ns'] as const) {
      assert.equal(parseEventTime('2026-11-25T08:30:00Z', unit), undefined, unit);
      assert.equal(parseEventTime(true, unit), undefined, unit);
    }
  });

  test('without a unit: what Sluice always did (epoch ms, or ISO text)', () => {
    assert.equal(parseEventTime(T / 1000), Math.floor(T / 1000), 'seconds read as ms: 1970');
    assert.equal(parseEventTime('2026-11-25T08:30:00Z'), T);
  });

  test('a year a folder cannot name is not a time', () => {
    assert.equal(parseEventTime(T, 's'), undefined, 'milliseconds read as seconds: past year 9999');
    assert.equal(parseEventTime(T * 1000, 'us'), T);
  });
});
