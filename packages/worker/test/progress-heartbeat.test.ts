/**
 * The progress heartbeat beats only after real movement (a hung read or upload must look
 * stalled to the leader), never two beats at once, and hands a failed beat to `onError` (which
 * aborts the attempt). No server: the beat is a function.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProgressHeartbeat } from '../src/progress-heartbeat.ts';

test('beats with the latest offset only when the read or an upload moved', async (t) => {
  const beats: bigint[] = [];
  const ac = new AbortController();
  const hb = new ProgressHeartbeat(100n, {
    intervalMs: 10,
    beat: async (offset) => {
      beats.push(offset);
    },
    onError: (err) => assert.fail(String(err)),
    signal: ac.signal,
  });
  t.after(() => hb.stop());
  await sleep(40);
  assert.deepEqual(beats, [], 'no movement, no beat');
  hb.moved(150n);
  hb.moved(180n);
  await sleep(40);
  assert.deepEqual(beats, [180n], 'one beat with the latest offset');
  hb.moved(); // bytes went up; the read did not move
  await sleep(40);
  assert.deepEqual(beats, [180n, 180n]);
  ac.abort();
  hb.moved(200n);
  await sleep(40);
  assert.deepEqual(beats, [180n, 180n], 'no beat once aborted');
});

test('a slow beat is never overlapped, and a failed beat goes to onError', async (t) => {
  let running = 0;
  let most = 0;
  const errors: unknown[] = [];
  let release!: () => void;
  const slow = new Promise<void>((resolve) => {
    release = resolve;
  });
  const hb = new ProgressHeartbeat(0n, {
    intervalMs: 5,
    beat: async () => {
      running++;
      most = Math.max(most, running);
      await slow;
      running--;
      throw new Error('attempt 1 is stale');
    },
    onError: (err) => errors.push(err),
    signal: new AbortController().signal,
  });
  t.after(() => hb.stop());
  for (let i = 0; i < 6; i++) {
    hb.moved(BigInt(i));
    await sleep(10);
  }
  assert.equal(most, 1);
  release();
  await sleep(20);
  hb.stop();
  assert.ok(errors.length >= 1);
  assert.match(String(errors[0]), /stale/);
});
