/**
 * A master API for one test file, built with `buildApi`. By default on no service at all:
 * the test kit's in-memory ZooKeeper, a Kafka that knows no topic and an empty queue, so that
 * the API's own behaviour (auth, routes, errors, ZooKeeper reads and writes) is tested by
 * `npm run test:unit`. With `{ stack: true }` (tests in test/integration) on the real local
 * stack instead: its own ZooKeeper chroot, BullMQ queue prefix on the stack's Redis, and
 * Kafka topics made with the kafkajs admin (`kafkaTopic`). Everything it made is removed by
 * `close()`. When the stack is not up, a stack fixture throws (the test fails; it never skips).
 *
 * Registrations prove their destination writable (topics/destination-probe.ts): on the stack
 * with the real probe against `bucket`, a bucket the fixture creates and removes; in memory
 * no S3 exists, and the check only records the buckets it was asked about (`probed`).
 */
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import {
  BASE_PATHS,
  createKafkaAdmin,
  createLogger,
  createRedis,
  createS3Client,
  decodeJson,
  deleteKeys,
  encodeJson,
  type KafkaAdmin,
  LEADER_PATH,
  type LeaderRecord,
  type Logger,
  listKeys,
  loadMasterConfig,
  type MasterConfig,
  newRange,
  type PartitionState,
  partitionPath,
  RANGE_QUEUE_NAME,
  type RangeRecord,
  rangePath,
  TOPIC_DEFAULTS,
  type WorkerRegistration,
  workerPath,
  ZkSession,
} from '@sluice/shared';
import { FakeKafka, FakeZk, loadStackEnv, partitionState, uniqueName } from '@sluice/test-kit';
import { Queue } from 'bullmq';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { Kafka, logLevel } from 'kafkajs';
import { Counter, Registry } from 'prom-client';
import { buildApi } from '../../src/api/index.ts';
import { type DestinationCheck, destinationProbe } from '../../src/topics/destination-probe.ts';

// Random per run: the master refuses short and placeholder tokens at start.
export const TOKEN = randomBytes(32).toString('hex');
export const OTHER_TOKEN = randomBytes(32).toString('hex');

export interface ApiFixture {
  app: FastifyInstance;
  config: MasterConfig;
  zk: ZkSession;
  ready: { ok: boolean; reasons: string[] };
  /** A bucket registrations may use: on the stack a real one, in memory any name. */
  bucket: string;
  /** The buckets the destination check was asked about, in order. */
  probed: string[];
  /** Sends a request; `token: null` sends none, the default is a valid one. */
  call(
    method: InjectOptions['method'],
    url: string,
    body?: unknown,
    token?: string | null,
  ): Promise<LightMyRequestResponse>;
  /** Creates a Kafka topic (deleted by close); only on a `{ stack: true }` fixture. */
  kafkaTopic(partitions: number, messages?: number): Promise<string>;
  putLeader(record: LeaderRecord): Promise<void>;
  putWorker(reg: WorkerRegistration): Promise<void>;
  putPartition(topic: string, partition: number, state: Partial<PartitionState>): Promise<void>;
  putRange(
    range: Partial<RangeRecord> & Pick<RangeRecord, 'topic' | 'partition' | 'start' | 'end'>,
  ): Promise<void>;
  close(): Promise<void>;
}

/** The services under the API: in memory, or the local stack's. */
interface Backend {
  env: Record<string, string>;
  zk: ZkSession;
  kafka: KafkaAdmin;
  queue: Queue;
  bucket: string;
  checkDestination: DestinationCheck;
  kafkaTopic(partitions: number, messages: number): Promise<string>;
  close(): Promise<void>;
}

/** No service: an in-memory ZooKeeper, a Kafka with no topic, a queue with no job. */
function memoryBackend(): Backend {
  const server = new FakeZk();
  for (const p of BASE_PATHS) server.put(p);
  const zk = server.session();
  // The API asks the queue for its job counts only (the status view).
  const queue: Pick<Queue, 'getJobCounts'> = {
    getJobCounts: async (...states: string[]) => Object.fromEntries(states.map((s) => [s, 0])),
  };
  return {
    // Addresses nothing listens on: the API must not reach for a service of its own.
    env: {
      SLUICE_KAFKA_BROKERS: '127.0.0.1:1',
      SLUICE_ZOOKEEPER: '127.0.0.1:1',
      SLUICE_REDIS_URL: 'redis://127.0.0.1:1',
    },
    zk,
    kafka: new FakeKafka(),
    queue: queue as Queue,
    bucket: 'test-bucket',
    checkDestination: async () => {},
    kafkaTopic: () => {
      throw new Error('kafkaTopic needs the local stack: build the fixture with { stack: true }');
    },
    close: () => server.closeAll(),
  };
}

/** The local stack: a ZooKeeper chroot, a queue prefix on its Redis, topics on its Kafka. */
async function stackBackend(name: string): Promise<Backend> {
  const stack = loadStackEnv();
  const env = {
    ...stack,
    SLUICE_ZOOKEEPER: `${stack.SLUICE_ZOOKEEPER.split('/')[0]}/${name}`,
    SLUICE_QUEUE_PREFIX: name,
  };
  const config = loadMasterConfig(env) as MasterConfig;
  const zk = await ZkSession.open({ connect: config.zookeeper, sessionTimeoutMs: 10_000 });
  for (const p of BASE_PATHS) await zk.mkdirp(p);
  const kafka = createKafkaAdmin(config);
  const redis = createRedis(config);
  const queue = new Queue(RANGE_QUEUE_NAME, { connection: redis, prefix: config.queuePrefix });
  const kafkaJs = new Kafka({
    clientId: 'sluice-api-test',
    brokers: config.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafkaJs.admin();
  await admin.connect();
  const topics: string[] = [];
  // The master's S3 credentials come from the environment (the SDK's chain), as in production:
  // registration probes the destination and reads its commit records (topic-resume.ts).
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION'] as const) {
    if (stack[k] && !process.env[k]) process.env[k] = stack[k];
  }
  const s3 = createS3Client(config);
  const bucket = name.toLowerCase();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    env,
    zk,
    kafka,
    queue,
    bucket,
    checkDestination: destinationProbe(s3, {
      conditionalWrites: config.s3.conditionalWrites,
      writer: 'api-fixture',
    }),
    async kafkaTopic(partitions, messages) {
      const topic = uniqueName('api-topic');
      await admin.createTopics({
        topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      topics.push(topic);
      if (messages > 0) {
        const producer = kafkaJs.producer({ allowAutoTopicCreation: false });
        await producer.connect();
        await producer.send({
          topic,
          messages: Array.from({ length: messages }, (_, i) => ({ partition: 0, value: `m${i}` })),
        });
        await producer.disconnect();
      }
      return topic;
    },
    async close() {
      if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => {});
      const left = await listKeys(s3, bucket, '').catch(() => []);
      await deleteKeys(
        s3,
        bucket,
        left.map((o) => o.key),
      ).catch(() => {});
      await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
      s3.destroy();
      await admin.disconnect();
      await kafka.close();
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      await redis.quit().catch(() => {});
      await zk.removeRecursive('/sluice');
      await zk.close();
      const base = await ZkSession.open({
        connect: config.zookeeper.split('/')[0]!,
        sessionTimeoutMs: 10_000,
      });
      await base.removeRecursive(`/${name}`);
      await base.close();
    },
  };
}

export async function apiFixture(
  overrides: Record<string, string> = {},
  opts: { log?: Logger; stack?: boolean } = {},
): Promise<ApiFixture> {
  const name = uniqueName('t-api');
  const backend = opts.stack ? await stackBackend(name) : memoryBackend();
  const config = loadMasterConfig({
    ...backend.env,
    SLUICE_API_TOKEN: `${TOKEN},${OTHER_TOKEN}`,
    SLUICE_LOG_LEVEL: 'silent',
    SLUICE_MASTER_ID: 'master-test',
    ...overrides,
  }) as MasterConfig;
  const { zk } = backend;
  const metrics = new Registry();
  new Counter({ name: 'sluice_test_total', help: 'A counter for the API tests.', registers: [metrics] }).inc(
    3,
  );
  const ready = { ok: true, reasons: [] as string[] };
  const probed: string[] = [];
  const app = await buildApi({
    config,
    zk: () => zk,
    kafka: backend.kafka,
    queue: backend.queue,
    election: {
      isLeader: () => false,
      leader: async () => {
        const node = await zk.get(LEADER_PATH);
        return node ? decodeJson<LeaderRecord>(node.data, 'leader') : null;
      },
    },
    metrics,
    log: opts.log ?? createLogger('sluice-master-test', 'silent'),
    checkDestination: async (topic, spec) => {
      probed.push(spec.destination.bucket);
      await backend.checkDestination(topic, spec);
    },
    ready: () => ({ ...ready }),
  });

  async function put(path: string, value: unknown): Promise<void> {
    await zk.mkdirp(path);
    await zk.set(path, encodeJson(value), -1);
  }

  return {
    app,
    config,
    zk,
    ready,
    bucket: backend.bucket,
    probed,
    call(method, url, body, token = TOKEN) {
      return app.inject({
        method,
        url,
        ...(body === undefined ? {} : { payload: body as object }),
        headers: token === null ? {} : { authorization: `Bearer ${token}` },
      });
    },
    kafkaTopic: (partitions, messages = 0) => backend.kafkaTopic(partitions, messages),
    putLeader: (record) => put(LEADER_PATH, record),
    async putWorker(reg) {
      await zk.create(workerPath(reg.id), encodeJson(reg), { ephemeral: true });
    },
    putPartition: (topic, partition, state) => put(partitionPath(topic, partition), partitionState(state)),
    async putRange(r) {
      const t = new Date().toISOString();
      const output: RangeRecord['output'] = {
        destination: { bucket: 'test-bucket', prefix: '' },
        format: TOPIC_DEFAULTS.format,
        compression: TOPIC_DEFAULTS.compression,
        partitionBy: TOPIC_DEFAULTS.partitionBy,
        serverSideEncryption: TOPIC_DEFAULTS.serverSideEncryption,
        kmsKeyId: '',
        storageClass: TOPIC_DEFAULTS.storageClass,
      };
      const origin = { topic: r.topic, topicId: 'test-topic-id', partition: r.partition, output };
      const span = { start: BigInt(r.start), end: BigInt(r.end) };
      const record: RangeRecord = { ...newRange(origin, span, t), ...r };
      await put(
        rangePath({ topic: r.topic, partition: r.partition, start: BigInt(r.start), end: BigInt(r.end) }),
        record,
      );
    },
    async close() {
      await app.close();
      await backend.close();
    },
  };
}

/** The parsed JSON body of an answer. */
export function json<T = any>(res: LightMyRequestResponse): T {
  return JSON.parse(res.body) as T;
}
