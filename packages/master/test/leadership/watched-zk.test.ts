/**
 * The leader's watched reads (watched-zk.ts) and batched fenced writes (fenced-writer.ts):
 * what the leader reads again costs no request while nothing changed, every change (another
 * session's or its own) is seen on the next read, and batching several callers' writes into
 * one multi gives each caller the answer its own multi would have had.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ErrorCodes,
  encodeJson,
  isSluiceError,
  LEADER_PATH,
  partitionPath,
  partitionsPath,
  TOPICS_PATH,
  topicPath,
  zkCode,
} from '@sluice/shared';
import { FakeZk } from '@sluice/test-kit';
import { FencedWriter } from '../../src/leadership/fenced-writer.ts';
import { STATUS_WATCHED, WatchedZk } from '../../src/leadership/watched-zk.ts';

const RANGE = `${topicPath('clicks')}/partitions/0/${'0'.repeat(20)}-${'100'.padStart(20, '0')}`;

function server() {
  const zk = new FakeZk();
  zk.put(LEADER_PATH, encodeJson({ v: 1 }));
  zk.put(topicPath('clicks'), encodeJson({ topic: 'clicks', n: 1 }));
  zk.put(topicPath('views'), encodeJson({ topic: 'views', n: 1 }));
  zk.put(RANGE, encodeJson({ state: 'planned' }));
  return zk;
}

const text = (b: Buffer | undefined) => b?.toString() ?? null;

test('topic list, topic nodes and range nodes read again while unchanged cost no ZooKeeper request', async () => {
  const zk = server();
  const w = new WatchedZk(zk.session());
  const readAll = async () => [
    await w.children(TOPICS_PATH),
    text((await w.get(topicPath('clicks')))?.data),
    text((await w.get(RANGE))?.data),
  ];
  const first = await readAll();
  zk.resetCounts();
  assert.deepEqual(await readAll(), first);
  assert.deepEqual(zk.counts, {}, 'no request for what did not change');
  // Other nodes are never answered from memory: the leader node is the fence.
  await w.get(LEADER_PATH);
  await w.get(LEADER_PATH);
  assert.equal(zk.counts.get, 2);
});

test("another session's changes are seen on the next read, and only what changed is read again", async () => {
  const zk = server();
  const w = new WatchedZk(zk.session());
  const other = zk.session();
  await w.children(TOPICS_PATH);
  await w.get(topicPath('clicks'));
  await w.get(RANGE);
  const node = await other.get(RANGE);
  await other.set(RANGE, encodeJson({ state: 'done' }), node!.version);
  await other.create(topicPath('orders'), encodeJson({ topic: 'orders' }));
  zk.resetCounts();
  assert.equal(text((await w.get(RANGE))?.data), '{"state":"done"}');
  assert.deepEqual((await w.children(TOPICS_PATH)).sort(), ['clicks', 'orders', 'views']);
  await w.get(topicPath('clicks'));
  assert.deepEqual(zk.counts, { get: 1, children: 1 }, 'the topic node that did not change is not read');
  await other.remove(RANGE, -1);
  assert.equal(await w.get(RANGE), null, 'a removed node is gone at the next read');
});

test("the leader's own writes drop what they touch; refresh() re-reads everything once", async () => {
  const zk = server();
  const w = new WatchedZk(zk.session());
  const before = await w.get(RANGE);
  await w.multi([
    { op: 'set', path: RANGE, data: encodeJson({ state: 'active' }), version: before!.version },
  ]);
  const after = await w.get(RANGE);
  assert.equal(after?.version, before!.version + 1);
  assert.equal(text(after?.data), '{"state":"active"}');
  // A failed write drops too: the next read says why it failed.
  await assert.rejects(w.set(RANGE, encodeJson({}), before!.version), (e) => zkCode(e) === -103);
  zk.resetCounts();
  await w.get(RANGE);
  await w.get(RANGE);
  assert.deepEqual(zk.counts, { get: 1 }, 'read again once after the refused write');
  zk.resetCounts();
  w.refresh();
  await w.get(RANGE);
  await w.get(RANGE);
  assert.deepEqual(zk.counts, { get: 1 });
  // The watch set before refresh() still reports a change.
  await zk.session().set(RANGE, encodeJson({ state: 'done' }), after!.version);
  assert.equal(text((await w.get(RANGE))?.data), '{"state":"done"}');
});

test('writes of one turn go as one fenced multi; a failing caller gets its own error and the others succeed', async () => {
  const zk = server();
  const s = zk.session();
  const writer = new FencedWriter(s, (await s.get(LEADER_PATH))!.version, () => {});
  const a = `${topicPath('clicks')}/a`;
  const b = `${topicPath('clicks')}/b`;
  zk.resetCounts();
  await Promise.all([
    writer.multiBatched([{ op: 'create', path: a, data: encodeJson(1) }]),
    writer.multiBatched([{ op: 'create', path: b, data: encodeJson(2) }]),
  ]);
  assert.equal(zk.counts.multi, 1, 'one multi for both');
  const c = `${topicPath('clicks')}/c`;
  const results = await Promise.allSettled([
    writer.multiBatched([{ op: 'create', path: a }]),
    writer.multiBatched([{ op: 'create', path: c }]),
  ]);
  assert.equal(results[0]?.status, 'rejected');
  assert.equal(zkCode((results[0] as PromiseRejectedResult).reason), -110, 'NODE_EXISTS, as its own multi');
  assert.equal(results[1]?.status, 'fulfilled');
  assert.ok(zk.node(c), 'the other caller wrote');
});

test('a deposed leader writes nothing through a batch, and every caller learns it', async () => {
  const zk = server();
  const s = zk.session();
  let fenced = 0;
  const writer = new FencedWriter(s, (await s.get(LEADER_PATH))!.version, () => fenced++);
  zk.overwrite(LEADER_PATH, encodeJson({ v: 1, id: 'successor' }));
  const paths = ['x', 'y', 'z'].map((n) => `${topicPath('clicks')}/${n}`);
  const results = await Promise.allSettled(
    paths.map((path) => writer.multiBatched([{ op: 'create', path }])),
  );
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    assert.ok(isSluiceError((r as PromiseRejectedResult).reason, ErrorCodes.NOT_LEADER));
  }
  for (const p of paths) assert.equal(zk.node(p), undefined);
  assert.equal(fenced, 1);
});

test('the status reads: partition nodes and range names are cached, and a list read before its node existed sees it created', async () => {
  const zk = server();
  const w = new WatchedZk(zk.session(), STATUS_WATCHED);
  const other = zk.session();
  const parts = partitionsPath('orders');
  assert.deepEqual(await w.children(parts), [], 'no partitions node yet');
  await other.mkdirp(partitionPath('orders', 0));
  assert.deepEqual(await w.children(parts), ['0']);
  assert.deepEqual(await w.children(partitionPath('orders', 0)), [], 'a partition with nothing in flight');
  await w.get(partitionPath('orders', 0));
  zk.resetCounts();
  await w.children(parts);
  await w.children(partitionPath('orders', 0));
  await w.get(partitionPath('orders', 0));
  assert.deepEqual(zk.counts, {}, 'an idle partition costs no request');
  await other.create(`${partitionPath('orders', 0)}/${'0'.repeat(20)}-${'9'.padStart(20, '0')}`);
  assert.equal((await w.children(partitionPath('orders', 0))).length, 1);
});
