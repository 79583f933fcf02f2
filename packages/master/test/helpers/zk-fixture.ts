/**
 * ZooKeeper sessions for tests, on the real local stack (`npm run stack:up`), each test file
 * in its own chroot so files can run side by side. A test that needs ZooKeeper fails when it
 * is not there.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BASE_PATHS, createLogger, type Logger, ZkSession } from '@sluice/shared';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/** A setting from the environment, else from `.sluice/stack.env`. */
export function stackSetting(name: string): string {
  const fromEnv = process.env[name];
  if (fromEnv) return fromEnv;
  const file = join(REPO, '.sluice', 'stack.env');
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const m = /^\s*(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line);
      if (m && m[1] === name) return m[2]!.replace(/^['"]|['"]$/g, '');
    }
  }
  throw new Error(
    `${name} is not set and .sluice/stack.env lacks it: start the local stack (npm run stack:up)`,
  );
}

export interface ZkFixture {
  /** Connect string with this fixture's chroot. */
  connect: string;
  chroot: string;
  /** A new session in the chroot (closed when the test ends). */
  session(sessionTimeoutMs?: number): Promise<ZkSession>;
  /** Runs `fn` when the test ends, before the sessions close and the chroot goes (last deferred first). */
  defer(fn: () => Promise<unknown> | unknown): void;
}

/** A fresh chroot with Sluice's base paths; removed when the test ends. */
export async function zkFixture(t: TestContext, name: string): Promise<ZkFixture> {
  const base = stackSetting('SLUICE_ZOOKEEPER').replace(/\/.*$/, '');
  const chroot = `/t-master-${name}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const connect = `${base}${chroot}`;
  const sessions: ZkSession[] = [];
  const deferred: Array<() => Promise<unknown> | unknown> = [];
  const session = async (sessionTimeoutMs = 4_000) => {
    const s = await ZkSession.open({ connect, sessionTimeoutMs, connectTimeoutMs: 10_000 });
    sessions.push(s);
    return s;
  };
  const first = await session();
  for (const p of BASE_PATHS) await first.mkdirp(p);
  t.after(async () => {
    for (const fn of deferred.reverse()) await fn();
    for (const s of sessions) await s.close();
    const root = await ZkSession.open({ connect: base, sessionTimeoutMs: 4_000 });
    try {
      await root.removeRecursive(chroot);
    } finally {
      await root.close();
    }
  });
  return { connect, chroot, session, defer: (fn) => deferred.push(fn) };
}

export function testLogger(): Logger {
  return createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');
}

/** Polls `check` until it returns a truthy value or the time is up. */
export async function eventually<T>(
  check: () => Promise<T> | T,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
