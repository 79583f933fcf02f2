/**
 * ZooKeeper's data lost under a running installation (issue 15, "ZooKeeper lost: rebuilt from
 * S3"): while a master and a worker move a topic under a steady load, the installation's
 * ZooKeeper chroot is deleted recursively, as a `deleteall` by mistake would. The operator
 * then does what the README's operations section says: stops Sluice, clears what the running
 * processes wrote again into the chroot, starts a master and a worker on the empty chroot and
 * runs `POST /api/v1/recover` on the topic's destination. Every record still lands exactly
 * once (end-check.ts): no object written twice, no offset skipped, however the ranges in
 * flight at the deletion ended.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ZkSession } from '@sluice/shared';
import { loadStackEnv } from '@sluice/test-kit';
import { apiClient } from '../helpers/api.ts';
import { verifyEnd } from '../helpers/end-check.ts';
import { FaultRun } from '../helpers/fault-run.ts';
import type { TestTopic } from '../helpers/kafka.ts';
import { produceAll, steadyLoad } from '../helpers/load.ts';
import { waitFor } from '../helpers/processes.ts';
import { makeEvents } from '../helpers/records.ts';

const run = new FaultRun({ name: 'fault-zk-wiped', bucket: 'fault-zk-wiped' });
const { s3, cluster, bucket } = run;
const prefix = 'wiped';
let topic: TestTopic;

before(async () => {
  topic = await run.topic('zk-wiped', 2);
});

/** Deletes the chroot until it is gone: running processes may be creating nodes in it meanwhile. */
async function deleteChroot(): Promise<void> {
  const root = await ZkSession.open({ connect: loadStackEnv().SLUICE_ZOOKEEPER, sessionTimeoutMs: 10_000 });
  try {
    await waitFor(
      'the chroot deleted',
      async () => {
        await root.removeRecursive(cluster.chroot).catch(() => {});
        return !(await root.exists(cluster.chroot));
      },
      20_000,
      50,
    );
  } finally {
    await root.close();
  }
}

test('chroot deleted under load: stop, start on the empty chroot, recover; every record lands once', async (t) => {
  let master = await cluster.startMaster();
  // S3 answers each request of the first worker after 300 ms, so that the deletion finds ranges in flight.
  const slow = await run.s3Proxy(300);
  let worker = await cluster.startWorker({
    SLUICE_S3_ENDPOINT: slow.endpoint,
    SLUICE_WORKER_CONCURRENCY: '4',
  });
  let api = apiClient(master.url, cluster.token);
  const produced = makeEvents(6_000, { startMs: Date.now(), spanMs: 60_000, partitions: 2 });
  await produceAll(topic.producer, topic.name, produced.slice(0, 1_000));
  const res = await api.post('/api/v1/topics', {
    topic: topic.name,
    destination: { bucket, prefix },
    partitionBy: { kind: 'none' },
    maxRangeMessages: 100,
    flushIntervalMs: 300,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const load = steadyLoad(topic.producer, topic.name, produced.slice(1_000, 4_000), 1_000);
  await waitFor('some ranges committed', async () => {
    const v = await api.get(`/api/v1/topics/${topic.name}`);
    const parts = (v.body?.partitions ?? []) as Array<{ committedOffset: string }>;
    return parts.some((p) => BigInt(p.committedOffset) >= 400n);
  });

  // The mistake, under load and with ranges in flight.
  const inFlight = (await (await run.zkView()).ranges(topic.name)).length;
  await deleteChroot();
  t.diagnostic(`${inFlight} ranges in flight just before the deletion`);
  t.diagnostic('chroot deleted under the running master and worker');
  await load.done;

  // The operator's way out: stop, clear, start on the empty chroot, recover.
  await Promise.all([master.stop(), worker.stop()]);
  await deleteChroot();
  master = await cluster.startMaster();
  worker = await cluster.startWorker();
  api = apiClient(master.url, cluster.token);
  const recovered = await api.post('/api/v1/recover', { destinations: [{ bucket, prefix }] });
  assert.equal(recovered.status, 200, JSON.stringify(recovered.body));
  const [only] = recovered.body.topics as Array<{
    topic: string;
    outcome: string;
    message: string;
    partitions: Array<{ partition: number; committedOffset: string; hole: unknown }>;
  }>;
  assert.equal(only?.topic, topic.name);
  assert.equal(only.outcome, 'recovered', only.message);
  t.diagnostic(
    `recovered at ${only.partitions.map((p) => `${p.partition}:${p.committedOffset}${p.hole ? ` hole ${JSON.stringify(p.hole)}` : ''}`).join(', ')}`,
  );

  await produceAll(topic.producer, topic.name, produced.slice(4_000));
  const end = await verifyEnd({ api, s3, admin: topic.admin, bucket, prefix, topic: topic.name, produced });
  t.diagnostic(`${produced.length} records, ${end.commitRecords} commit records, ${end.dataObjects} objects`);
});
