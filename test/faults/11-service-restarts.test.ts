/**
 * The stack's Kafka broker and ZooKeeper server restarted in the middle of a run
 * (`stack.sh restart kafka|zookeeper`). These disturb everyone sharing the stack, so they run
 * last and are kept short.
 *
 *  - Kafka: reads and planning fail while the broker is down, are retried with backoff, and
 *    resume by themselves; nothing is lost or duplicated. (All records are produced before the
 *    restart: a producer's own retries across a restart could duplicate records in Kafka.)
 *  - ZooKeeper: a server restart does not expire sessions. With a session timeout longer than
 *    the restart, every client reconnects with its session: the leader keeps its epoch, no
 *    worker registers again, no range is requeued.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { loadStackEnv } from '@sluice/test-kit';
import { apiClient } from '../helpers/api.ts';
import { verifyEnd } from '../helpers/end-check.ts';
import { createTopic, kafkaClient, type TestTopic } from '../helpers/kafka.ts';
import { produceAll } from '../helpers/load.ts';
import { logged } from '../helpers/process-log.ts';
import { REPO, type SluiceProcess, TestCluster, uniqueName, waitFor } from '../helpers/processes.ts';
import { makeEvents } from '../helpers/records.ts';
import { createBucket, s3Client } from '../helpers/s3.ts';
import { S3FaultProxy } from '../helpers/s3-fault-proxy.ts';
import { ZkView } from '../helpers/zk-view.ts';

const kafka = kafkaClient();
const s3 = s3Client();
const cleanups: Array<() => Promise<void>> = [];

after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

/** Whether a TCP connection to host:port is accepted. */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function restart(service: 'kafka' | 'zookeeper'): Promise<number> {
  const t0 = Date.now();
  await promisify(execFile)('bash', ['deploy/local/stack.sh', 'restart', service], { cwd: REPO });
  return Date.now() - t0;
}

interface Run {
  cluster: TestCluster;
  master: SluiceProcess;
  workers: SluiceProcess[];
  api: ReturnType<typeof apiClient>;
  topic: TestTopic;
  bucket: string;
  zk: ZkView;
  produced: ReturnType<typeof makeEvents>;
  proxy: S3FaultProxy;
  committed(): Promise<number>;
}

/** A master and two workers, a topic with all its records produced, registered; S3 slowed so the run lasts. */
async function startRun(name: string, env: Record<string, string>): Promise<Run> {
  const cluster = new TestCluster({ name: `fault-restart-${name}`, env });
  cleanups.push(() => cluster.stopAll());
  const bucket = uniqueName(`fault-restart-${name}`).toLowerCase();
  cleanups.push((await createBucket(s3, bucket)).delete);
  const proxy = await S3FaultProxy.start(loadStackEnv().SLUICE_S3_ENDPOINT);
  cleanups.push(() => proxy.close());
  proxy.rule = () => ({ kind: 'pass', delayMs: 300 });
  const topic = await createTopic(kafka, uniqueName(`restart-${name}`), 4);
  cleanups.push(() => topic.delete());
  const zk = await ZkView.open(cluster.env.SLUICE_ZOOKEEPER!);
  cleanups.push(() => zk.close());
  const produced = makeEvents(12_000, { startMs: Date.now() - 3600_000, spanMs: 3600_000, partitions: 4 });
  await produceAll(topic.producer, topic.name, produced);
  const master = await cluster.startMaster();
  const workers = await Promise.all(
    [1, 2].map(() => cluster.startWorker({ SLUICE_S3_ENDPOINT: proxy.endpoint })),
  );
  const api = apiClient(master.url, cluster.token);
  const res = await api.post('/api/v1/topics', {
    topic: topic.name,
    destination: { bucket, prefix: 'r' },
    partitionBy: { kind: 'kafka-time', granularity: 'hour' },
    maxRangeMessages: 250,
    flushIntervalMs: 500,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const committed = async () => {
    const r = await api.get(`/api/v1/topics/${topic.name}`);
    if (r.status !== 200) return -1;
    return (r.body as { partitions: Array<{ committedOffset: string }> }).partitions.reduce(
      (n, p) => n + Number(p.committedOffset),
      0,
    );
  };
  await waitFor('a quarter committed', async () => (await committed()) >= 3_000, 60_000, 200);
  return { cluster, master, workers, api, topic, bucket, zk, produced, proxy, committed };
}

test('the Kafka broker restarted mid-run: reads and planning resume by themselves, nothing lost', async (t) => {
  const run = await startRun('kafka', {});
  // New ranges wait for their first S3 call until the broker is down, so that they read while it is.
  let down: () => void = () => {};
  const brokerDown = new Promise<void>((r) => {
    down = r;
  });
  run.proxy.rule = (r) =>
    r.op === 'GetObject' ? { kind: 'pass', until: brokerDown } : { kind: 'pass', delayMs: 300 };
  const before = await run.committed();
  const restartAt = Date.now();
  const restarting = restart('kafka');
  const [host, port] = loadStackEnv().SLUICE_KAFKA_BROKERS.split(',')[0]!.split(':') as [string, string];
  await waitFor('the broker to be down', async () => !(await reachable(host, Number(port))), 60_000, 100);
  down();
  const tookMs = await restarting;
  const back = Date.now();
  const atBack = await run.committed();
  const resumed = await waitFor(
    'progress after the restart',
    async () => ((await run.committed()) > atBack ? Date.now() : false),
    120_000,
    200,
  );
  await verifyEnd({
    api: run.api,
    s3,
    admin: run.topic.admin,
    bucket: run.bucket,
    prefix: 'r',
    topic: run.topic.name,
    produced: run.produced,
  });
  const fetchRetries = run.workers.flatMap((w) =>
    logged(w, ['kafka fetch retry', 'kafka metadata retry'], restartAt),
  ).length;
  const jobRetries = run.workers.flatMap((w) =>
    logged(w, ['range attempt failed; will retry', 'range failed'], restartAt),
  ).length;
  const skipped = logged(
    run.master,
    ['kafka metadata failed; planning skipped', 'kafka offsets failed'],
    restartAt,
  ).length;
  assert.ok(fetchRetries + jobRetries + skipped > 0, 'the restart was felt');
  t.diagnostic(
    `stack.sh restart kafka took ${tookMs} ms (${before} -> ${atBack} offsets committed meanwhile); committed offsets moved again ${resumed - back} ms after Kafka answered; ` +
      `${fetchRetries} Kafka retries by the workers' reads, ${jobRetries} failed job attempts retried, ${skipped} planning passes skipped; ${run.produced.length} records exactly once`,
  );
});

test('ZooKeeper restarted mid-run: sessions survive, the leader keeps its epoch, nothing is requeued or lost', async (t) => {
  // Sessions and the self-fencing watchdog (2/3 of the timeout) outlast the restart.
  const run = await startRun('zookeeper', { SLUICE_ZK_SESSION_TIMEOUT_MS: '20000' });
  const epoch = (await run.zk.leader())!.version;
  const workersBefore = await run.zk.workers();
  const restartAt = Date.now();
  const tookMs = await restart('zookeeper');
  await verifyEnd({
    api: run.api,
    s3,
    admin: run.topic.admin,
    bucket: run.bucket,
    prefix: 'r',
    topic: run.topic.name,
    produced: run.produced,
  });
  assert.equal((await run.zk.leader())!.version, epoch, 'the leader kept its epoch');
  assert.deepEqual(await run.zk.workers(), workersBefore, 'the same workers are registered');
  const lost = [run.master, ...run.workers].flatMap((p) =>
    logged(
      p,
      ['zookeeper session lost', 'zookeeper session lost; fencing', 'leadership lost', 'range requeued'],
      restartAt,
    ),
  );
  assert.deepEqual(
    lost.map((l) => `${l.msg} ${String(l.reason ?? '')}`),
    [],
    'no session lost, no leadership lost, no range requeued',
  );
  t.diagnostic(
    `stack.sh restart zookeeper took ${tookMs} ms; every client kept its session (timeout 20 s), epoch ${epoch} kept, nothing requeued`,
  );
});
