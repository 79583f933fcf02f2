/**
 * Secrets from files, on the real stack (issue 18 point 8): a master started with
 * SLUICE_API_TOKEN_FILE and SLUICE_ZOOKEEPER_DIGEST_FILE, and neither secret in its environment,
 * takes changes with the file's token (over the API, and from the CLI's --token-file) and no
 * other, closes its ZooKeeper nodes with the file's digest, and logs neither; a file that is
 * missing stops the start naming it; and master and worker warn at start, naming
 * SLUICE_REDIS_URL, when their Redis is off loopback without a password.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { topicPath, ZkSession, zkCode } from '@sluice/shared';
import { loadStackEnv } from '@sluice/test-kit';
import { apiClient } from '../helpers/api.ts';
import { createTopic, kafkaClient, type TestTopic } from '../helpers/kafka.ts';
import { REPO, type SluiceProcess, TestCluster, uniqueName } from '../helpers/processes.ts';
import { createBucket, s3Client } from '../helpers/s3.ts';

const stack = loadStackEnv();
const dir = mkdtempSync(join(tmpdir(), 'sluice-secret-files-'));
const digestPassword = randomBytes(32).toString('hex');
const digest = `sluice:${digestPassword}`;
const cluster = new TestCluster({ name: 'secret-files' });
const tokenFile = join(dir, 'api-token');
const digestFile = join(dir, 'zookeeper-digest');
const kafka = kafkaClient();
const bucket = uniqueName('it-secret-files').toLowerCase();
let dropBucket: () => Promise<void>;
let topic: TestTopic;
let master: SluiceProcess;

before(async () => {
  // As `kubectl create secret --from-file` or `echo … > file` leave them: with a line break.
  writeFileSync(tokenFile, `${cluster.token}\n`, { mode: 0o600 });
  writeFileSync(digestFile, `${digest}\n`, { mode: 0o600 });
  dropBucket = (await createBucket(s3Client(), bucket)).delete;
  topic = await createTopic(kafka, uniqueName('from-files'), 1);
  master = await cluster.startMaster({
    SLUICE_API_TOKEN: '',
    SLUICE_API_TOKEN_FILE: tokenFile,
    SLUICE_ZOOKEEPER_DIGEST_FILE: digestFile,
  });
});

after(async () => {
  await cluster.stopAll();
  const root = await ZkSession.open({ connect: stack.SLUICE_ZOOKEEPER, sessionTimeoutMs: 10_000, digest });
  await root.removeRecursive(cluster.chroot).catch(() => {});
  await root.close();
  await topic?.delete();
  await dropBucket?.();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the built `sluice` CLI with no token in its environment; its exit code and output. */
function sluice(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO, 'packages', 'cli', 'bin', 'sluice.js'), '--api-url', master.url, ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({
          code: err ? (typeof err.code === 'number' ? err.code : -1) : 0,
          out: `${stdout}${stderr}`,
        }),
    );
  });
}

test("the token from the file is the master's token: changes with it work, others are refused", async () => {
  const body = { topic: topic.name, destination: { bucket, prefix: 'files' } };
  const wrong = await apiClient(master.url, randomBytes(32).toString('hex')).post('/api/v1/topics', body);
  assert.equal(wrong.status, 401, JSON.stringify(wrong.body));
  const created = await apiClient(master.url, cluster.token).post('/api/v1/topics', body);
  assert.equal(created.status, 201, JSON.stringify(created.body));
});

test('the CLI changes with --token-file, and without a token is refused', async () => {
  const refused = await sluice(['topics', 'pause', topic.name]);
  assert.equal(refused.code, 1, refused.out);
  const paused = await sluice(['topics', 'pause', topic.name, '--token-file', tokenFile]);
  assert.equal(paused.code, 0, paused.out);
  assert.match(paused.out, new RegExp(`${topic.name} paused`));
  const shown = await apiClient(master.url).get<{ paused: boolean }>(`/api/v1/topics/${topic.name}`);
  assert.equal(shown.body.paused, true, JSON.stringify(shown.body));
});

test("the digest from the file closes the master's ZooKeeper nodes to anonymous clients", async () => {
  const path = `${cluster.chroot}${topicPath(topic.name)}`;
  const owner = await ZkSession.open({ connect: stack.SLUICE_ZOOKEEPER, sessionTimeoutMs: 10_000, digest });
  const stranger = await ZkSession.open({ connect: stack.SLUICE_ZOOKEEPER, sessionTimeoutMs: 10_000 });
  try {
    assert.match((await owner.get(path))?.data.toString() ?? '', new RegExp(bucket));
    await assert.rejects(stranger.get(path), (e) => zkCode(e) === -102 /* NO_AUTH */);
  } finally {
    await owner.close();
    await stranger.close();
  }
});

test('a secret file that does not exist stops the master at start (exit 2), naming the setting and the file', async () => {
  const missing = join(dir, 'not-mounted');
  const { code, out } = await cluster.runUntil('master', {
    SLUICE_API_TOKEN: '',
    SLUICE_API_TOKEN_FILE: missing,
  });
  assert.equal(code, 2, out);
  assert.match(out, new RegExp(`SLUICE_API_TOKEN_FILE names the file ${missing}, which does not exist`));
});

test('master and worker warn at start, naming SLUICE_REDIS_URL, when Redis is off loopback without a password', async () => {
  // A host that is not loopback (and not reachable: the warning comes before any connection).
  const env = { SLUICE_REDIS_URL: 'redis://redis.invalid:16379' };
  for (const kind of ['master', 'worker'] as const) {
    const { out } = await cluster.runUntil(kind, env, /SLUICE_REDIS_URL has no password/);
    assert.match(
      out,
      /"level":"?(40|warn)"?.*INSECURE: Redis \(redis\.invalid\) is not on loopback and SLUICE_REDIS_URL has no password.*set SLUICE_REDIS_URL=rediss:\/\/:password@redis\.invalid:16379/,
    );
  }
  // The stack's Redis is on loopback: no such warning.
  assert.doesNotMatch(readFileSync(master.logFile, 'utf8'), /SLUICE_REDIS_URL has no password/);
});

test('neither secret from a file reaches the master log', async () => {
  await cluster.stopAll();
  const log = readFileSync(master.logFile, 'utf8');
  assert.ok(log.split('\n').length > 5, `the master logged (${master.logFile})`);
  assert.ok(!log.includes(cluster.token), 'the log carries the API token');
  assert.ok(!log.includes(digestPassword), 'the log carries the ZooKeeper password');
});
