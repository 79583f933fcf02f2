/** Worker registration against the real ZooKeeper of the local stack. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { decodeJson, type WorkerRegistration, workerPath } from '@sluice/shared';
import { pino } from 'pino';
import { registerWorker } from '../../packages/worker/src/worker-registration.ts';
import { tempZk, testWorkerConfig } from '../helpers/worker-stack.ts';

function registration(id: string): WorkerRegistration {
  return {
    v: 1,
    id,
    host: 'test-host',
    pid: process.pid,
    version: '0.0.0-test',
    concurrency: 2,
    httpAddress: 'http://127.0.0.1:1',
    startedAt: new Date().toISOString(),
  };
}

test('registers an ephemeral node, re-registers after the session is lost, and removes it on stop', async (t) => {
  const cfg = testWorkerConfig();
  const observer = await tempZk(t, cfg);
  const log = pino({ level: 'silent' });
  const presence = await registerWorker({
    connect: cfg.zookeeper,
    sessionTimeoutMs: cfg.zkSessionTimeoutMs,
    registration: registration(cfg.id),
    log,
    retryDelayMs: 100,
  });
  t.after(() => presence.stop());
  const path = workerPath(cfg.id);

  const first = await observer.get(path);
  assert.ok(first, 'node exists');
  assert.equal(first.ephemeralOwner, presence.session.sessionId);
  assert.equal(decodeJson<WorkerRegistration>(first.data, 'worker').id, cfg.id);
  assert.equal(presence.alive, true);

  // The session goes (as when the watchdog fences it): work must stop, then resume.
  const lost = once(presence, 'lost');
  const restored = once(presence, 'restored');
  const oldSession = presence.session.sessionId;
  await presence.session.close();
  await lost;
  await restored;
  assert.equal(presence.alive, true);
  assert.notEqual(presence.session.sessionId, oldSession);
  const second = await observer.get(path);
  assert.ok(second, 'node re-created');
  assert.equal(second.ephemeralOwner, presence.session.sessionId);

  await presence.stop();
  assert.equal(presence.alive, false);
  assert.equal(await observer.get(path), null, 'node removed on stop');
});

test('a second worker with the same id is refused once the first keeps its node', async (t) => {
  const cfg = testWorkerConfig({ SLUICE_ZK_SESSION_TIMEOUT_MS: '2000' });
  await tempZk(t, cfg);
  const log = pino({ level: 'silent' });
  const opts = {
    connect: cfg.zookeeper,
    sessionTimeoutMs: cfg.zkSessionTimeoutMs,
    registration: registration(cfg.id),
    log,
  };
  const first = await registerWorker(opts);
  t.after(() => first.stop());
  await assert.rejects(registerWorker(opts), /two workers share the id/);
});
