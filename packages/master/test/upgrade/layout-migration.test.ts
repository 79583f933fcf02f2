/**
 * The layout migration on the real ZooKeeper: a tree of the unversioned layout (what releases
 * up to 0.1.0 write) becomes layout 2 once; running it again changes nothing; a record or a
 * tree of a newer release is refused with SLUICE_ERR_NEWER_LAYOUT before anything is written;
 * a leader whose epoch is over writes nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  encodeJson,
  isSluiceError,
  LAYOUT_PATH,
  type LayoutRecord,
  partitionPath,
  partitionsPath,
  SLUICE_VERSION,
  topicPath,
  ZK_LAYOUT_VERSION,
  type ZkSession,
} from '@sluice/shared';
import { testLogger, topicRecord, zkFixture } from '@sluice/test-kit';
import { FencedWriter } from '../../src/leadership/fenced-writer.ts';
import { LeaderElection } from '../../src/leadership/leader-election.ts';
import { migrateLayout } from '../../src/upgrade/layout-migration.ts';

const log = testLogger();

async function leader(s: ZkSession, id = 'm'): Promise<{ writer: FencedWriter }> {
  const election = new LeaderElection({
    session: s,
    identity: { id, host: 'h', httpAddress: 'http://m' },
    log,
  });
  await election.start();
  const writer = new FencedWriter(s, election.epoch!, () => undefined);
  return { writer };
}

/**
 * A topic with one partition node, as the previous release lays them out (no layout node).
 * The migration reads only `v`, so the partition node holds no more than that; `partitionV`
 * makes it a record of another release.
 */
async function previousReleaseTree(s: ZkSession, topic: string, partitionV = 1): Promise<void> {
  await s.create(topicPath(topic), encodeJson(topicRecord(topic)));
  await s.create(partitionsPath(topic));
  await s.create(partitionPath(topic, 0), encodeJson({ v: partitionV, committedOffset: '0' }));
}

test('an unversioned tree is migrated to this layout once; a second run changes nothing', async (t) => {
  const zk = await zkFixture(t, 'layout-once');
  const s = await zk.session();
  await previousReleaseTree(s, 'orders');
  const { writer } = await leader(s);
  assert.equal(await s.get(LAYOUT_PATH), null, 'the previous release writes no layout node');

  assert.equal(await migrateLayout(writer, log), 1, 'one step: layout 1 to 2');
  const node = await s.get(LAYOUT_PATH);
  assert.ok(node);
  const record = JSON.parse(node.data.toString('utf8')) as LayoutRecord;
  assert.deepEqual(
    { v: record.v, layout: record.layout, from: record.from, release: record.release },
    { v: 1, layout: ZK_LAYOUT_VERSION, from: 1, release: SLUICE_VERSION },
  );

  assert.equal(await migrateLayout(writer, log), 0, 'a current tree needs no step');
  assert.equal((await s.get(LAYOUT_PATH))?.version, node.version, 'the layout node is not rewritten');
});

test('a record of a newer release stops the migration before anything is written', async (t) => {
  const zk = await zkFixture(t, 'layout-newer-record');
  const s = await zk.session();
  await previousReleaseTree(s, 'orders', 2);
  const { writer } = await leader(s);
  await assert.rejects(
    migrateLayout(writer, log),
    (err) =>
      isSluiceError(err, 'SLUICE_ERR_NEWER_LAYOUT') && /partitions\/0 has record version 2/.test(err.message),
  );
  assert.equal(await s.get(LAYOUT_PATH), null);
});

test('a tree in a newer layout is refused', async (t) => {
  const zk = await zkFixture(t, 'layout-newer-tree');
  const s = await zk.session();
  await s.create(
    LAYOUT_PATH,
    encodeJson({ v: 1, layout: ZK_LAYOUT_VERSION + 1, from: 2, release: 'x', migratedAt: '' }),
  );
  const { writer } = await leader(s);
  await assert.rejects(
    migrateLayout(writer, log),
    (err) => isSluiceError(err, 'SLUICE_ERR_NEWER_LAYOUT') && /layout 3/.test(err.message),
  );
});

test('a leader whose epoch is over writes no layout node', async (t) => {
  const zk = await zkFixture(t, 'layout-fenced');
  const s = await zk.session();
  await previousReleaseTree(s, 'orders');
  const { writer } = await leader(s);
  // An epoch that is not /sluice/leader's version: a predecessor's, whose term is over.
  const stale = new FencedWriter(s, writer.epoch + 1, () => undefined);
  await assert.rejects(migrateLayout(stale, log), (err) => isSluiceError(err, 'SLUICE_ERR_NOT_LEADER'));
  assert.equal(await s.get(LAYOUT_PATH), null);
});
