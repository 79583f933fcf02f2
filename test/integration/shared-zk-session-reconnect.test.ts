/**
 * Regression test of the ZooKeeper-restart fault test: node-zookeeper-client has no timeout for
 * the handshake of a reconnection, and a ZooKeeper server that is still starting can accept a
 * connection and never answer it. The session must try again and resume, not wait until its
 * watchdog gives it up.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { ZkSession } from '@sluice/shared';
import { loadStackEnv } from '@sluice/test-kit';
import { TcpProxy } from '../helpers/tcp-proxy.ts';

const env = loadStackEnv();
const chroot = `/it/zk-reconnect-${randomBytes(4).toString('hex')}`;
const [host, port] = env.SLUICE_ZOOKEEPER.split(',')[0]!.split(':') as [string, string];
let proxy: TcpProxy | undefined;
let session: ZkSession | undefined;

after(async () => {
  await session?.close();
  await proxy?.close();
  const root = await ZkSession.open({ connect: env.SLUICE_ZOOKEEPER, sessionTimeoutMs: 4000 });
  await root.removeRecursive(chroot).catch(() => {});
  await root.close();
});

test('a reconnection whose handshake is never answered is abandoned and tried again: the session survives', async () => {
  proxy = await TcpProxy.start({ host, port: Number(port) });
  const s = await ZkSession.open({ connect: `${proxy.address}${chroot}`, sessionTimeoutMs: 6000 });
  session = s;
  const id = s.sessionId;
  const events: string[] = [];
  s.on('disconnected', () => events.push('disconnected'));
  s.on('connected', () => events.push('connected'));
  s.on('lost', (reason: string) => events.push(`lost: ${reason}`));

  // The connection drops; the next one is accepted and never answered.
  proxy.blackhole();
  await new Promise((r) => setTimeout(r, 800));
  proxy.restore();
  // The stuck handshake is given up after a quarter of the session timeout (1.5 s) and the
  // next attempt resumes the session, well before the watchdog's two thirds (4 s).
  await new Promise((r) => setTimeout(r, 3_500));
  assert.deepEqual(events, ['disconnected', 'connected']);
  assert.equal(s.alive, true);
  assert.equal(s.sessionId, id, 'the same session resumed');
  assert.equal(await s.exists('/'), true);
});
