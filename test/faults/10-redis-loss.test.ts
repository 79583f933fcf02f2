/**
 * Invariant 9: Redis is a queue, not the truth. Mid-run, under load, the queue loses its
 * data three ways:
 *
 *  - every key of this installation's queue prefix is deleted (SCAN MATCH {prefix}:* + DEL on
 *    the stack's Redis, which other test runs share, so nothing else is touched);
 *  - FLUSHALL, for real, on a redis-server of the test's own;
 *  - the stack's Redis is restarted (`stack.sh restart redis`; last, as it disturbs others).
 *
 * Nothing is lost: the leader re-enqueues every planned-but-unfinished range from ZooKeeper
 * (`queue-lost`, every SLUICE_RECONCILE_INTERVAL_MS), workers recognise ranges already done
 * by their commit records, and no object that existed when Redis lost its data is rewritten.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { loadStackEnv } from '@sluice/test-kit';
import { Redis } from 'ioredis';
import { apiClient } from '../helpers/api.ts';
import { changedObjects, snapshotObjects, verifyEnd } from '../helpers/end-check.ts';
import { createTopic, kafkaClient, type TestTopic } from '../helpers/kafka.ts';
import { produceAll, steadyLoad } from '../helpers/load.ts';
import { logged } from '../helpers/process-log.ts';
import { REPO, TestCluster, uniqueName, waitFor } from '../helpers/processes.ts';
import { makeEvents } from '../helpers/records.ts';
import { startRedisServer } from '../helpers/redis-server.ts';
import { createBucket, getText, s3Client } from '../helpers/s3.ts';
import { S3FaultProxy } from '../helpers/s3-fault-proxy.ts';
import { ZkView } from '../helpers/zk-view.ts';

const RECONCILE_MS = 3_000;
const kafka = kafkaClient();
const s3 = s3Client();
const cleanups: Array<() => Promise<void>> = [];

after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

/**
 * One run: a master and two workers on `redisUrl` move a topic under a steady load; `lose`
 * runs once ranges are flowing. Checks that nothing is lost or rewritten.
 *
 * With `heldRange`, the commit record of one range is held back by the S3 proxy across the
 * loss: its worker is in the middle of it when its job vanishes, the leader re-enqueues it as
 * `queue-lost`, and the record is let through before the new attempt looks for it, so the new
 * attempt must recognise the range as done by its commit record and write nothing.
 */
async function lossScenario(
  t: import('node:test').TestContext,
  name: string,
  redisUrl: string,
  lose: (cluster: TestCluster) => Promise<void>,
  opts: { heldRange: boolean },
): Promise<void> {
  const cluster = new TestCluster({
    name: `fault-redis-${name}`,
    env: { SLUICE_REDIS_URL: redisUrl, SLUICE_RECONCILE_INTERVAL_MS: String(RECONCILE_MS) },
  });
  cleanups.push(() => cluster.stopAll());
  const bucket = uniqueName(`fault-redis-${name}`).toLowerCase();
  const dropBucket = (await createBucket(s3, bucket)).delete;
  cleanups.push(dropBucket);
  const proxy = await S3FaultProxy.start(loadStackEnv().SLUICE_S3_ENDPOINT);
  cleanups.push(() => proxy.close());
  const topic: TestTopic = await createTopic(kafka, uniqueName(`redis-${name}`), 4);
  cleanups.push(() => topic.delete());
  const view = await ZkView.open(cluster.env.SLUICE_ZOOKEEPER!);
  cleanups.push(() => view.close());

  let held: string | null = null;
  let release: () => void = () => {};
  const released = new Promise<void>((r) => {
    release = r;
  });
  let stored: () => void = () => {};
  const heldStored = new Promise<void>((r) => {
    stored = r;
  });
  let arm = false;
  proxy.rule = (r) => {
    const isCommit = r.key.includes('/_sluice/commits/');
    if (arm && held === null && r.op === 'PutObject' && isCommit) {
      held = r.key;
      return { kind: 'pass', until: released, beforeRespond: async () => stored() };
    }
    // The new attempt's look for the held commit record waits until the record is stored.
    if (held !== null && r.key === held && r.op === 'GetObject') return { kind: 'pass', until: heldStored };
    return { kind: 'pass', delayMs: 150 };
  };

  const master = await cluster.startMaster();
  const workers = await Promise.all(
    [1, 2].map(() => cluster.startWorker({ SLUICE_S3_ENDPOINT: proxy.endpoint })),
  );
  const api = apiClient(master.url, cluster.token);
  const produced = makeEvents(12_000, { startMs: Date.now() - 3600_000, spanMs: 3600_000, partitions: 4 });
  await produceAll(topic.producer, topic.name, produced.slice(0, 3_000));
  const res = await api.post('/api/v1/topics', {
    topic: topic.name,
    destination: { bucket, prefix: 'q' },
    partitionBy: { kind: 'kafka-time', granularity: 'hour' },
    maxRangeMessages: 250,
    flushIntervalMs: 500,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const load = steadyLoad(topic.producer, topic.name, produced.slice(3_000), 900);
  const committed = async () => {
    const body = (await api.get(`/api/v1/topics/${topic.name}`)).body as {
      partitions: Array<{ committedOffset: string }>;
    };
    return body.partitions.reduce((n, p) => n + Number(p.committedOffset), 0);
  };
  await waitFor('ranges flowing', async () => (await committed()) > 2_000, 60_000, 250);
  if (opts.heldRange) {
    arm = true;
    await waitFor('a commit record held back', async () => held !== null, 30_000, 20);
  }

  const lostAt = Date.now();
  await lose(cluster);
  // What was done at the loss: the commit records and the objects they list.
  const all = await snapshotObjects(s3, bucket, `q/${topic.name}/`);
  const done = new Set<string>();
  for (const key of all.keys()) {
    if (!key.includes('/_sluice/commits/')) continue;
    done.add(key);
    for (const o of (JSON.parse(await getText(s3, bucket, key)) as { objects: Array<{ key: string }> })
      .objects)
      done.add(o.key);
  }
  const existing = new Map([...all].filter(([key]) => done.has(key)));
  const atLoss = await committed();
  const resumed = await waitFor(
    'progress after the loss',
    async () => ((await committed()) > atLoss ? Date.now() : false),
    60_000,
    100,
  );

  let heldNote = '';
  if (opts.heldRange) {
    const m = /partition=(\d+)\/(\d{20})-(\d{20})\.json$/.exec(held!)!;
    const [partition, start, end] = [Number(m[1]), BigInt(m[2]!), BigInt(m[3]!)];
    const rangeName = `${topic.name}-${partition}-${start}-${end}`;
    await waitFor(
      'the leader to re-enqueue the held range',
      async () => ((await view.range(topic.name, partition, start, end))?.attempt ?? 0) > 1,
      30_000,
      100,
    );
    release();
    const recognisedBy = await waitFor(
      'the new attempt to find the commit record',
      async () =>
        workers.find((w) => logged(w, ['range already committed']).some((l) => l.range === rangeName)),
      30_000,
      100,
    );
    const stale = workers.flatMap((w) =>
      logged(w, ['attempt superseded', 'range gone']).filter((l) => l.range === rangeName),
    );
    heldNote = `; range ${partition}/${start}-${end} (its commit record held across the loss) re-enqueued, found done by ${recognisedBy.name}, first attempt: ${stale.map((l) => l.msg).join(', ') || 'finished'}`;
  }
  await load.done;
  await verifyEnd({ api, s3, admin: topic.admin, bucket, prefix: 'q', topic: topic.name, produced });
  const after = await snapshotObjects(s3, bucket, `q/${topic.name}/`);
  assert.deepEqual(
    changedObjects(existing, after),
    [],
    'no object of a range done at the loss was rewritten',
  );

  const requeued = logged(master, ['range requeued'], lostAt).filter((l) => l.reason === 'queue-lost');
  t.diagnostic(
    `${name}: committed offsets moved again ${resumed - lostAt} ms after the loss; ${requeued.length} range(s) re-enqueued as queue-lost` +
      `${requeued.length > 0 ? ` (first after ${Date.parse(requeued[0]!.time) - lostAt} ms, ${requeued.filter((l) => l.state === 'active').length} active)` : ''}` +
      `; ${existing.size} objects and commit records of done ranges at the loss, none rewritten${heldNote}`,
  );
}

test('the queue prefix’s keys deleted from the shared Redis: unfinished ranges re-enqueued, done ones not rewritten', async (t) => {
  const url = loadStackEnv().SLUICE_REDIS_URL;
  await lossScenario(
    t,
    'prefix',
    url,
    async (cluster) => {
      const redis = new Redis(url);
      try {
        let deleted = 0;
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${cluster.queuePrefix}:*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) deleted += await redis.del(...keys);
        } while (cursor !== '0');
        t.diagnostic(`deleted ${deleted} keys of queue prefix ${cluster.queuePrefix}`);
        assert.ok(deleted > 0);
      } finally {
        redis.disconnect();
      }
    },
    { heldRange: true },
  );
});

test('FLUSHALL on a Redis of its own: nothing lost', async (t) => {
  const own = await startRedisServer();
  cleanups.push(() => own.stop());
  await lossScenario(
    t,
    'flushall',
    own.url,
    async () => {
      const redis = new Redis(own.url);
      try {
        const keys = await redis.dbsize();
        assert.equal(await redis.flushall(), 'OK');
        t.diagnostic(`FLUSHALL dropped ${keys} keys`);
      } finally {
        redis.disconnect();
      }
    },
    { heldRange: true },
  );
});

test('the stack’s Redis restarted mid-run: nothing lost', async (t) => {
  const url = loadStackEnv().SLUICE_REDIS_URL;
  await lossScenario(
    t,
    'restart',
    url,
    async () => {
      const t0 = Date.now();
      await promisify(execFile)('bash', ['deploy/local/stack.sh', 'restart', 'redis'], { cwd: REPO });
      t.diagnostic(`stack.sh restart redis took ${Date.now() - t0} ms`);
    },
    { heldRange: false },
  );
});
