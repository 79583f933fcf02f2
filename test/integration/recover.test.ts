/**
 * Issue 15, "ZooKeeper lost: rebuilt from S3": an installation lands data for two topics, its
 * ZooKeeper chroot is then deleted recursively, and a fresh master on the empty chroot rebuilds
 * both registrations from S3 alone: `POST /api/v1/recover` for one destination, the `sluice
 * recover` CLI for the other. Each partition goes on at the end of its commit records; more
 * data is produced and the end state passes the exactly-once check (end-check.ts): no object
 * written twice, no offset skipped.
 *
 * The master and the worker are stopped before the chroot is deleted: ZooKeeper's data is lost
 * with the ensemble or its volume, whose loss ends every session; a chroot deleted under running
 * processes is written again by them within a second (the leader re-creates its base paths), so
 * the operator stops Sluice, then starts it on the empty ZooKeeper and recovers. (The fault
 * suite's 13-zookeeper-wiped deletes it under the running processes.)
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { configObjectKey, ZkSession } from '@sluice/shared';
import { loadStackEnv } from '@sluice/test-kit';
import { apiClient } from '../helpers/api.ts';
import { runSluiceCli } from '../helpers/cli-run.ts';
import { type Api, verifyEnd, waitCommitted } from '../helpers/end-check.ts';
import { createTopic, highWatermarks, kafkaClient, type TestTopic } from '../helpers/kafka.ts';
import { produceAll } from '../helpers/load.ts';
import { TestCluster, uniqueName } from '../helpers/processes.ts';
import { makeEvents, type ProducedRecord } from '../helpers/records.ts';
import { createBucket, getText, s3Client } from '../helpers/s3.ts';

const kafka = kafkaClient();
const s3 = s3Client();
const cluster = new TestCluster({ name: 'recover' });
const bucket = uniqueName('recover').toLowerCase();
const topics: TestTopic[] = [];
let dropBucket: () => Promise<void>;

interface RecoverAnswer {
  dryRun: boolean;
  topics: Array<{
    topic: string;
    outcome: string;
    message: string;
    partitions: Array<{ partition: number; committedOffset: string; commitRecords: number; hole: unknown }>;
  }>;
  problems: unknown[];
}

before(async () => {
  dropBucket = (await createBucket(s3, bucket)).delete;
});

after(async () => {
  await cluster.stopAll();
  for (const t of topics) await t.delete();
  await dropBucket?.();
});

async function produce(t: TestTopic, count: number, tag: string): Promise<ProducedRecord[]> {
  const events = makeEvents(count, { startMs: Date.now(), spanMs: 60_000, partitions: 2, prefix: tag });
  await produceAll(t.producer, t.name, events);
  return events;
}

/** Deletes the installation's whole chroot, as `deleteall /it/...` in zkCli would. */
async function deleteChroot(): Promise<void> {
  const root = await ZkSession.open({ connect: loadStackEnv().SLUICE_ZOOKEEPER, sessionTimeoutMs: 10_000 });
  try {
    await root.removeRecursive(cluster.chroot);
    assert.equal(await root.exists(cluster.chroot), false, 'the chroot is gone');
  } finally {
    await root.close();
  }
}

/** What recovery must say of a topic: each partition at its high watermark before the loss. */
function expectedLines(hw: Map<number, bigint>): Array<[number, string]> {
  return [...hw].sort(([a], [b]) => a - b).map(([p, o]) => [p, o.toString()]);
}

test('ZooKeeper chroot deleted: a fresh master rebuilds both topics from S3 and the pipeline goes on exactly once', async (t) => {
  const [a, b] = [
    await createTopic(kafka, uniqueName('rec-a'), 2),
    await createTopic(kafka, uniqueName('rec-b'), 2),
  ];
  topics.push(a!, b!);
  const prefixOf = new Map([
    [a!.name, 'rec-a'],
    [b!.name, 'rec-b'],
  ]);
  const produced = new Map<string, ProducedRecord[]>();

  // 1. A running installation lands data for two topics, each in its own prefix.
  let master = await cluster.startMaster();
  let worker = await cluster.startWorker();
  let api: Api = apiClient(master.url, cluster.token);
  const before = new Map<string, Map<number, bigint>>();
  for (const topic of [a!, b!]) {
    produced.set(topic.name, await produce(topic, 300, `${topic.name}-1`));
    const res = await api.post('/api/v1/topics', {
      topic: topic.name,
      destination: { bucket, prefix: prefixOf.get(topic.name) },
      partitionBy: { kind: 'none' },
      maxRangeMessages: 70,
      flushIntervalMs: 300,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    before.set(topic.name, await highWatermarks(topic.admin, topic.name));
  }
  for (const topic of [a!, b!]) await waitCommitted(api, topic.name, before.get(topic.name)!);
  const configObject = JSON.parse(await getText(s3, bucket, configObjectKey('rec-a', a!.name)));
  assert.equal(
    configObject.config.topic,
    a!.name,
    'the registration wrote its config object beside its commit records',
  );
  // The second topic moves to another prefix before the loss and writes nothing there: its past
  // (every commit record) is in the destination it left, which its record and config object list.
  const moved = await api.patch(`/api/v1/topics/${b!.name}`, { destination: { bucket, prefix: 'rec-b2' } });
  assert.equal(moved.status, 200, JSON.stringify(moved.body));
  assert.deepEqual(
    (moved.body.pastDestinations as Array<{ bucket: string; prefix: string }>).map((d) => [
      d.bucket,
      d.prefix,
    ]),
    [[bucket, 'rec-b']],
  );

  // 2. ZooKeeper's data is lost: the processes stop, the chroot is deleted, Sluice starts on it empty.
  await Promise.all([master.stop(), worker.stop()]);
  await deleteChroot();
  master = await cluster.startMaster();
  worker = await cluster.startWorker();
  api = apiClient(master.url, cluster.token);
  assert.deepEqual((await api.get('/api/v1/topics')).body, { topics: [] }, 'the new master knows no topic');

  // 3. A dry run says what recovery would do and does nothing.
  const dry = await api.post('/api/v1/recover', {
    destinations: [{ bucket, prefix: 'rec-a' }],
    dryRun: true,
  });
  assert.equal(dry.status, 200, JSON.stringify(dry.body));
  const dryAnswer = dry.body as unknown as RecoverAnswer;
  assert.deepEqual(
    dryAnswer.topics.map((x) => [x.topic, x.outcome]),
    [[a!.name, 'would-recover']],
  );
  assert.equal((await api.get(`/api/v1/topics/${a!.name}`)).status, 404, 'a dry run registers nothing');

  // 4. POST /api/v1/recover restores the first topic; the CLI the second.
  const res = await api.post('/api/v1/recover', { destinations: [{ bucket, prefix: 'rec-a' }] });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const answer = res.body as unknown as RecoverAnswer;
  assert.equal(answer.topics.length, 1);
  assert.equal(answer.topics[0]!.outcome, 'recovered', answer.topics[0]!.message);
  assert.deepEqual(
    answer.topics[0]!.partitions.map((p) => [p.partition, p.committedOffset]),
    expectedLines(before.get(a!.name)!),
    'each partition goes on at the end of its commit records',
  );
  for (const p of answer.topics[0]!.partitions) {
    assert.ok(p.commitRecords >= 2, `partition ${p.partition}: its commit records were counted`);
    assert.equal(p.hole, null);
  }

  // From the destination the second topic left: its config object there says where it is now.
  const cli = await runSluiceCli(master, cluster.token, ['recover', '--bucket', bucket, '--prefix', 'rec-b']);
  assert.equal(cli.code, 0, cli.stdout);
  const lines = cli.stdout.split('\n').filter((l) => l.startsWith(b!.name));
  assert.deepEqual(
    lines.map((l) => l.split(/\s+/).slice(1, 3)),
    expectedLines(before.get(b!.name)!).map(([p, o]) => [String(p), o]),
    `one line per partition with its committed offset:\n${cli.stdout}`,
  );
  assert.ok(
    lines.every((l) => / recovered\s*$/.test(l)),
    cli.stdout,
  );

  // Recovering again changes nothing: both are registered now.
  const again = (await api.post('/api/v1/recover', {
    destinations: [
      { bucket, prefix: 'rec-a' },
      { bucket, prefix: 'rec-b' },
    ],
  })) as unknown as { status: number; body: RecoverAnswer };
  assert.equal(again.status, 200);
  assert.deepEqual(
    again.body.topics.map((x) => x.outcome),
    ['already-registered', 'already-registered'],
  );

  // 5. More data; everything produced since the first registration is in S3 exactly once: the
  // first topic's in its one prefix, the second's new records in its new prefix from where the
  // old one ended (the audit checks its whole offset line, over both destinations).
  const second = new Map<string, ProducedRecord[]>();
  for (const topic of [a!, b!]) second.set(topic.name, await produce(topic, 300, `${topic.name}-2`));
  const endA = await verifyEnd({
    api,
    s3,
    admin: a!.admin,
    bucket,
    prefix: 'rec-a',
    topic: a!.name,
    produced: [...produced.get(a!.name)!, ...second.get(a!.name)!],
  });
  const endB = await verifyEnd({
    api,
    s3,
    admin: b!.admin,
    bucket,
    prefix: 'rec-b2',
    topic: b!.name,
    produced: second.get(b!.name)!,
    logStartOffsets: before.get(b!.name)!,
  });
  t.diagnostic(
    `commit records: ${a!.name} ${endA.commitRecords}, ${b!.name} ${endB.commitRecords} in rec-b2`,
  );
  for (const topic of [a!, b!]) {
    const audit = await api.get(`/api/v1/topics/${topic.name}/audit`);
    assert.equal(audit.status, 200, JSON.stringify(audit.body));
    assert.equal((audit.body as { ok?: boolean }).ok, true, JSON.stringify(audit.body));
    // The whole offset line of each partition, from 0 to the high watermark, over every destination.
    const hw = await highWatermarks(topic.admin, topic.name);
    assert.deepEqual(
      (audit.body as { partitions: Array<{ partition: number; from: string; to: string }> }).partitions.map(
        (p) => [p.partition, p.from, p.to],
      ),
      [...hw].sort(([x], [y]) => x - y).map(([p, o]) => [p, '0', o.toString()]),
    );
  }
});
