/**
 * Where a registration starts each partition from the commit records a destination holds
 * (topic-resume.ts): the contiguous run of this topic id's records counts, nothing else.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CommitRecord, commitRecordKey, type PartitionOffsets } from '@sluice/shared';
import type { ListedCommit } from '../../src/integrity/audit.ts';
import { committedEnds, partitionStarts } from '../../src/topics/topic-resume.ts';

const destination = { bucket: 'lake', prefix: 'raw' };

/** A destination holding commit records `[partition, start, end, topicId]`, plus one object that is not one. */
function storeOf(records: Array<[number, number, number, string]>) {
  const byKey = new Map<string, ListedCommit>();
  for (const [partition, start, end, topicId] of records) {
    const key = commitRecordKey('raw', { topic: 't', partition, start: BigInt(start), end: BigInt(end) });
    byKey.set(key, { key, record: { topicId } as CommitRecord });
  }
  return {
    async list(_bucket: string, prefix: string) {
      const keys = [...byKey.keys(), `${prefix}partition=0/notes.txt`];
      return keys.filter((k) => k.startsWith(prefix)).map((key) => ({ key, size: 1 }));
    },
    async commits(_bucket: string, keys: readonly string[]) {
      return keys.map((k) => byKey.get(k) ?? { key: k, record: null, error: 'vanished while being read' });
    },
  };
}

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
