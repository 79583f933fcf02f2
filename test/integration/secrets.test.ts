/**
 * Secrets stay secret: a master and a worker started with a Redis password in the URL, a
 * Kafka SASL password (SCRAM over the stack's SASL_SSL listener), a ZooKeeper digest, S3
 * credentials and API tokens in their settings, logging at `trace`, never write any of them
 * to their logs, and never show them in an API answer (status, topics, workers, errors,
 * probes, metrics, the OpenAPI document, the dashboard), while Redis says it needs no
 * password; and when Kafka refuses the SASL password, the start stops saying so without it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { loadStackEnv, loadStackSecurity } from '@sluice/test-kit';
import { apiClient } from '../helpers/api.ts';
import { type SluiceProcess, TestCluster, uniqueName } from '../helpers/processes.ts';

const stack = loadStackEnv();
const sec = loadStackSecurity();
const redisSecret = `redis-pw-${randomBytes(6).toString('hex')}`;
// The stack's SASL user: Kafka must accept it, as master and worker stop at start otherwise.
const kafkaSecret = sec.kafkaSaslPassword;
const wrongKafkaSecret = `kafka-pw-${randomBytes(6).toString('hex')}`;
const zkSecret = `zk-pw-${randomBytes(6).toString('hex')}`;
const awsSecret = stack.AWS_SECRET_ACCESS_KEY;

const cluster = new TestCluster({
  name: 'secrets',
  env: {
    SLUICE_REDIS_URL: stack.SLUICE_REDIS_URL.replace('redis://', `redis://:${redisSecret}@`),
    SLUICE_KAFKA_BROKERS: sec.kafkaSaslBrokers,
    SLUICE_KAFKA_SSL: 'true',
    SLUICE_KAFKA_SSL_CA_FILE: sec.caFile,
    SLUICE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
    SLUICE_KAFKA_SASL_USERNAME: sec.kafkaSaslUsername,
    SLUICE_KAFKA_SASL_PASSWORD: kafkaSecret,
    SLUICE_ZOOKEEPER_DIGEST: `sluice:${zkSecret}`,
    SLUICE_LOG_LEVEL: 'trace',
  },
});
const secrets = () => [redisSecret, kafkaSecret, wrongKafkaSecret, zkSecret, awsSecret, cluster.token];
let master: SluiceProcess;
let worker: SluiceProcess;
const answers: string[] = [];

before(async () => {
  assert.ok(awsSecret.length >= 4, 'the stack has an S3 secret to look for');
  master = await cluster.startMaster();
  worker = await cluster.startWorker();
  const api = apiClient(master.url, cluster.token);
  const record = async (res: Promise<{ status: number; body: unknown }>) => {
    const r = await res;
    answers.push(typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
    return r;
  };
  // Through SASL to Kafka, which lacks the topic: refused, naming it.
  const reg = await record(
    api.post('/api/v1/topics', { topic: uniqueName('secret'), destination: { bucket: 'sluice-lake' } }),
  );
  assert.equal(reg.status, 404, JSON.stringify(reg.body));
  await record(
    api.call(
      'POST',
      '/api/v1/topics',
      { topic: 'x', destination: { bucket: 'abc' } },
      { authorization: 'Bearer wrong' },
    ),
  );
  // Let the leader's passes and the worker run for a while.
  await new Promise((r) => setTimeout(r, 6_000));
  for (const path of [
    '/api/v1/status',
    '/api/v1/topics',
    '/api/v1/workers',
    '/readyz',
    '/healthz',
    '/metrics',
    '/docs/json',
    '/dashboard',
  ]) {
    await record(api.get(path));
  }
  answers.push(await (await fetch(`${worker.url}/metrics`)).text());
  answers.push(await (await fetch(`${worker.url}/readyz`)).text());
});

after(() => cluster.stopAll());

test('no API answer carries a secret, on the master or the worker', () => {
  const status = JSON.parse(answers.find((a) => a.includes('"generatedAt"'))!);
  assert.equal(status.leader?.id, `${cluster.name}-master-1`);
  const all = answers.join('\n');
  for (const s of secrets())
    assert.ok(!all.includes(s), `an API answer carries a secret (${s.slice(0, 6)}…)`);
});

test('no secret reaches the logs of the master or the worker, even at trace level', async () => {
  await cluster.stopAll();
  for (const p of [master, worker]) {
    const log = readFileSync(p.logFile, 'utf8');
    assert.ok(log.split('\n').length > 5, `${p.name} logged (${p.logFile})`);
    for (const s of secrets()) {
      assert.ok(!log.includes(s), `${p.name}'s log (${p.logFile}) carries a secret (${s.slice(0, 6)}…)`);
      assert.ok(!log.includes(encodeURIComponent(s)), `${p.name}'s log carries a secret, URL-encoded`);
    }
  }
});

test('Kafka refusing the SASL password stops the start, naming the setting and not the password', async () => {
  for (const kind of ['master', 'worker'] as const) {
    const { code, out } = await cluster.runUntil(kind, {
      SLUICE_KAFKA_SASL_PASSWORD: wrongKafkaSecret,
      SLUICE_LOG_LEVEL: 'trace',
    });
    assert.equal(code, 1, out);
    assert.match(out, /SLUICE_ERR_KAFKA_AUTH/);
    assert.match(out, /refused SASL SCRAM-SHA-512 authentication.*SLUICE_KAFKA_SASL_PASSWORD/);
    for (const s of secrets())
      assert.ok(!out.includes(s), `${kind}'s output carries a secret (${s.slice(0, 6)}…)`);
  }
});
