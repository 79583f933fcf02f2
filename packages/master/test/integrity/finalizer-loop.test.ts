import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import {
  commitRecordKey,
  decodeJson,
  encodeJson,
  finalizerPath,
  type ListedKey,
  partitionPath,
  partitionsPath,
  timeFolder,
  topicRoot,
  type ZkSession,
} from '@sluice/shared';
import { FakeKafka, partitionState, testLogger, topicRecord } from '@sluice/test-kit';
import type { FinalizerState } from '../../src/integrity/finalizer.ts';
import { FinalizerLoop } from '../../src/integrity/finalizer-loop.ts';
import { FencedWriter } from '../../src/leadership/fenced-writer.ts';
import type { OutputStore } from '../../src/stores/output-store.ts';
import { electedLeader } from '../helpers/leader-fixture.ts';

const log = testLogger();
const TOPIC = 'clicks';
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 25, 8, 20);

/** The S3 side of the finalizer in memory: keys and their text, listed in key order. */
class MemoryStore {
  readonly objects = new Map<string, string>();
  /** Prefixes of the listings asked, in order. */
  readonly listed: string[] = [];

  async list(
    _b: string,
    prefix: string,
    o: { startAfter?: string; limit?: number } = {},
  ): Promise<ListedKey[]> {
    this.listed.push(prefix);
    const keys = [...this.objects.keys()]
      .filter((k) => k.startsWith(prefix) && (o.startAfter === undefined || k > o.startAfter))
      .sort();
    return keys.slice(0, o.limit ?? keys.length).map((key) => ({ key, size: 1 }));
  }

  async commits(_b: string, keys: readonly string[]) {
    return keys.map((key) => ({ key, record: JSON.parse(this.objects.get(key)!) }));
  }

  async text(_b: string, key: string): Promise<string | null> {
    return this.objects.get(key) ?? null;
  }

  async putJson(_b: string, key: string, value: unknown, mode: 'create' | 'replace'): Promise<boolean> {
    if (mode === 'create' && this.objects.has(key)) return false;
    this.objects.set(key, JSON.stringify(value));
    return true;
  }
}

async function setup(t: TestContext, name: string, partitions: number) {
  const { s, e } = await electedLeader(t, name);
  await s.mkdirp(partitionsPath(TOPIC));
  for (let p = 0; p < partitions; p++)
    await s.create(partitionPath(TOPIC, p), encodeJson(partitionState({ committedOffset: '0' })));
  const kafka = new FakeKafka();
  kafka.set(
    TOPIC,
    'id-1',
    Array.from({ length: partitions }, (_, p) => [p, 0n, 0n] as [number, bigint, bigint]),
  );
  const store = new MemoryStore();
  const writer = new FencedWriter(s, e.epoch!, () => assert.fail('fenced'));
  const loop = () =>
    new FinalizerLoop({ writer, store: store as unknown as OutputStore, kafka, log, now: () => NOW });
  const topic = topicRecord(TOPIC, { createdAt: new Date(NOW - HOUR).toISOString() });
  return { s, kafka, store, loop, topic, writer };
}

/** A range [start, end) of `partition` committed: its commit record (one object in the current hour) and the partition's state. */
async function commit(
  s: ZkSession,
  store: MemoryStore,
  kafka: FakeKafka,
  partition: number,
  start: number,
  end: number,
) {
  const root = topicRoot('raw', TOPIC);
  const folder = timeFolder('hour', Math.floor(NOW / HOUR) * HOUR);
  const object = {
    key: `${root}${folder}${TOPIC}-${partition}-${start}-${end}.jsonl.gz`,
    records: end - start,
  };
  const range = { topic: TOPIC, partition, start: BigInt(start), end: BigInt(end) };
  store.objects.set(commitRecordKey('raw', range), JSON.stringify({ objects: [object] }));
  await s.set(
    partitionPath(TOPIC, partition),
    encodeJson(partitionState({ committedOffset: String(end) })),
    -1,
  );
  const offsets = kafka.topics.get(TOPIC)!.offsets;
  offsets[partition] = { partition, earliest: 0n, latest: BigInt(end), lastStable: BigInt(end) };
}

async function pending(s: ZkSession): Promise<number> {
  const state = decodeJson<FinalizerState>((await s.get(finalizerPath(TOPIC)))!.data, 'finalizer');
  return Object.values(state.pending).reduce((n, c) => n + c.records, 0);
}

test('the finalizer lists only partitions whose committed offset moved; a new topic is listed once, not per partition', async (t) => {
  const { s, kafka, store, loop, topic } = await setup(t, 'finalizer-listings', 50);
  const finalizer = loop();

  await finalizer.finalizeTopic(topic);
  assert.deepEqual(
    store.listed,
    [`${topicRoot('raw', TOPIC)}_sluice/commits/`],
    'one listing of the commits folder',
  );

  store.listed.length = 0;
  await finalizer.finalizeTopic(topic);
  assert.deepEqual(store.listed, [], 'nothing moved: nothing listed');

  await commit(s, store, kafka, 7, 0, 100);
  await finalizer.finalizeTopic(topic);
  assert.deepEqual(store.listed, [`${topicRoot('raw', TOPIC)}_sluice/commits/partition=7/`]);
  assert.equal(await pending(s), 100, 'the new commit record is counted');

  store.listed.length = 0;
  await finalizer.finalizeTopic(topic);
  assert.deepEqual(store.listed, [], 'counted records are not listed again');
  assert.equal(await pending(s), 100, 'and not counted twice');

  await commit(s, store, kafka, 7, 100, 250);
  await commit(s, store, kafka, 9, 0, 20);
  store.listed.length = 0;
  await finalizer.finalizeTopic(topic);
  assert.equal(store.listed.length, 2, 'the two partitions that moved');
  assert.equal(await pending(s), 270);

  // A new leader knows nothing of the last passes: every partition once, then only what moves.
  const next = loop();
  store.listed.length = 0;
  await next.finalizeTopic(topic);
  assert.equal(store.listed.length, 50, 'a cursor exists: one listing per partition');
  assert.equal(await pending(s), 270, 'nothing counted twice after a leader change');
  store.listed.length = 0;
  await next.finalizeTopic(topic);
  assert.deepEqual(store.listed, []);
});

test('a record the first listing of the commits folder holds is counted into its partition', async (t) => {
  const { s, kafka, store, loop, topic } = await setup(t, 'finalizer-first-listing', 3);
  // Committed before the finalizer's first pass (an earlier registration's, or a fast one).
  await commit(s, store, kafka, 2, 0, 40);
  await commit(s, store, kafka, 0, 0, 5);
  const finalizer = loop();
  await finalizer.finalizeTopic(topic);
  assert.equal(store.listed.length, 1);
  assert.equal(await pending(s), 45);
  const state = decodeJson<FinalizerState>((await s.get(finalizerPath(TOPIC)))!.data, 'finalizer');
  assert.deepEqual(Object.keys(state.cursor).sort(), ['0', '2'], 'each partition has its own cursor');
});

test('the finalizer takes the partition states the leader holds when it has them', async (t) => {
  const { s, kafka, store, topic, writer } = await setup(t, 'finalizer-leader-states', 2);
  await commit(s, store, kafka, 1, 0, 30);
  // ZooKeeper back at 0 for partition 1: only the leader's copy says 30 is committed.
  await s.set(partitionPath(TOPIC, 1), encodeJson(partitionState({ committedOffset: '0' })), -1);
  const finalizer = new FinalizerLoop({
    writer,
    store: store as unknown as OutputStore,
    kafka,
    log,
    now: () => NOW,
    partitionStates: () =>
      new Map([
        [0, partitionState({ committedOffset: '0' })],
        [1, partitionState({ committedOffset: '30' })],
      ]),
  });
  await finalizer.finalizeTopic(topic);
  assert.equal(await pending(s), 30);
});
