/**
 * Pure: the one Fetch request of Sluice (the worker's reader and the master's samplers send
 * it) and the one leader lookup, read back by the library's own request writer. No broker.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetchV12, fetchV17 } from '@platformatic/kafka';
import { type FetchRequest, fetchRequestArgs } from '../../src/kafka/fetch.ts';
import { type ClusterView, partitionLeader } from '../../src/kafka/metadata.ts';

const req: FetchRequest = {
  topic: 'events',
  topicId: '0f6f5b55-7a52-4a36-9d4b-2b2e3c1f9a10',
  partition: 3,
  leaderEpoch: 7,
  offset: 1234n,
  maxWaitMs: 500,
  maxBytes: 8 << 20,
  isolationLevel: 1,
};

test('v13+ names the topic by id, v12 by name; no fetch session; one partition at the offset', () => {
  const v17 = fetchRequestArgs(req, 17);
  const v12 = fetchRequestArgs(req, 12);
  assert.equal(v17.length, 9);
  assert.deepEqual(v17.slice(0, 6), [500, 1, 8 << 20, 1, 0, -1]);
  const topics = (args: unknown[]) => args[6] as Array<{ topicId: string; partitions: unknown[] }>;
  assert.equal(topics(v17)[0]?.topicId, req.topicId);
  assert.equal(topics(v12)[0]?.topicId, 'events');
  assert.deepEqual(topics(v17)[0]?.partitions, [
    {
      partition: 3,
      currentLeaderEpoch: 7,
      fetchOffset: 1234n,
      lastFetchedEpoch: -1,
      partitionMaxBytes: 8 << 20,
    },
  ]);
  // The library's writers of both ends of the range our parser reads accept the arguments.
  assert.ok(fetchV17.createRequest(...(v17 as Parameters<typeof fetchV17.createRequest>)));
  assert.ok(fetchV12.createRequest(...(v12 as Parameters<typeof fetchV12.createRequest>)));
});

test('the leader of a partition: its broker and epoch, or null when unknown or leaderless', () => {
  const broker = { host: '127.0.0.1', port: 9092 };
  const view: ClusterView = {
    brokers: new Map([[1, broker]]),
    topics: new Map([
      [
        'events',
        {
          errorCode: 0,
          topicId: req.topicId,
          partitions: [
            { partition: 0, errorCode: 0, leaderId: 1, leaderEpoch: 4 },
            { partition: 1, errorCode: 5, leaderId: -1, leaderEpoch: 4 },
            { partition: 2, errorCode: 0, leaderId: 9, leaderEpoch: 4 },
          ],
        },
      ],
    ]),
  };
  assert.deepEqual(partitionLeader(view, 'events', 0), { broker, leaderEpoch: 4 });
  assert.equal(partitionLeader(view, 'events', 1), null, 'no leader right now');
  assert.equal(partitionLeader(view, 'events', 2), null, 'a leader not among the known brokers');
  assert.equal(partitionLeader(view, 'events', 3), null, 'no such partition');
  assert.equal(partitionLeader(view, 'other', 0), null, 'no such topic');
});
