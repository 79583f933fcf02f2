/** Throughput from sampled committed totals (pure). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ThroughputTracker, TotalsSeries } from '../../src/status/throughput.ts';

test('a rate needs two samples a second apart, then covers the window', () => {
  const s = new TotalsSeries();
  s.add({ atMs: 0, records: 0, bytes: 0 });
  assert.equal(s.rate(60_000), null);
  s.add({ atMs: 500, records: 10, bytes: 100 });
  assert.equal(s.rate(60_000), null, 'half a second is too short');
  for (let t = 5_000; t <= 120_000; t += 5_000) s.add({ atMs: t, records: t / 10, bytes: t });
  // Last minute: from 60 s (6000 records) to 120 s (12000 records).
  assert.deepEqual(s.rate(60_000), { recordsPerSec: 100, bytesPerSec: 1000 });
  // A window longer than the series: over all of it.
  const all = s.rate(15 * 60_000)!;
  assert.equal(Math.round(all.recordsPerSec), 100);
});

test('a total that goes down starts the series again', () => {
  const s = new TotalsSeries();
  s.add({ atMs: 0, records: 100, bytes: 100 });
  s.add({ atMs: 10_000, records: 200, bytes: 200 });
  s.add({ atMs: 20_000, records: 5, bytes: 5 });
  assert.equal(s.samples.length, 1);
  assert.equal(s.rate(60_000), null);
});

test('samples older than 16 minutes are dropped', () => {
  const s = new TotalsSeries();
  for (let t = 0; t <= 30 * 60_000; t += 60_000) s.add({ atMs: t, records: t, bytes: t });
  assert.ok(s.samples[0]!.atMs >= 30 * 60_000 - 16 * 60_000);
});

test('the total is the sum of per-topic increases; a topic that goes away does not reduce it', () => {
  const t = new ThroughputTracker();
  t.sample(
    0,
    new Map([
      ['a', { records: 0, bytes: 0 }],
      ['b', { records: 1000, bytes: 1000 }],
    ]),
  );
  t.sample(
    10_000,
    new Map([
      ['a', { records: 100, bytes: 1_000 }],
      ['b', { records: 1100, bytes: 2000 }],
    ]),
  );
  assert.deepEqual(t.topic('a').m1, { recordsPerSec: 10, bytesPerSec: 100 });
  assert.deepEqual(t.total().m1, { recordsPerSec: 20, bytesPerSec: 200 });
  // b is deleted: the total keeps what it had, a grows on.
  t.sample(20_000, new Map([['a', { records: 200, bytes: 2_000 }]]));
  assert.deepEqual(t.total().m1, { recordsPerSec: 15, bytesPerSec: 150 });
  assert.equal(t.topic('b').m1, null);
  const h = t.history(30_000);
  assert.equal(h.length, 2);
  assert.equal(h[1]!.at, new Date(20_000).toISOString());
});
