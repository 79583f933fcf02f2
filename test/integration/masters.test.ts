/**
 * Masters run in-process against the real ZooKeeper and Redis (Kafka stood in for): one
 * leads, a standby takes over when it stops, and both serve the API. (Moved here from
 * packages/master/test/master.test.ts: a whole master needs the real services.)
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ELECTION_PATH, encodeJson, type KafkaAdmin, LEADER_PATH, loadMasterConfig } from '@sluice/shared';
import { eventually, loadStackEnv, stackZkFixture, testLogger } from '@sluice/test-kit';
import { startMaster } from '../../packages/master/src/index.ts';

const kafka: KafkaAdmin = {
  topicMetadata: async (topics) => new Map(topics.map((t) => [t, null])),
  offsets: async () => [],
  topicOffsets: async (topics) =>
    new Map(topics.map((t) => [t, { metadata: null, offsets: null, error: null }])),
  offsetsAtTime: async () => new Map(),
  consumerGroup: () => Promise.reject(new Error('this test registers no topic from a consumer group')),
  close: async () => {},
};

test('one of two masters leads; when it stops the other takes over; both serve the API', async (t) => {
  const zk = await stackZkFixture(t, 'masters');
  const env = (id: string) => ({
    SLUICE_KAFKA_BROKERS: '127.0.0.1:9',
    SLUICE_ZOOKEEPER: zk.connect,
    SLUICE_REDIS_URL: loadStackEnv().SLUICE_REDIS_URL,
    SLUICE_QUEUE_PREFIX: `t-master-${randomBytes(4).toString('hex')}`,
    SLUICE_HTTP_HOST: '127.0.0.1',
    SLUICE_HTTP_PORT: '0',
    SLUICE_MASTER_ID: id,
    SLUICE_PLAN_INTERVAL_MS: '100',
    SLUICE_ZK_SESSION_TIMEOUT_MS: '4000',
  });
  const opts = { kafka, s3: null, log: testLogger() };
  const a = await startMaster(loadMasterConfig(env('master-a')), opts);
  zk.defer(() => a.stop());
  const b = await startMaster(loadMasterConfig(env('master-b')), opts);
  zk.defer(() => b.stop());

  await eventually(() => a.isLeader(), 10_000, 'master-a to lead');
  assert.equal(b.isLeader(), false);
  for (const m of [a, b]) {
    const res = await fetch(`${m.url}/healthz`);
    assert.equal(res.status, 200);
  }
  const metricsA = await (await fetch(`${a.url}/metrics`)).text();
  assert.match(metricsA, /sluice_is_leader 1/);
  const metricsB = await (await fetch(`${b.url}/metrics`)).text();
  assert.match(metricsB, /sluice_is_leader 0/);
  const ready = await fetch(`${b.url}/readyz`);
  assert.equal(ready.status, 200, await ready.text());

  const stoppedAt = Date.now();
  await a.stop();
  await eventually(() => b.isLeader(), 5_000, 'master-b to take over');
  assert.ok(
    Date.now() - stoppedAt < 3_000,
    'a clean stop hands over without waiting for the session timeout',
  );
  assert.match(await (await fetch(`${b.url}/metrics`)).text(), /sluice_is_leader 1/);
});

test('a master whose epoch is taken stands again on a new session and leads with a new epoch', async (t) => {
  const zk = await stackZkFixture(t, 'stand-again');
  const cfg = loadMasterConfig({
    SLUICE_KAFKA_BROKERS: '127.0.0.1:9',
    SLUICE_ZOOKEEPER: zk.connect,
    SLUICE_REDIS_URL: loadStackEnv().SLUICE_REDIS_URL,
    SLUICE_QUEUE_PREFIX: `t-master-${randomBytes(4).toString('hex')}`,
    SLUICE_HTTP_HOST: '127.0.0.1',
    SLUICE_HTTP_PORT: '0',
    SLUICE_MASTER_ID: 'master-a',
    SLUICE_ZK_SESSION_TIMEOUT_MS: '4000',
  });
  const m = await startMaster(cfg, { kafka, s3: null, log: testLogger() });
  zk.defer(() => m.stop());
  await eventually(() => m.isLeader(), 10_000, 'the master to lead');
  const s = await zk.session();
  const before = await s.get(LEADER_PATH);
  const candidatesBefore = await s.children(ELECTION_PATH);

  // Someone else's epoch: the master must stop leading, then stand again.
  await s.set(LEADER_PATH, encodeJson({ v: 1, id: 'intruder', host: 'h', httpAddress: 'x', since: '' }), -1);
  await eventually(
    async () => {
      const names = await s.children(ELECTION_PATH);
      return names.length === 1 && names[0] !== candidatesBefore[0];
    },
    10_000,
    'a new candidate on a new session',
  );
  await eventually(() => m.isLeader(), 10_000, 'the master to lead again');
  const after = await s.get(LEADER_PATH);
  assert.ok(after!.version > before!.version + 1, `new epoch ${after!.version} after ${before!.version}`);
  assert.equal(JSON.parse(after!.data.toString()).id, 'master-a');
});
