import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeJson,
  encodeJson,
  newPartitionState,
  newRange,
  type PartitionState,
  partitionPath,
  partitionsPath,
  type RangeRecord,
  type RangeResult,
  rangeNodeName,
  rangePath,
  TOPIC_DEFAULTS,
  type ZkSession,
} from '@sluice/shared';
import { partitionState, rangeResult as result, testLogger } from '@sluice/test-kit';
import { FencedWriter } from '../../src/leadership/fenced-writer.ts';
import { PartitionCache } from '../../src/ranges/partition-cache.ts';
import { commitState, Tracker } from '../../src/ranges/tracker.ts';
import { electedLeader } from '../helpers/leader-fixture.ts';

const log = testLogger();
const TOPIC = 'orders';

function range(
  start: bigint,
  end: bigint,
  state: RangeRecord['state'],
  res: RangeResult | null = null,
): RangeRecord {
  const now = new Date().toISOString();
  const output: RangeRecord['output'] = {
    destination: { bucket: 'b', prefix: 'p' },
    format: TOPIC_DEFAULTS.format,
    compression: TOPIC_DEFAULTS.compression,
    partitionBy: TOPIC_DEFAULTS.partitionBy,
    serverSideEncryption: 'none',
    kmsKeyId: '',
    storageClass: 'STANDARD',
  };
  return {
    ...newRange({ topic: TOPIC, topicId: 'id-1', partition: 0, output }, { start, end }, now),
    state,
    worker: state === 'planned' ? null : 'w1',
    result: res,
  };
}

async function setup(
  t: import('node:test').TestContext,
  name: string,
  committed: bigint,
  ranges: RangeRecord[],
) {
  const { zk, s, e } = await electedLeader(t, name);
  await s.mkdirp(partitionsPath(TOPIC));
  await s.create(
    partitionPath(TOPIC, 0),
    encodeJson(partitionState({ committedOffset: committed.toString() })),
  );
  for (const r of ranges) {
    await s.create(
      rangePath({ topic: TOPIC, partition: 0, start: BigInt(r.start), end: BigInt(r.end) }),
      encodeJson(r),
    );
  }
  const cache = new PartitionCache();
  await cache.load(s, TOPIC);
  const writer = new FencedWriter(s, e.epoch!, () => assert.fail('fenced'));
  return { zk, s, e, cache, tracker: new Tracker({ writer, cache, log }) };
}

async function state(s: ZkSession): Promise<PartitionState> {
  return decodeJson<PartitionState>((await s.get(partitionPath(TOPIC, 0)))?.data, 'partition');
}

async function rangeNames(s: ZkSession): Promise<string[]> {
  return (await s.children(partitionPath(TOPIC, 0))).sort();
}

async function markDone(s: ZkSession, r: RangeRecord, res: RangeResult): Promise<void> {
  const path = rangePath({ topic: TOPIC, partition: 0, start: BigInt(r.start), end: BigInt(r.end) });
  await s.set(path, encodeJson({ ...r, state: 'done', result: res }), -1);
}

test('done ranges advance the committed offset and are pruned; a range not done stops it', async (t) => {
  const r3 = range(300n, 400n, 'active');
  const { s, tracker, cache } = await setup(t, 'advance', 100n, [
    range(100n, 200n, 'done', result(100, 10_000)),
    range(200n, 300n, 'done', result(50, 20_000)),
    r3,
    range(400n, 500n, 'done', result(100, 10_000)),
  ]);
  await tracker.pass();
  const st = await state(s);
  assert.equal(st.committedOffset, '300');
  assert.equal(st.committedRecords, 150);
  assert.equal(st.committedRanges, 2);
  assert.equal(st.committedBytes, 3_000);
  assert.equal(st.committedMaxTimestamp, 2_100);
  // 100 then 200 bytes per offset, as a moving average that leans on the older value
  assert.ok(st.bytesPerOffset > 100 && st.bytesPerOffset < 200, `bytesPerOffset ${st.bytesPerOffset}`);
  assert.deepEqual(await rangeNames(s), [
    rangeNodeName({ start: 300n, end: 400n }),
    rangeNodeName({ start: 400n, end: 500n }),
  ]);
  assert.equal(cache.get(TOPIC, 0)?.ranges.length, 2);

  // Nothing new done: nothing changes, not even updatedAt.
  const before = await s.get(partitionPath(TOPIC, 0));
  await tracker.pass();
  assert.equal((await s.get(partitionPath(TOPIC, 0)))?.version, before?.version);

  await markDone(s, r3, result(100, 10_000));
  await tracker.pass();
  assert.equal((await state(s)).committedOffset, '500');
  assert.equal((await state(s)).committedRanges, 4);
  assert.deepEqual(await rangeNames(s), []);
  assert.equal(cache.planned(cache.get(TOPIC, 0)!), 500n);
});

test('a hole before the first done range stops the committed offset', async (t) => {
  const { s, tracker } = await setup(t, 'hole', 0n, [range(100n, 200n, 'done', result(100, 10_000))]);
  await tracker.pass();
  assert.equal((await state(s)).committedOffset, '0');
  assert.deepEqual(await rangeNames(s), [rangeNodeName({ start: 100n, end: 200n })]);
});

test('a failed or planned first range stops the committed offset', async (t) => {
  const { s, tracker } = await setup(t, 'failed', 0n, [
    range(0n, 100n, 'failed'),
    range(100n, 200n, 'done', result(100, 10_000)),
  ]);
  await tracker.pass();
  assert.equal((await state(s)).committedOffset, '0');
  assert.equal((await rangeNames(s)).length, 2);
});

test('retention gaps are counted and left out of the size estimate', async (t) => {
  const gap = result(0, 0, { gaps: [{ start: '0', end: '1000', cause: 'retention' }] });
  const { s, tracker } = await setup(t, 'gap', 0n, [
    range(0n, 1_000n, 'done', gap),
    range(1_000n, 1_100n, 'done', result(100, 5_000)),
  ]);
  await tracker.pass();
  const st = await state(s);
  assert.equal(st.committedOffset, '1100');
  assert.equal(st.gapOffsets, '1000');
  assert.equal(st.bytesPerOffset, 50);
});

test("a deposed leader's tracker commits nothing", async (t) => {
  const { s, cache } = await setup(t, 'deposed', 0n, [range(0n, 100n, 'done', result(100, 1_000))]);
  const fenced: unknown[] = [];
  const stale = new FencedWriter(s, 41, (err) => fenced.push(err));
  await assert.rejects(new Tracker({ writer: stale, cache, log }).pass(), /epoch 41 is over/);
  assert.equal(fenced.length, 1);
  assert.equal((await state(s)).committedOffset, '0');
  assert.equal((await rangeNames(s)).length, 1);
});

test('commitState never moves the committed offset backward', () => {
  assert.throws(() => commitState(partitionState({ committedOffset: '500' }), 400n, []), /backward/);
});

test('commitState keeps where the partition started (the audit tiles commit records from it)', () => {
  const before = partitionState({ committedOffset: '100', startOffset: '40' });
  const after = commitState(before, 200n, [range(100n, 200n, 'done', result(100, 1_000))]);
  assert.equal(after.committedOffset, '200');
  assert.equal(after.startOffset, '40');
  assert.equal(commitState(partitionState({ committedOffset: '0' }), 0n, []).startOffset, undefined);
});
