/**
 * The worker's section of exactly-once.ts: the act/stale/done/gone decision and the keys an
 * attempt removes. Pure: no server.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideJob, keysToRemove, type ObjectEntry } from '@sluice/shared';

function objects(...keys: string[]): { objects: ObjectEntry[] } {
  return {
    objects: keys.map((key) => ({
      key,
      records: 1,
      bytes: 1,
      rawBytes: 1,
      sha256: '0'.repeat(64),
      firstOffset: '0',
      lastOffset: '0',
      minTimestamp: null,
      maxTimestamp: null,
    })),
  };
}

test('a job acts only on its own current attempt of a range that is not done', () => {
  assert.equal(decideJob(null, 1), 'gone');
  assert.equal(decideJob({ attempt: 2, state: 'active' }, 1), 'stale');
  // A newer job than the node (cannot happen by the rules, but it is not this job's attempt either).
  assert.equal(decideJob({ attempt: 1, state: 'planned' }, 2), 'stale');
  // Another attempt's done range is stale for this job, not done: the job did not complete it.
  assert.equal(decideJob({ attempt: 2, state: 'done' }, 1), 'stale');
  assert.equal(decideJob({ attempt: 1, state: 'done' }, 1), 'done');
  for (const state of ['planned', 'active', 'failed'] as const) {
    assert.equal(decideJob({ attempt: 3, state }, 3), 'act', state);
  }
});

test('an attempt removes the recorded keys the standing commit record does not list, once each', () => {
  // Earlier attempts recorded a and b; this attempt wrote b and c; the standing record lists b and c.
  assert.deepEqual(keysToRemove(['a', 'b', 'b', 'c'], objects('b', 'c')), ['a']);
  // Another attempt's record stands and lists a only: this attempt's own c goes too.
  assert.deepEqual(keysToRemove(['a', 'b', 'c'], objects('a')), ['b', 'c']);
  assert.deepEqual(keysToRemove(['a'], objects('a', 'z')), []);
  assert.deepEqual(keysToRemove([], objects()), []);
  // Any iterable of keys (a Set of earlier keys, say), in the order recorded.
  assert.deepEqual(keysToRemove(new Set(['x', 'a', 'y']), objects('a')), ['x', 'y']);
});
