/**
 * A topic deleted and re-created in Kafka under the same name while it is registered: its
 * offsets start again, and the object keys carry offsets, so copying it would overwrite the
 * old incarnation's objects. Sluice notices Kafka's new topic id: the workers refuse the
 * ranges planned for the old incarnation (SLUICE_ERR_TOPIC_RECREATED, shown as range errors)
 * and the leader stops the topic with that error, shown by the API and the status. No object
 * of the old incarnation changes and nothing of the new one is written.
 *
 * The topic is paused across the re-creation, so that the leader sees the new incarnation
 * rather than the moment in between when Kafka has no such topic (which stops the topic too,
 * with SLUICE_ERR_TOPIC_NOT_IN_KAFKA).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { apiClient } from '../helpers/api.ts';
import { changedObjects, snapshotObjects, waitCommitted } from '../helpers/end-check.ts';
import { createTopic, highWatermarks, kafkaClient, type TestTopic } from '../helpers/kafka.ts';
import { produceAll } from '../helpers/load.ts';
import { TestCluster, uniqueName, waitFor } from '../helpers/processes.ts';
import { makeEvents } from '../helpers/records.ts';
import { createBucket, s3Client } from '../helpers/s3.ts';
import { ZkView } from '../helpers/zk-view.ts';

const kafka = kafkaClient();
const s3 = s3Client();
const cluster = new TestCluster({ name: 'fault-recreated' });
const bucket = uniqueName('fault-recreated').toLowerCase();
const prefix = 'recreated';
let zk: ZkView;
let topic: TestTopic;
let dropBucket: () => Promise<void>;

before(async () => {
  dropBucket = (await createBucket(s3, bucket)).delete;
  zk = await ZkView.open(cluster.env.SLUICE_ZOOKEEPER!);
  topic = await createTopic(kafka, uniqueName('recreated'), 2);
});

after(async () => {
  await cluster.stopAll();
  await zk?.close();
  // The producer of the re-created topic (delete() closes the first one).
  await topic?.producer.disconnect().catch(() => {});
  await topic?.delete();
  await dropBucket?.();
});

test('a topic re-created under the same name is stopped with a clear error, and no object of the old one is overwritten', async (t) => {
  const master = await cluster.startMaster();
  const worker = await cluster.startWorker();
  const api = apiClient(master.url, cluster.token);
  await produceAll(
    topic.producer,
    topic.name,
    makeEvents(2_000, { startMs: Date.now(), spanMs: 60_000, partitions: 2, prefix: 'old' }),
  );
  const res = await api.post('/api/v1/topics', {
    topic: topic.name,
    destination: { bucket, prefix },
    partitionBy: { kind: 'none' },
    maxRangeMessages: 250,
    flushIntervalMs: 300,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const oldId = res.body.topicId as string;
  await waitCommitted(api, topic.name, await highWatermarks(topic.admin, topic.name));

  // More records of the old incarnation get planned while no worker runs: ranges in flight.
  await worker.stop('SIGTERM');
  await produceAll(
    topic.producer,
    topic.name,
    makeEvents(1_000, { startMs: Date.now(), spanMs: 60_000, partitions: 2, prefix: 'old2' }),
  );
  const inFlight = await waitFor('ranges planned for the new records', async () => {
    const r = await zk.ranges(topic.name);
    return r.length >= 4 && r.every((x) => x.record.state === 'planned') ? r : false;
  });
  const before = await snapshotObjects(s3, bucket, `${prefix}/${topic.name}/`);

  // Deleted and re-created with the same name, and written again from offset 0.
  assert.equal((await api.patch(`/api/v1/topics/${topic.name}`, { paused: true })).status, 200);
  await topic.producer.disconnect();
  await topic.admin.deleteTopics({ topics: [topic.name] });
  await waitFor(
    'the topic to be created again',
    async () => {
      try {
        return await topic.admin.createTopics({
          topics: [{ topic: topic.name, numPartitions: 2, replicationFactor: 1 }],
          waitForLeaders: true,
        });
      } catch {
        return false;
      }
    },
    60_000,
    500,
  );
  topic.producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await topic.producer.connect();
  await produceAll(
    topic.producer,
    topic.name,
    makeEvents(3_000, { startMs: Date.now(), spanMs: 60_000, partitions: 2, prefix: 'new' }),
  );

  // The old incarnation's ranges in flight are refused by the worker.
  await cluster.startWorker();
  const refused = await waitFor(
    'the worker to refuse the old ranges',
    async () => {
      const nodes = await zk.ranges(topic.name);
      const failed = nodes.filter(
        (n) => n.record.state === 'failed' && /SLUICE_ERR_TOPIC_RECREATED/.test(n.record.error ?? ''),
      );
      return failed.length > 0 ? failed : false;
    },
    60_000,
    250,
  );
  // The leader stops the topic once it looks at Kafka again.
  assert.equal((await api.patch(`/api/v1/topics/${topic.name}`, { paused: false })).status, 200);
  const view = await waitFor('the topic to be stopped', async () => {
    const body = (await api.get(`/api/v1/topics/${topic.name}`)).body as {
      state: string;
      error: string | null;
    };
    return body.state === 'stopped' ? body : false;
  });
  assert.match(view.error ?? '', /SLUICE_ERR_TOPIC_RECREATED/);
  assert.match(view.error ?? '', /deleted and re-created/);
  assert.match(view.error ?? '', new RegExp(oldId));
  const status = (await api.get('/api/v1/status')).body as {
    topics: Array<{ topic: string; state: string; error: string | null }>;
    recentFailures: Array<{ topic: string; error: string | null }>;
  };
  const shown = status.topics.find((x) => x.topic === topic.name);
  assert.equal(shown?.state, 'stopped');
  assert.match(shown?.error ?? '', /SLUICE_ERR_TOPIC_RECREATED/);
  assert.ok(
    status.recentFailures.some(
      (f) => f.topic === topic.name && /SLUICE_ERR_TOPIC_RECREATED/.test(f.error ?? ''),
    ),
  );

  // Nothing more is planned, nothing of the old incarnation is overwritten, nothing new is written.
  await new Promise((r) => setTimeout(r, 3_000));
  const nodes = await zk.ranges(topic.name);
  assert.deepEqual(
    nodes.map((n) => `${n.partition}/${n.start}-${n.end}`).sort(),
    inFlight.map((n) => `${n.partition}/${n.start}-${n.end}`).sort(),
    'no range planned after the re-creation',
  );
  const afterAll = await snapshotObjects(s3, bucket, `${prefix}/${topic.name}/`);
  // The topic's config object (`_sluice/config.json`) is rewritten on every change of the
  // topic by design (the pause above): it describes the topic, it is no output of a range.
  const output = <V>(m: Map<string, V>) =>
    new Map([...m].filter(([k]) => !k.endsWith('/_sluice/config.json')));
  assert.deepEqual(
    changedObjects(output(before), output(afterAll)),
    [],
    'no object of the old incarnation changed',
  );
  assert.deepEqual(
    [...afterAll.keys()].sort(),
    [...before.keys()].sort(),
    'no object written for the new incarnation',
  );
  t.diagnostic(
    `topic id was ${oldId}: ${refused.length} old range(s) refused by the worker, topic stopped: "${view.error?.slice(0, 160)}…"; ` +
      `${before.size} objects unchanged`,
  );
});
