import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import {
  ELECTION_PATH,
  ErrorCodes,
  isSluiceError,
  LEADER_PATH,
  type SluiceError,
  type ZkSession,
} from '@sluice/shared';
import { eventually, testLogger, zkFixture } from '@sluice/test-kit';
import { FencedWriter } from '../../src/leadership/fenced-writer.ts';
import { LeaderElection, readLeader } from '../../src/leadership/leader-election.ts';

const log = testLogger();

function election(session: ZkSession, id: string): LeaderElection {
  return new LeaderElection({
    session,
    identity: { id, host: 'test-host', httpAddress: `http://${id}.test:8080` },
    log,
  });
}

test('the first candidate leads; when its session closes the second leads with a new epoch', async (t) => {
  const zk = await zkFixture(t, 'election');
  const s1 = await zk.session();
  const s2 = await zk.session();
  const a = election(s1, 'master-a');
  const b = election(s2, 'master-b');

  const aElected = once(a, 'elected');
  await a.start();
  const [epochA] = await aElected;
  await b.start();
  assert.equal(a.isLeader, true);
  assert.equal(b.isLeader, false);
  assert.equal(a.epoch, epochA);
  assert.equal(b.epoch, null);
  assert.equal((await b.leaderInfo())?.id, 'master-a', 'a standby sees who leads');

  const aDeposed = once(a, 'deposed');
  const bElected = once(b, 'elected');
  await s1.close();
  await aDeposed;
  const [epochB] = await bElected;
  assert.equal(a.isLeader, false);
  assert.equal(b.isLeader, true);
  assert.ok(epochB > epochA, `epoch grows: ${epochA} -> ${epochB}`);
  const node = await s2.get(LEADER_PATH);
  assert.equal(node?.version, epochB);
  assert.equal(JSON.parse(node!.data.toString()).id, 'master-b');
  assert.equal((await b.leaderInfo())?.id, 'master-b');
});

test('a deposed leader cannot write: its fenced multi is refused and changes nothing (epoch 0 included)', async (t) => {
  const zk = await zkFixture(t, 'fence');
  const s1 = await zk.session();
  const s2 = await zk.session();
  const a = election(s1, 'master-a');
  const b = election(s2, 'master-b');
  await a.start();
  await b.start();
  // A fresh installation: the first leader's epoch is version 0 of /sluice/leader, the value
  // node-zookeeper-client's transactions would wrongly treat as "any version".
  assert.equal(a.epoch, 0);
  const staleEpoch = a.epoch!;

  const target = '/sluice/fenced-target';
  await s2.create(target, Buffer.from('before'));
  const fencedA: SluiceError[] = [];
  // Written through a NEW session of the old leader, as a master that came back would.
  const bElected = once(b, 'elected');
  await s1.close();
  await bElected;
  const s3 = await zk.session();
  const stale = new FencedWriter(s3, staleEpoch, (err) => fencedA.push(err));

  await assert.rejects(
    stale.multi([{ op: 'set', path: target, data: Buffer.from('after'), version: -1 }]),
    (err) => isSluiceError(err, ErrorCodes.NOT_LEADER),
  );
  assert.equal(fencedA.length, 1, 'the deposed leader is told to step down');
  assert.equal((await s3.get(target))?.data.toString(), 'before', 'nothing changed');
  await assert.rejects(stale.multi([{ op: 'create', path: '/sluice/other' }]), (err) =>
    isSluiceError(err, ErrorCodes.NOT_LEADER),
  );
  assert.equal(await s3.exists('/sluice/other'), false);

  // The current leader's fenced writes go through.
  const current = new FencedWriter(s2, b.epoch!, () => assert.fail('the leader is not fenced'));
  await current.multi([{ op: 'set', path: target, data: Buffer.from('after'), version: -1 }]);
  assert.equal((await s2.get(target))?.data.toString(), 'after');
});

test("a fenced write's own version conflict is not mistaken for lost leadership", async (t) => {
  const zk = await zkFixture(t, 'conflict');
  const s = await zk.session();
  const e = election(s, 'master-a');
  await e.start();
  await s.create('/sluice/x', Buffer.from('1'));
  const w = new FencedWriter(s, e.epoch!, () => assert.fail('must not be fenced'));
  await assert.rejects(
    w.multi([{ op: 'set', path: '/sluice/x', data: Buffer.from('2'), version: 7 }]),
    (err) => !isSluiceError(err) && (err as { zkCode?: number }).zkCode === -103,
  );
  assert.equal(e.isLeader, true);
});

test('a third candidate waits on its predecessor only, and leads once both before it are gone', async (t) => {
  const zk = await zkFixture(t, 'chain');
  const sessions = [await zk.session(), await zk.session(), await zk.session()];
  const elections = sessions.map((s, i) => election(s, `master-${i}`));
  for (const e of elections) await e.start();
  assert.deepEqual(
    elections.map((e) => e.isLeader),
    [true, false, false],
  );
  // The middle candidate leaves first: nobody new leads.
  await sessions[1]!.close();
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(
    elections.map((e) => e.isLeader),
    [true, false, false],
  );
  await sessions[0]!.close();
  await eventually(() => elections[2]!.isLeader, 10_000, 'the third candidate to lead');
  assert.equal((await readLeader(sessions[2]!))?.id, 'master-2');
  assert.deepEqual(await sessions[2]!.children(ELECTION_PATH), [elections[2]!.candidate]);
});

test('resigning hands leadership over at once and tells the old leader', async (t) => {
  const zk = await zkFixture(t, 'resign');
  const s1 = await zk.session();
  const s2 = await zk.session();
  const a = election(s1, 'master-a');
  const b = election(s2, 'master-b');
  await a.start();
  await b.start();
  const deposed = once(a, 'deposed');
  const elected = once(b, 'elected');
  await a.resign('test');
  assert.deepEqual(await deposed, ['test']);
  await elected;
  assert.equal(b.isLeader, true);
  assert.equal(s1.alive, true, 'the session stays open');
});

test('rewriting /sluice/leader behind the leader deposes it', async (t) => {
  const zk = await zkFixture(t, 'rewrite');
  const s1 = await zk.session();
  const a = election(s1, 'master-a');
  await a.start();
  const deposed = once(a, 'deposed');
  const other = await zk.session();
  await other.set(LEADER_PATH, Buffer.from('{"v":1,"id":"intruder"}'), -1);
  await deposed;
  assert.equal(a.isLeader, false);
});
