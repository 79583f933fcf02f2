/**
 * The kit's own rules, since every other test leans on them: stack.env is read with
 * stack.sh's quoting, and the in-memory ZooKeeper keeps the promises of the real one that
 * Sluice's code relies on (versions, all-or-nothing multi, ephemeral and sequential nodes,
 * one-shot watches, a lost session refusing calls).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { ErrorCodes, isBadVersion, isNodeExists, isSluiceError } from '@sluice/shared';
import { FakeZk, parseEnvFile } from '@sluice/test-kit';

test("stack.env: bare words, stack.sh's single quotes with '\\'' inside, double quotes, export, comments", () => {
  const env = parseEnvFile(
    [
      '# a comment',
      'SLUICE_A=127.0.0.1:19092',
      "SLUICE_B='two words'",
      "SLUICE_C='it'\\''s'",
      'export SLUICE_D="say \\"hi\\""',
      '',
      'not a setting',
    ].join('\n'),
  );
  assert.deepEqual(env, {
    SLUICE_A: '127.0.0.1:19092',
    SLUICE_B: 'two words',
    SLUICE_C: "it's",
    SLUICE_D: 'say "hi"',
  });
});

test('fake ZooKeeper: a multi is all or nothing, and a check of version 0 really checks', async () => {
  const zk = new FakeZk().session();
  await zk.mkdirp('/a');
  await zk.create('/a/x', Buffer.from('1'));
  await zk.set('/a/x', Buffer.from('2'), 0);
  await assert.rejects(
    zk.multi([
      { op: 'create', path: '/a/y' },
      { op: 'check', path: '/a/x', version: 0 },
    ]),
    isBadVersion,
  );
  assert.equal(await zk.exists('/a/y'), false, 'the create before the failing check did not happen');
  await zk.multi([
    { op: 'create', path: '/a/y' },
    { op: 'create', path: '/a/y/z' },
    { op: 'set', path: '/a/x', data: Buffer.from('3'), version: 1 },
  ]);
  assert.equal((await zk.get('/a/x'))?.version, 2);
  assert.deepEqual(await zk.children('/a'), ['x', 'y']);
  await assert.rejects(zk.create('/a/x'), isNodeExists);
});

test('fake ZooKeeper: ephemeral and sequential nodes, watches, and a closed session', async () => {
  const server = new FakeZk();
  const a = server.session();
  const b = server.session();
  await a.mkdirp('/e');
  const first = await a.create('/e/c-', Buffer.alloc(0), { ephemeral: true, sequential: true });
  const second = await b.create('/e/c-', Buffer.alloc(0), { ephemeral: true, sequential: true });
  assert.deepEqual([first, second], ['/e/c-0000000000', '/e/c-0000000001']);
  assert.equal((await b.get(first))?.ephemeralOwner, a.sessionId);

  let deleted!: (name: string) => void;
  const gone = new Promise<string>((resolve) => {
    deleted = resolve;
  });
  await b.exists(first, (e) => deleted(e.getName()));
  const lost = once(a, 'lost');
  await a.close();
  assert.deepEqual(await lost, ['closed']);
  assert.equal(await gone, 'NODE_DELETED');
  assert.deepEqual(await b.children('/e'), ['c-0000000001'], "the closed session's node went with it");
  await assert.rejects(a.get('/e'), (err) => isSluiceError(err, ErrorCodes.ZK_SESSION_LOST));

  let childrenChanged!: (name: string) => void;
  const changed = new Promise<string>((resolve) => {
    childrenChanged = resolve;
  });
  await b.children('/e', (e) => childrenChanged(e.getName()));
  await b.create('/e/other');
  assert.equal(await changed, 'NODE_CHILDREN_CHANGED');
  b.expire();
  assert.equal(b.alive, false);
  assert.deepEqual(await server.session().children('/e'), ['other']);
});
