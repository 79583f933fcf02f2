import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TimeBucketer } from '../src/time-bucket.ts';

const T = Date.UTC(2026, 10, 25, 8, 30, 0); // 2026-11-25T08:30:00Z

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

  test('event-time in a declared unit: epoch seconds land in their hour, not in 1970', () => {
    const b = new TimeBucketer({ kind: 'event-time', field: 'ts', granularity: 'hour', unit: 's' });
    assert.equal(b.folderOf(0, { ts: T / 1000 }), 'dt=2026-11-25/hr=08/');
    assert.equal(b.folderOf(0, { ts: '2026-11-25T08:30:00Z' }), 'dt=1970-01-01/hr=00/', 'not seconds');
    assert.equal(b.fallbacks, 1);
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
