/**
 * ZooKeeper for a test, cleaned up when the test ends. By default an in-memory ZooKeeper
 * ({@link FakeZk}): the test needs no server, and `npm run test:unit` runs with none. With
 * `SLUICE_TEST_ZOOKEEPER=stack` the same fixture is a fresh chroot on the local stack's real
 * ZooKeeper instead, so that a test file written against the fixture can also be run against
 * the real server (test/integration does so for the leader's tests).
 */
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import { BASE_PATHS, ZkSession as RealZk, type ZkSession } from '@sluice/shared';
import { FakeZk } from './fake-zk.ts';
import { loadStackEnv } from './stack-env.ts';

export interface ZkFixture {
  /** Whether the sessions are on the in-memory ZooKeeper (`fake`) or the local stack's (`stack`). */
  kind: 'fake' | 'stack';
  /** A new session with Sluice's base paths in place (closed when the test ends). */
  session(sessionTimeoutMs?: number): Promise<ZkSession>;
  /**
   * Ends a session as the server would when the client went silent: its ephemeral nodes go
   * and it reports `lost` (on the real server: closed, which ends it the same way).
   */
  expire(session: ZkSession): Promise<void>;
  /** Runs `fn` when the test ends, before the sessions close and the tree goes (last deferred first). */
  defer(fn: () => Promise<unknown> | unknown): void;
}

/** Which ZooKeeper {@link zkFixture} gives: the in-memory one unless `SLUICE_TEST_ZOOKEEPER=stack`. */
export function zkFixtureKind(): 'fake' | 'stack' {
  return process.env.SLUICE_TEST_ZOOKEEPER === 'stack' ? 'stack' : 'fake';
}

/** A ZooKeeper fixture on the local stack's server: {@link ZkFixture} and the chroot's connect string. */
export interface StackZkFixture extends ZkFixture {
  /** Connect string with this fixture's chroot, for code that opens sessions of its own. */
  connect: string;
  chroot: string;
}

/** A fresh ZooKeeper tree with Sluice's base paths; removed when the test ends. */
export function zkFixture(t: TestContext, name: string): Promise<ZkFixture> {
  return zkFixtureOn(zkFixtureKind(), t, name);
}

/** A fresh chroot with Sluice's base paths on the local stack's ZooKeeper; removed when the test ends. */
export async function stackZkFixture(t: TestContext, name: string): Promise<StackZkFixture> {
  return (await zkFixtureOn('stack', t, name)) as StackZkFixture;
}

async function zkFixtureOn(kind: 'fake' | 'stack', t: TestContext, name: string): Promise<ZkFixture> {
  const deferred: Array<() => Promise<unknown> | unknown> = [];
  const sessions: ZkSession[] = [];
  let open: (timeoutMs: number) => Promise<ZkSession>;
  let drop: () => Promise<void>;
  let where: { connect: string; chroot: string } | null = null;
  if (kind === 'fake') {
    const server = new FakeZk();
    for (const p of BASE_PATHS) server.put(p);
    open = async (timeoutMs) => server.session({ sessionTimeoutMs: timeoutMs });
    drop = async () => {};
  } else {
    const base = loadStackEnv().SLUICE_ZOOKEEPER.replace(/\/.*$/, '');
    const chroot = `/t-${name}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    where = { connect: `${base}${chroot}`, chroot };
    open = (timeoutMs) =>
      RealZk.open({ connect: `${base}${chroot}`, sessionTimeoutMs: timeoutMs, connectTimeoutMs: 10_000 });
    const first = await open(4_000);
    sessions.push(first);
    for (const p of BASE_PATHS) await first.mkdirp(p);
    drop = async () => {
      const root = await RealZk.open({ connect: base, sessionTimeoutMs: 4_000 });
      try {
        await root.removeRecursive(chroot);
      } finally {
        await root.close();
      }
    };
  }
  t.after(async () => {
    for (const fn of deferred.reverse()) await fn();
    for (const s of sessions) await s.close();
    await drop();
  });
  return {
    ...where,
    kind,
    async session(sessionTimeoutMs = 4_000) {
      const s = await open(sessionTimeoutMs);
      sessions.push(s);
      return s;
    },
    async expire(session) {
      if ('expire' in session && typeof session.expire === 'function') session.expire();
      else await session.close();
    },
    defer: (fn) => deferred.push(fn),
  };
}
