/**
 * Where a registration starts each partition from the commit records a destination holds
 * (topic-resume.ts): the contiguous run of this topic id's records counts, nothing else.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AbandonedRecord,
  abandonedRecordKey,
  type CommitRecord,
  commitRecordKey,
  type PartitionOffsets,
} from '@sluice/shared';
import type { ListedCommit } from '../../src/integrity/audit.ts';
import { committedEnds, partitionStarts } from '../../src/topics/topic-resume.ts';

const destination = { bucket: 'lake', prefix: 'raw' };

/**
 * A destination holding commit records `[partition, start, end, topicId]`, plus one object that
 * is not one, and the records of ranges forced deletions abandoned (`abandoned`).
 */
function storeOf(records: Array<[number, number, number, string]>, abandoned: AbandonedRecord[] = []) {
  const byKey = new Map<string, ListedCommit>();
  for (const [partition, start, end, topicId] of records) {
    const key = commitRecordKey('raw', { topic: 't', partition, start: BigInt(start), end: BigInt(end) });
    byKey.set(key, { key, record: { topicId } as CommitRecord });
  }
  const texts = new Map(
    abandoned.map((r, i) => [abandonedRecordKey('raw', 't', `r${i}`), JSON.stringify(r)]),
  );
  return {
    async list(_bucket: string, prefix: string) {
      const keys = [...byKey.keys(), ...texts.keys(), `${prefix}partition=0/notes.txt`];
      return keys.filter((k) => k.startsWith(prefix)).map((key) => ({ key, size: 1 }));
    },
    async commits(_bucket: string, keys: readonly string[]) {
      return keys.map((k) => byKey.get(k) ?? { key: k, record: null, error: 'vanished while being read' });
    },
    async text(_bucket: string, key: string) {
      return texts.get(key) ?? null;
    },
  };
}

test('ranges a forced DELETE abandoned join the run: the done range above them is not copied again', async () => {
  const abandoned = (topicId: string, start: string, end: string): AbandonedRecord => ({
    v: 1,
    topic: 't',
    topicId,
    destination,
    abandonedAt: '2026-01-01T00:00:00.000Z',
    reason: 'force',
    ranges: [{ partition: 0, start, end, state: 'failed', attempt: 2, error: 'x', keys: [] }],
  });
  const ends = await committedEnds(
    storeOf(
      [
        [0, 0, 100, 'id'],
        [0, 200, 300, 'id'], // done above the abandoned [100, 200)
        [1, 0, 50, 'id'],
        [1, 80, 90, 'id'],
      ],
      [abandoned('id', '100', '200'), abandoned('other', '50', '80')],
    ),
    [destination],
    't',
    'id',
  );
  assert.deepEqual([...ends].sort(), [
    [0, 300n],
    [1, 50n], // another incarnation's abandoned offsets fill no hole
  ]);
});

test('a partition resumes at the end of the contiguous run of its commit records from the first', async () => {
  const ends = await committedEnds(
    storeOf([
      [0, 0, 100, 'id'],
      [0, 100, 250, 'id'],
      [0, 400, 500, 'id'], // after a hole: not part of the run
      [1, 50, 80, 'id'],
      [1, 0, 60, 'id'], // overlapping records (a registration with resume:false) still join the run
    ]),
    [destination],
    't',
    'id',
  );
  assert.deepEqual([...ends].sort(), [
    [0, 250n],
    [1, 80n],
  ]);
});

test("another incarnation's commit records (other topic id) are not this topic's past", async () => {
  const ends = await committedEnds(
    storeOf([
      [0, 0, 300, 'old'],
      [1, 0, 100, 'old'],
      [1, 0, 40, 'new'],
    ]),
    [destination],
    't',
    'new',
  );
  assert.deepEqual([...ends], [[1, 40n]]);
});

test('partitions without commit records, and all with resume false, start per startFrom', () => {
  const offsets: PartitionOffsets[] = [
    { partition: 0, earliest: 5n, latest: 90n, lastStable: 88n },
    { partition: 1, earliest: 0n, latest: 10n, lastStable: 10n },
  ];
  const ends = new Map([[0, 40n]]);
  assert.deepEqual(partitionStarts(offsets, 'latest', ends, true), [
    { partition: 0, startOffset: 40n, resumed: true },
    { partition: 1, startOffset: 10n, resumed: false },
  ]);
  assert.deepEqual(partitionStarts(offsets, 'earliest', ends, false), [
    { partition: 0, startOffset: 5n, resumed: false },
    { partition: 1, startOffset: 0n, resumed: false },
  ]);
});
