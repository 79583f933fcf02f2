/**
 * Issue 15: which ranges may leave their output snapshot for a topic's changed destination
 * (mayFollowOutput, followOutput of exactly-once.ts). Pure: no ZooKeeper, no S3. A range that
 * may have written under its snapshot must keep it, whatever else changed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ErrorCodes,
  followOutput,
  isSluiceError,
  mayFollowOutput,
  newRange,
  type OutputSpec,
  outputSpecOf,
  type RangeRecord,
  requeue,
  TOPIC_DEFAULTS,
} from '@sluice/shared';

const T = '2026-03-01T10:00:00.000Z';
const old: OutputSpec = {
  destination: { bucket: 'gone', prefix: 'lake' },
  format: TOPIC_DEFAULTS.format,
  compression: TOPIC_DEFAULTS.compression,
  partitionBy: { kind: 'event-time', field: 'ts', granularity: 'hour' },
  serverSideEncryption: 'none',
  kmsKeyId: '',
  storageClass: 'STANDARD',
};
const moved: OutputSpec = { ...old, destination: { bucket: 'good', prefix: 'lake' } };

function range(over: Partial<RangeRecord> = {}): RangeRecord {
  return {
    ...newRange(
      { topic: 'clicks', topicId: 'id-1', partition: 3, output: old },
      { start: 100n, end: 200n },
      T,
    ),
    ...over,
  };
}

test('a planned or failed range with no key recorded follows a changed destination', () => {
  assert.equal(mayFollowOutput(range(), moved), true, 'planned, never started');
  const failed = range({ state: 'failed', failures: 4, error: 'NoSuchBucket: gone', attempt: 4 });
  assert.equal(mayFollowOutput(failed, moved), true, 'failed before any upload');
  const requeued = requeue(range({ state: 'active', worker: 'w1' }), 'worker-lost');
  assert.equal(mayFollowOutput(requeued, moved), true, 'requeued after its worker left, nothing recorded');
});

test('a range that may have written, or may be writing, keeps its snapshot', () => {
  assert.equal(
    mayFollowOutput(range({ state: 'active', worker: 'w1' }), moved),
    false,
    'active: a worker works it now',
  );
  assert.equal(mayFollowOutput(range({ state: 'done' }), moved), false, 'done is final');
  const recorded = range({
    state: 'failed',
    keys: ['lake/clicks/dt=2026-03-01/hr=10/clicks-3-100-200.jsonl.gz'],
  });
  assert.equal(mayFollowOutput(recorded, moved), false, 'a recorded key may exist in the old bucket');
  assert.equal(
    mayFollowOutput(requeue(recorded, 'failed'), moved),
    false,
    'keys survive a requeue, so does the snapshot',
  );
  assert.equal(mayFollowOutput(range(), old), false, 'nothing to follow when the output is unchanged');
});

test('only a new destination is followed; it takes the whole current output', () => {
  assert.equal(
    mayFollowOutput(range(), { ...old, format: 'raw' }),
    false,
    'a format change alone applies to ranges planned afterwards',
  );
  const elsewhere = { ...old, format: 'raw', destination: { bucket: 'gone', prefix: 'moved' } } as OutputSpec;
  assert.equal(mayFollowOutput(range(), elsewhere), true, 'a new prefix is a new destination');
  assert.deepEqual(followOutput(range(), elsewhere).output, elsewhere);
});

test('the followed range is a new attempt with the new snapshot, its old failures forgotten', () => {
  const failed = range({
    state: 'failed',
    failures: 5,
    error: 'NoSuchBucket: gone',
    attempt: 5,
    updatedAt: T,
  });
  const next = followOutput(failed, moved);
  assert.equal(next.attempt, 6, 'a new attempt: the old job is stale');
  assert.equal(next.state, 'planned');
  assert.deepEqual(next.output, moved);
  assert.equal(next.requeueReason, 'destination-changed');
  assert.equal(next.failures, 0, 'the backoff starts over: the failures were the old bucket’s');
  assert.equal(next.error, null);
  assert.deepEqual(
    [next.start, next.end, next.partition, next.topicId],
    ['100', '200', 3, 'id-1'],
    'same range',
  );
  assert.deepEqual(next.keys, []);
});

test('following a range that may have written is refused, not written', () => {
  assert.throws(
    () => followOutput(range({ state: 'failed', keys: ['k'] }), moved),
    (err) => isSluiceError(err, ErrorCodes.RANGE_STATE) && /keeps it/.test((err as Error).message),
  );
});

test('a Parquet schema change alone is no reason to follow: a planned range keeps its columns, on retry too', () => {
  const columns = (names: string[]) => ({
    source: 'inline' as const,
    unknownFields: 'json' as const,
    fields: names.map((name) => ({ name, type: 'string' as const })),
  });
  const before: OutputSpec = { ...old, format: 'parquet', compression: 'zstd', schema: columns(['id']) };
  const after: OutputSpec = { ...before, schema: columns(['id', 'country']) };
  const planned = newRange(
    { topic: 'clicks', topicId: 'id-1', partition: 3, output: before },
    { start: 0n, end: 10n },
    T,
  );
  assert.equal(mayFollowOutput(planned, after), false, 'planned, never started');
  const retried = requeue({ ...planned, state: 'active', worker: 'w1' }, 'worker-lost');
  assert.equal(mayFollowOutput(retried, after), false);
  assert.deepEqual(
    retried.output.schema,
    columns(['id']),
    'the retry writes the columns it was planned with',
  );
  // The snapshot is a copy: changing the topic's schema object later does not reach into it.
  const spec = outputSpecOf(after);
  if (after.schema?.source === 'inline') after.schema.fields.push({ name: 'late', type: 'string' });
  assert.deepEqual(spec.schema, columns(['id', 'country']));
});
