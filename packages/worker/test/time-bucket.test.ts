import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fieldAt, parseEventTime, parseIsoTime, TimeBucketer } from '../src/time-bucket.ts';

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

describe('TimeBucketer', () => {
  test('none: one folder', () => {
    const b = new TimeBucketer({ kind: 'none' });
    assert.equal(b.folderOf(T, undefined), '');
  });

  test('kafka-time by hour and by day', () => {
    const hour = new TimeBucketer({ kind: 'kafka-time', granularity: 'hour' });
    assert.equal(hour.folderOf(T, { ignored: 1 }), 'dt=2026-11-25/hr=08/');
    const day = new TimeBucketer({ kind: 'kafka-time', granularity: 'day' });
    assert.equal(day.folderOf(T, undefined), 'dt=2026-11-25/');
  });

  test('event-time reads the dotted field: ISO or epoch ms', () => {
    const b = new TimeBucketer({ kind: 'event-time', field: 'meta.at', granularity: 'hour' });
    const kafkaTs = Date.UTC(2030, 0, 1);
    assert.equal(b.folderOf(kafkaTs, { meta: { at: '2026-11-25T23:59:59.999Z' } }), 'dt=2026-11-25/hr=23/');
    assert.equal(b.folderOf(kafkaTs, { meta: { at: T } }), 'dt=2026-11-25/hr=08/');
    assert.equal(b.folderOf(kafkaTs, { meta: { at: String(T) } }), 'dt=2026-11-25/hr=08/');
    assert.equal(b.fallbacks, 0);
  });

  test('event-time: missing or unparseable field falls back to Kafka time and is counted', () => {
    const b = new TimeBucketer({ kind: 'event-time', field: 'ts', granularity: 'day' });
    const kafkaTs = Date.UTC(2026, 0, 2, 12);
    assert.equal(b.folderOf(kafkaTs, { other: 1 }), 'dt=2026-01-02/');
    assert.equal(b.folderOf(kafkaTs, { ts: 'garbage' }), 'dt=2026-01-02/');
    assert.equal(b.folderOf(kafkaTs, undefined), 'dt=2026-01-02/', 'value not JSON');
    assert.equal(b.folderOf(kafkaTs, [1, 2]), 'dt=2026-01-02/');
    assert.equal(b.fallbacks, 4);
  });

  test('records on both sides of midnight land in two day folders and two hour folders', () => {
    const midnight = Date.UTC(2026, 11, 31, 24); // 2027-01-01T00:00:00Z
    const day = new TimeBucketer({ kind: 'kafka-time', granularity: 'day' });
    const hour = new TimeBucketer({ kind: 'event-time', field: 't', granularity: 'hour' });
    const times = [midnight - 1, midnight, midnight - 1, midnight + 1];
    assert.deepEqual(
      times.map((t) => day.folderOf(t, undefined)),
      ['dt=2026-12-31/', 'dt=2027-01-01/', 'dt=2026-12-31/', 'dt=2027-01-01/'],
    );
    assert.deepEqual(
      times.map((t) => hour.folderOf(0, { t: new Date(t).toISOString() })),
      ['dt=2026-12-31/hr=23/', 'dt=2027-01-01/hr=00/', 'dt=2026-12-31/hr=23/', 'dt=2027-01-01/hr=00/'],
    );
  });

  test('times before 1970 and Kafka timestamps outside years 0-9999 still get a folder', () => {
    const b = new TimeBucketer({ kind: 'kafka-time', granularity: 'hour' });
    assert.equal(b.folderOf(-1, undefined), 'dt=1969-12-31/hr=23/');
    assert.equal(b.folderOf(Number.MAX_SAFE_INTEGER, undefined), 'dt=9999-12-31/hr=23/');
  });
});
