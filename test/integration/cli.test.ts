/**
 * The `sluice` CLI as an operator runs it (`npx --no-install sluice …`, the built bin) against
 * a real master and worker: every command, `--json`, `--help`, and the exit codes
 * (0 done, 1 the API said no, 2 usage, 3 master unreachable). The packed CLI installed outside
 * the repository is tested in cli-package.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { apiClient } from '../helpers/api.ts';
import { type CliRun, runSluiceCli } from '../helpers/cli-run.ts';
import { createTopic, kafkaClient, type TestTopic } from '../helpers/kafka.ts';
import { freePort, type SluiceProcess, TestCluster, uniqueName, waitFor } from '../helpers/processes.ts';
import { createBucket, s3Client } from '../helpers/s3.ts';

const cluster = new TestCluster({ name: 'cli' });
const kafka = kafkaClient();
const s3 = s3Client();
const bucket = uniqueName('it-cli').toLowerCase();
let dropBucket: () => Promise<void>;
let master: SluiceProcess;
let weblogs: TestTopic;
let broken: TestTopic;

function sluice(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runSluiceCli(master, cluster.token, args, env);
}

before(async () => {
  dropBucket = (await createBucket(s3, bucket)).delete;
  master = await cluster.startMaster();
  await cluster.startWorker();
  weblogs = await createTopic(kafka, uniqueName('weblogs'), 2);
  await weblogs.producer.send({
    topic: weblogs.name,
    messages: Array.from({ length: 400 }, (_, i) => ({ partition: i % 2, value: JSON.stringify({ i }) })),
  });
  broken = await createTopic(kafka, uniqueName('broken'), 1);
  await broken.producer.send({ topic: broken.name, messages: [{ value: '{"a":1}' }] });
});

after(async () => {
  await cluster.stopAll();
  await weblogs?.delete();
  await broken?.delete();
  await dropBucket?.();
});

test('--help and no arguments show the commands; bad usage exits 2 and says why', async () => {
  const help = await sluice(['--help']);
  assert.equal(help.code, 0);
  for (const c of ['topics add', 'topics list', 'topics pause', 'status', 'workers', 'ranges retry']) {
    assert.ok(help.stdout.includes(c), `help lists ${c}`);
  }
  const addHelp = await sluice(['topics', 'add', '--help']);
  assert.equal(addHelp.code, 0);
  assert.match(addHelp.stdout, /--partition-by/);
  assert.equal((await sluice([])).code, 2);
  const unknown = await sluice(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  const option = await sluice(['status', '--colour']);
  assert.equal(option.code, 2);
  assert.match(option.stderr, /--colour/);
  const noBucket = await sluice(['topics', 'add', weblogs.name]);
  assert.equal(noBucket.code, 2);
  assert.match(noBucket.stderr, /--bucket is required/);
  const badInt = await sluice([
    'topics',
    'add',
    weblogs.name,
    '--bucket',
    bucket,
    '--max-range-messages',
    'lots',
  ]);
  assert.equal(badInt.code, 2);
  assert.match(badInt.stderr, /--max-range-messages must be a whole number/);
});

test('topics add registers; again is refused by the API with exit 1; so is an invalid setting', async () => {
  const add = await sluice([
    'topics',
    'add',
    weblogs.name,
    '--bucket',
    bucket,
    '--prefix',
    'raw',
    '--compression',
    'zstd',
    '--partition-by',
    'kafka-time:hour',
    '--max-range-messages',
    '100',
    '--flush-interval-ms',
    '500',
  ]);
  assert.equal(add.code, 0, add.stderr);
  assert.equal(add.stdout.trim(), `registered ${weblogs.name} -> s3://${bucket}/raw/${weblogs.name}/`);
  const again = await sluice(['topics', 'add', weblogs.name, '--bucket', bucket]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /HTTP 409 \[SLUICE_ERR_TOPIC_EXISTS\]/);
  const bad = await sluice(['topics', 'add', broken.name, '--bucket', 'Not_A_Bucket']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /HTTP 400 .*destination\.bucket/);
  const missing = await sluice(['topics', 'add', uniqueName('nowhere'), '--bucket', bucket]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /HTTP 404 \[SLUICE_ERR_TOPIC_NOT_IN_KAFKA\]/);
});

test('topics list and show, as tables and as JSON', async () => {
  const list = await sluice(['topics', 'list']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^TOPIC\s+STATE\s+PAUSED\s+DESTINATION.*PATTERN$/m);
  assert.match(
    list.stdout,
    new RegExp(
      // Registered by name: no pattern.
      `^${weblogs.name}\\s+active\\s+no\\s+s3://${bucket}/raw\\s+jsonl/zstd\\s+kafka-time:hour\\s+-$`,
      'm',
    ),
  );
  const listJson = JSON.parse((await sluice(['topics', 'list', '--json'])).stdout);
  assert.ok(listJson.topics.some((t: { topic: string }) => t.topic === weblogs.name));

  await waitFor(
    'both partitions committed to the high watermark',
    async () => {
      const show = JSON.parse((await sluice(['topics', 'show', weblogs.name, '--json'])).stdout);
      return show.partitions.every((p: { committedOffset: string }) => p.committedOffset === '200');
    },
    90_000,
    1_000,
  );
  const show = await sluice(['topics', 'show', weblogs.name]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /PARTITION\s+COMMITTED\s+HIGH WATERMARK\s+LAG\s+IN FLIGHT/);
  assert.match(show.stdout, /^0\s+200\s+200\s+0\s+0$/m);
  const none = await sluice(['topics', 'show', 'not-registered-here']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /HTTP 404 \[SLUICE_ERR_TOPIC_NOT_REGISTERED\]/);
});

test('topics update changes the policy, sizes and durations in human units; the API refuses a value beyond its bounds with exit 1', async () => {
  const api = apiClient(master.url, cluster.token);
  const update = await sluice([
    'topics',
    'update',
    weblogs.name,
    '--max-range-bytes',
    '64MiB',
    '--flush-interval-ms',
    '2m',
    '--finalize-lateness-ms',
    '1h30m',
  ]);
  assert.equal(update.code, 0, update.stderr);
  assert.match(update.stdout, new RegExp(`^updated ${weblogs.name} `));
  const rec = (await api.get(`/api/v1/topics/${weblogs.name}`)).body;
  assert.equal(rec.maxRangeBytes, 64 * 1024 * 1024);
  assert.equal(rec.flushIntervalMs, 120_000);
  assert.equal(rec.finalizeLatenessMs, 5_400_000);
  assert.equal(rec.compression, 'zstd', 'what was not given is unchanged');
  const tooLong = await sluice(['topics', 'update', weblogs.name, '--flush-interval-ms', '2d']);
  assert.equal(tooLong.code, 1);
  assert.match(tooLong.stderr, /HTTP 400 .*flushIntervalMs/);
  const foreign = await sluice(['topics', 'update', weblogs.name, '--deep']);
  assert.equal(foreign.code, 2);
  assert.match(foreign.stderr, /--deep is an option of "sluice audit", not of "sluice topics update"/);
});

test('topics pause and resume change the topic; without a token the API refuses with exit 1 and a hint', async () => {
  const api = apiClient(master.url, cluster.token);
  const pause = await sluice(['topics', 'pause', weblogs.name]);
  assert.equal(pause.code, 0, pause.stderr);
  assert.equal(pause.stdout.trim(), `${weblogs.name} paused`);
  assert.equal((await api.get(`/api/v1/topics/${weblogs.name}`)).body.paused, true);
  const resume = await sluice(['topics', 'resume', weblogs.name, '--json']);
  assert.equal(resume.code, 0);
  assert.equal(JSON.parse(resume.stdout).paused, false);
  const noToken = await sluice(['topics', 'pause', weblogs.name], { SLUICE_API_TOKEN: '' });
  assert.equal(noToken.code, 1);
  assert.match(noToken.stderr, /HTTP 401 .*missing bearer token.*\(set SLUICE_API_TOKEN or pass --token\)/);
  const wrong = await sluice(['topics', 'pause', weblogs.name, '--token', 'not-it']);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /token not accepted/);
});

test('status and workers show the leader, topics, workers and failures; ranges retry requeues a failed range', async () => {
  // A bucket that does not exist is refused at registration (issue 15, point 2) ...
  const refused = await sluice(['topics', 'add', broken.name, '--bucket', `${bucket}-missing`]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /HTTP 422 \[SLUICE_ERR_DESTINATION_UNUSABLE\].*does not exist; create it/);
  // ... so the ranges that fail are those of a bucket removed after the registration.
  const goneBucket = await createBucket(s3, `${bucket}-gone`);
  const add = await sluice([
    'topics',
    'add',
    broken.name,
    '--bucket',
    `${bucket}-gone`,
    '--flush-interval-ms',
    '500',
  ]);
  assert.equal(add.code, 0, add.stderr);
  await goneBucket.delete();
  const failed = await waitFor(
    'a failed range of the topic without a bucket',
    async () => {
      const s = JSON.parse((await sluice(['status', '--json'])).stdout);
      return s.recentFailures.find((f: { topic: string }) => f.topic === broken.name);
    },
    90_000,
    1_000,
  );
  const status = await sluice(['status']);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`^leader: +${cluster.name}-master-1 on `, 'm'));
  assert.match(status.stdout, /^lag: +[\d,]+ records; oldest waiting /m);
  assert.match(status.stdout, /^TOPIC\s+STATE\s+PARTITIONS\s+COMMITTED\s+LAG\s+LAG TIME/m);
  assert.match(status.stdout, new RegExp(`^${weblogs.name}\\s+active\\s+2\\s+400\\s+0\\s+0 s`, 'm'));
  assert.match(status.stdout, /recent failures/);
  assert.ok(status.stdout.includes(failed.id), status.stdout);

  const workers = await sluice(['workers']);
  assert.equal(workers.code, 0);
  assert.match(workers.stdout, new RegExp(`^${cluster.name}-worker-2\\s+`, 'm'));
  assert.equal(JSON.parse((await sluice(['workers', '--json'])).stdout).workers.length, 1);

  const retry = await sluice(['ranges', 'retry', failed.id]);
  assert.equal(retry.code, 0, retry.stderr);
  assert.equal(retry.stdout.trim(), `retry of ${failed.id} requested`);
  const gone = await sluice(['ranges', 'retry', `${weblogs.name}-0-0-100`]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /HTTP 404 \[SLUICE_ERR_RANGE_NOT_FOUND\]/);
  const malformed = await sluice(['ranges', 'retry', 'not-a-range']);
  assert.equal(malformed.code, 1);
  assert.match(malformed.stderr, /HTTP 400 .*range id must look like/);
});

test('topics remove unregisters, delete --force gives up what cannot finish; a master that cannot be reached exits 3 and says what to check', async () => {
  const remove = await sluice(['topics', 'remove', broken.name]);
  assert.equal(remove.code, 0, remove.stderr);
  assert.match(remove.stdout, /is being removed/);
  // Its bucket is gone, so its ranges never finish and it stays `deleting`: --force ends that.
  const forced = await sluice(['topics', 'delete', broken.name, '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /unfinished ranges are abandoned and recorded/);
  const api = apiClient(master.url, cluster.token);
  await waitFor(
    `${broken.name} to be removed`,
    async () => (await api.get(`/api/v1/topics/${broken.name}`)).status === 404,
    30_000,
    250,
  );
  const port = await freePort();
  const down = await sluice(['status'], { SLUICE_API_URL: `http://127.0.0.1:${port}` });
  assert.equal(down.code, 3);
  assert.match(
    down.stderr,
    new RegExp(
      `cannot reach the Sluice master at http://127\\.0\\.0\\.1:${port} .*Check that it runs and that SLUICE_API_URL \\(or --api-url\\) points at it`,
    ),
  );
});
