/**
 * ZooKeeper is not world-writable (issue 18 point 2), on the real stack: with
 * SLUICE_ZOOKEEPER_DIGEST, a stranger's anonymous ZooKeeper client can neither read a topic's
 * config (its bucket) nor change, add under or delete any node a running master and worker
 * made; both programs refuse to start without a digest when ZooKeeper is not on loopback, and
 * warn at start when they run without one.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { topicPath, WORKERS_PATH, ZkSession, zkCode } from '@sluice/shared';
import { loadStackEnv } from '@sluice/test-kit';
import { apiClient } from '../helpers/api.ts';
import { createTopic, kafkaClient, type TestTopic } from '../helpers/kafka.ts';
import { REPO, TestCluster, uniqueName, waitFor } from '../helpers/processes.ts';
import { createBucket, s3Client } from '../helpers/s3.ts';

const stack = loadStackEnv();
const digest = `sluice:${randomBytes(32).toString('hex')}`;
const cluster = new TestCluster({ name: 'zk-acl', env: { SLUICE_ZOOKEEPER_DIGEST: digest } });
const kafka = kafkaClient();
const bucket = uniqueName('it-zk-acl').toLowerCase();
let dropBucket: () => Promise<void>;
let topic: TestTopic;
let owner: ZkSession;
let stranger: ZkSession;

before(async () => {
  dropBucket = (await createBucket(s3Client(), bucket)).delete;
  const master = await cluster.startMaster();
  const worker = await cluster.startWorker();
  topic = await createTopic(kafka, uniqueName('private'), 2);
  const res = await apiClient(master.url, cluster.token).post('/api/v1/topics', {
    topic: topic.name,
    destination: { bucket, prefix: 'acl' },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  owner = await ZkSession.open({ connect: cluster.env.SLUICE_ZOOKEEPER!, sessionTimeoutMs: 10_000, digest });
  await waitFor('the worker registered', async () =>
    (await owner.children(WORKERS_PATH)).some((w) => w.endsWith(worker.name)),
  );
  // No digest, and no chroot: a stranger connects to the ensemble as anyone could.
  stranger = await ZkSession.open({
    connect: stack.SLUICE_ZOOKEEPER.split('/')[0]!,
    sessionTimeoutMs: 10_000,
  });
});

after(async () => {
  await cluster.stopAll();
  await owner?.close();
  await stranger?.close();
  const root = await ZkSession.open({ connect: stack.SLUICE_ZOOKEEPER, sessionTimeoutMs: 10_000, digest });
  await root.removeRecursive(cluster.chroot).catch(() => {});
  await root.close();
  await topic?.delete();
  await dropBucket?.();
});

/** Every node under the cluster's chroot, as the owner sees it (paths inside the chroot). */
async function tree(path = '/'): Promise<string[]> {
  const out = [path];
  for (const c of await owner.children(path)) out.push(...(await tree(`${path === '/' ? '' : path}/${c}`)));
  return out;
}

const noAuth = (e: unknown) => zkCode(e) === -102; /* NO_AUTH */
const full = (p: string) => `${cluster.chroot}${p === '/' ? '' : p}`;

test('an anonymous client cannot read a topic config: not its data, not its children', async () => {
  const config = await owner.get(topicPath(topic.name));
  assert.ok(config?.data.toString().includes(bucket), 'the owner reads the bucket');
  await assert.rejects(stranger.get(full(topicPath(topic.name))), noAuth);
  await assert.rejects(stranger.children(full(topicPath(topic.name))), noAuth);
  await assert.rejects(stranger.get(cluster.chroot), noAuth);
});

test('an anonymous client can change, add under or delete no node Sluice created', async () => {
  const nodes = await tree();
  // The root, its layout, the topic and its partitions, the worker, the election...
  assert.ok(nodes.length >= 8, `Sluice made its nodes: ${nodes.join(' ')}`);
  assert.ok(nodes.includes(topicPath(topic.name)), nodes.join(' '));
  for (const p of nodes) {
    await assert.rejects(stranger.set(full(p), Buffer.from('{"bucket":"evil"}'), -1), noAuth, `set ${p}`);
    await assert.rejects(
      stranger.create(`${full(p)}/intruder`, Buffer.from('x')),
      noAuth,
      `create under ${p}`,
    );
    // Deleting needs the parent's permission: every parent here is Sluice's too.
    if (p !== '/') await assert.rejects(stranger.remove(full(p)), noAuth, `remove ${p}`);
  }
  const config = await owner.get(topicPath(topic.name));
  assert.doesNotMatch(config!.data.toString(), /evil/);
});

/** Runs a program's bin to its exit; its exit code and what it wrote. */
function run(kind: 'master' | 'worker', env: Record<string, string>) {
  const child = spawn(process.execPath, [join(REPO, 'packages', kind, 'bin', `sluice-${kind}.js`)], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  return new Promise<{ code: number | null; out: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, out })),
  );
}

test('without a digest, both programs refuse a ZooKeeper off loopback (exit 2) unless told it is insecure', async () => {
  for (const kind of ['master', 'worker'] as const) {
    const { code, out } = await run(kind, {
      ...cluster.env,
      SLUICE_ZOOKEEPER: 'zookeeper.invalid:2181/sluice',
      SLUICE_ZOOKEEPER_DIGEST: '',
    });
    assert.equal(code, 2, out);
    assert.match(out, new RegExp(`sluice-${kind} cannot start`));
    assert.match(
      out,
      /SLUICE_ZOOKEEPER_DIGEST is not set and ZooKeeper \(zookeeper\.invalid:2181\) is not on loopback/,
    );
    assert.match(out, /SLUICE_ZOOKEEPER_INSECURE=true/);
  }
});

test('the master refuses a placeholder API token at start (exit 2) and says how to make one', async () => {
  const { code, out } = await run('master', { ...cluster.env, SLUICE_API_TOKEN: 'change-me' });
  assert.equal(code, 2, out);
  assert.match(out, /SLUICE_API_TOKEN token 1 of 1 is a placeholder .*openssl rand -hex 32/);
});

test('a master without digest auth warns at start; one with it does not', async () => {
  const open = new TestCluster({ name: 'zk-open' });
  try {
    const m = await open.startMaster();
    const log = readFileSync(m.logFile, 'utf8');
    assert.match(
      log,
      /"level":"?(40|warn)"?.*INSECURE: running without ZooKeeper digest auth \(ZooKeeper is on loopback\)/,
    );
  } finally {
    await open.stopAll();
  }
  const withDigest = readFileSync(join(REPO, '.sluice', 'test-logs', `${cluster.name}-master-1.log`), 'utf8');
  assert.doesNotMatch(withDigest, /INSECURE/);
});

test('turning digest auth on closes the nodes an installation made before it', async () => {
  const later = new TestCluster({ name: 'zk-later' });
  const laterDigest = `sluice:${randomBytes(32).toString('hex')}`;
  const old = await createTopic(kafka, uniqueName('before-digest'), 1);
  const path = `${later.chroot}${topicPath(old.name)}`;
  try {
    const open = await later.startMaster();
    const res = await apiClient(open.url, later.token).post('/api/v1/topics', {
      topic: old.name,
      destination: { bucket, prefix: 'before' },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    await open.stop();
    // Made without a digest: anyone reads it.
    assert.ok((await stranger.get(path))?.data.toString().includes(bucket));
    const closed = await later.startMaster({ SLUICE_ZOOKEEPER_DIGEST: laterDigest });
    assert.match(readFileSync(closed.logFile, 'utf8'), /closed \d+ ZooKeeper nodes made without digest auth/);
    await assert.rejects(stranger.get(path), noAuth);
    await assert.rejects(stranger.set(path, Buffer.from('{"bucket":"evil"}'), -1), noAuth);
    await assert.rejects(stranger.create(`${later.chroot}/sluice/intruder`, Buffer.from('x')), noAuth);
    // The master with the digest still reads and serves its topic.
    const topicAnswer = await apiClient(closed.url, later.token).get(`/api/v1/topics/${old.name}`);
    assert.equal(topicAnswer.status, 200, JSON.stringify(topicAnswer.body));
  } finally {
    await later.stopAll();
    const root = await ZkSession.open({
      connect: stack.SLUICE_ZOOKEEPER,
      sessionTimeoutMs: 10_000,
      digest: laterDigest,
    });
    await root.removeRecursive(later.chroot).catch(() => {});
    await root.close();
    await old.delete();
  }
});
