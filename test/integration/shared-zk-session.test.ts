import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { isBadVersion, ZkSession, zkCode } from '@sluice/shared';
import { loadStackEnv } from '@sluice/test-kit';

const env = loadStackEnv();
const chroot = `/it/zk-session-${randomBytes(4).toString('hex')}`;
const sessions: ZkSession[] = [];
async function open(extra: { digest?: string; sessionTimeoutMs?: number } = {}) {
  const s = await ZkSession.open({
    connect: `${env.SLUICE_ZOOKEEPER}${chroot}`,
    sessionTimeoutMs: 4000,
    ...extra,
  });
  sessions.push(s);
  return s;
}

after(async () => {
  const root = await ZkSession.open({ connect: env.SLUICE_ZOOKEEPER, sessionTimeoutMs: 4000 });
  await root.removeRecursive(chroot).catch(() => {});
  await root.close();
  for (const s of sessions) await s.close();
});

test('the chroot of the connect string is created when missing', async () => {
  const s = await open();
  assert.equal(await s.exists('/'), true);
  await s.create('/hello', Buffer.from('x'));
  assert.equal((await s.get('/hello'))?.data.toString(), 'x');
});

test('a multi-op whose version check fails changes nothing, even for version 0', async () => {
  const s = await open();
  await s.create('/fence', Buffer.from('epoch'));
  await s.set('/fence', Buffer.from('epoch-2'), 0); // now at version 1
  await s.create('/target', Buffer.from('before'));
  // node-zookeeper-client turns a check of version 0 into "any version"; ZkSession must not.
  await assert.rejects(
    s.multi([
      { op: 'check', path: '/fence', version: 0 },
      { op: 'set', path: '/target', data: Buffer.from('after'), version: 0 },
    ]),
    (e) => isBadVersion(e),
  );
  assert.equal((await s.get('/target'))?.data.toString(), 'before');
  await s.multi([
    { op: 'check', path: '/fence', version: 1 },
    { op: 'set', path: '/target', data: Buffer.from('after'), version: 0 },
  ]);
  assert.equal((await s.get('/target'))?.data.toString(), 'after');
});

test('with a digest, the nodes a session creates are closed to other users', async () => {
  const owner = await open({ digest: 'sluice:s3cret' });
  await owner.create('/private', Buffer.from('mine'));
  const stranger = await open();
  await assert.rejects(stranger.get('/private'), (e) => zkCode(e) === -102 /* NO_AUTH */);
  const same = await open({ digest: 'sluice:s3cret' });
  assert.equal((await same.get('/private'))?.data.toString(), 'mine');
});

test('an ephemeral node goes when its session closes, and a closed session refuses calls', async () => {
  const a = await open();
  const b = await open();
  await a.create('/eph', Buffer.alloc(0), { ephemeral: true });
  let deleted!: () => void;
  const gone = new Promise<void>((resolve) => {
    deleted = resolve;
  });
  // The watch must be in place before the close: set after it, it would wait on a node that
  // is already gone and never fire (a race that hung this test now and then).
  assert.equal(await b.exists('/eph', () => deleted()), true);
  await a.close();
  await gone;
  assert.equal(await b.exists('/eph'), false);
  await assert.rejects(a.get('/eph'), /session is gone/);
});
