/**
 * Smoke test of the local ZooKeeper with node-zookeeper-client (the client the master and
 * worker use): ephemeral nodes and watches, a session's ephemerals vanishing when it
 * closes, and multi-op transactions that apply all or nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadStackEnv, uniqueName } from '@sluice/test-kit';
import zookeeper from 'node-zookeeper-client';

type Client = zookeeper.Client;
type Stat = zookeeper.Stat;

const SESSION_TIMEOUT_MS = 4000;

function connect(hosts: string): Promise<Client> {
  const client = zookeeper.createClient(hosts, { sessionTimeout: SESSION_TIMEOUT_MS, retries: 2 });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.close();
      reject(new Error(`no ZooKeeper session with ${hosts} within 10 s`));
    }, 10_000);
    client.once('connected', () => {
      clearTimeout(timer);
      resolve(client);
    });
    client.connect();
  });
}

/** Resolves once the client's session is closed (the server has dropped its ephemerals). */
function close(client: Client): Promise<void> {
  return new Promise((resolve) => {
    client.once('disconnected', () => resolve());
    client.close();
  });
}

function create(client: Client, path: string, data: string, mode: number): Promise<string> {
  return new Promise((resolve, reject) =>
    client.create(path, Buffer.from(data), mode, (error, created) =>
      error ? reject(error) : resolve(created),
    ),
  );
}

function mkdirp(client: Client, path: string): Promise<void> {
  return new Promise((resolve, reject) =>
    client.mkdirp(path, (error) => (error ? reject(error) : resolve())),
  );
}

/** The node's stat, or null when it does not exist; `watcher` fires on its next change. */
function exists(
  client: Client,
  path: string,
  watcher?: (event: zookeeper.Event) => void,
): Promise<Stat | null> {
  return new Promise((resolve, reject) => {
    const callback = (error: Error | zookeeper.Exception | null, stat: Stat) =>
      error ? reject(error) : resolve(stat ?? null);
    if (watcher) client.exists(path, watcher, callback);
    else client.exists(path, callback);
  });
}

function getData(client: Client, path: string): Promise<{ data: string; version: number }> {
  return new Promise((resolve, reject) =>
    client.getData(path, (error, data, stat) =>
      error ? reject(error) : resolve({ data: data?.toString('utf8') ?? '', version: stat.version }),
    ),
  );
}

function setData(client: Client, path: string, data: string, version: number): Promise<Stat> {
  return new Promise((resolve, reject) =>
    client.setData(path, Buffer.from(data), version, (error, stat) =>
      error ? reject(error) : resolve(stat),
    ),
  );
}

function remove(client: Client, path: string): Promise<void> {
  return new Promise((resolve, reject) =>
    client.remove(path, -1, (error) => (error ? reject(error) : resolve())),
  );
}

/** Commits a transaction; resolves with the error code of the failing op, or OK (0). */
function commit(transaction: zookeeper.Transaction): Promise<number> {
  return new Promise((resolve, reject) =>
    transaction.commit((error) => {
      if (!error) resolve(zookeeper.Exception.OK);
      else if (error instanceof zookeeper.Exception) resolve(error.getCode());
      else reject(error);
    }),
  );
}

async function removeTree(client: Client, path: string): Promise<void> {
  const children = await new Promise<string[]>((resolve, reject) =>
    client.getChildren(path, (error, list) => {
      if (error && error instanceof zookeeper.Exception && error.getCode() === zookeeper.Exception.NO_NODE) {
        resolve([]);
      } else if (error) reject(error);
      else resolve(list);
    }),
  );
  for (const child of children) await removeTree(client, `${path}/${child}`);
  await remove(client, path).catch(() => {});
}

function nextEvent(): { fire: (event: zookeeper.Event) => void; fired: Promise<zookeeper.Event> } {
  let fire: (event: zookeeper.Event) => void = () => {};
  const fired = new Promise<zookeeper.Event>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the watch did not fire within 15 s')), 15_000);
    fire = (event) => {
      clearTimeout(timer);
      resolve(event);
    };
  });
  return { fire, fired };
}

describe('zookeeper (local stack)', () => {
  const base = `/sluice-smoke/${uniqueName('zk')}`;
  let owner: Client;
  let observer: Client;
  let hosts: string;

  before(async () => {
    // In the hook, not the suite body: a missing stack fails every test instead of none.
    hosts = loadStackEnv().SLUICE_ZOOKEEPER;
    owner = await connect(hosts);
    observer = await connect(hosts);
    await mkdirp(observer, base);
  });

  after(async () => {
    if (observer) {
      await removeTree(observer, base);
      // The parent is shared by concurrent runs; it goes only when it is empty.
      await remove(observer, '/sluice-smoke').catch(() => {});
      await close(observer);
    }
    if (owner) owner.close();
  });

  test('an ephemeral node is created, watched and deleted', async () => {
    const path = `${base}/ephemeral`;
    await create(owner, path, 'alive', zookeeper.CreateMode.EPHEMERAL);
    const watch = nextEvent();
    const stat = await exists(observer, path, watch.fire);
    assert.ok(stat, 'the observer does not see the node');
    assert.notEqual(stat.ephemeralOwner.readBigUInt64BE(), 0n, 'the node is not ephemeral');
    assert.deepEqual(await getData(observer, path), { data: 'alive', version: 0 });

    await remove(owner, path);
    const event = await watch.fired;
    assert.equal(event.getType(), zookeeper.Event.NODE_DELETED);
    assert.equal(event.getPath(), path);
    assert.equal(await exists(observer, path), null);
  });

  test("a session's ephemeral node vanishes when the session closes", async () => {
    const session = await connect(hosts);
    const path = `${base}/session-bound`;
    await create(session, path, 'lease', zookeeper.CreateMode.EPHEMERAL);
    const watch = nextEvent();
    assert.ok(await exists(observer, path, watch.fire));

    await close(session);
    const event = await watch.fired;
    assert.equal(event.getType(), zookeeper.Event.NODE_DELETED);
    assert.equal(await exists(observer, path), null);
  });

  test('a transaction whose version check fails changes nothing', async () => {
    const fence = `${base}/fence`;
    const state = `${base}/state`;
    await create(owner, fence, 'epoch-1', zookeeper.CreateMode.PERSISTENT);
    await create(owner, state, 'before', zookeeper.CreateMode.PERSISTENT);
    await setData(owner, fence, 'epoch-2', 0); // the fence is now at version 1

    const stale = owner
      .transaction()
      .check(fence, 7)
      .setData(state, Buffer.from('after'), -1)
      .create(`${base}/created-by-stale-writer`, Buffer.from('x'), zookeeper.CreateMode.PERSISTENT);
    assert.equal(await commit(stale), zookeeper.Exception.BAD_VERSION);
    assert.deepEqual(await getData(observer, state), { data: 'before', version: 0 });
    assert.equal(await exists(observer, `${base}/created-by-stale-writer`), null);

    const current = owner
      .transaction()
      .check(fence, 1)
      .setData(state, Buffer.from('after'), 0)
      .create(`${base}/created-by-current-writer`, Buffer.from('x'), zookeeper.CreateMode.PERSISTENT);
    assert.equal(await commit(current), zookeeper.Exception.OK);
    assert.deepEqual(await getData(observer, state), { data: 'after', version: 1 });
    assert.ok(await exists(observer, `${base}/created-by-current-writer`));
  });

  // node-zookeeper-client 1.1.3 writes `version = version || -1` in Transaction.check,
  // setData and remove, so an expected version of 0 (the version of every new node) becomes
  // -1, "any version" (alexguan/node-zookeeper-client issue #67, open). Fencing code must not
  // pass 0 to those methods; setting the queued op's version afterwards works.
  test('regression: Transaction.check(path, 0) does not check unless the op is patched', async () => {
    const path = `${base}/version-zero`;
    await create(owner, path, 'v0', zookeeper.CreateMode.PERSISTENT);
    await setData(owner, path, 'v1', 0); // version 1 now, so a check of version 0 must fail

    const unchecked = owner.transaction().check(path, 0).setData(path, Buffer.from('lost-update'), -1);
    assert.equal(
      await commit(unchecked),
      zookeeper.Exception.OK,
      'the library now honours version 0: drop the patch',
    );
    assert.deepEqual(await getData(observer, path), { data: 'lost-update', version: 2 });

    const patched = owner.transaction().check(path, 0).setData(path, Buffer.from('must-not-land'), -1);
    const ops = (patched as unknown as { ops: { version: number }[] }).ops;
    ops[0]!.version = 0;
    assert.equal(await commit(patched), zookeeper.Exception.BAD_VERSION);
    assert.deepEqual(await getData(observer, path), { data: 'lost-update', version: 2 });
  });
});
