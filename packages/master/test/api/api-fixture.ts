/**
 * A master API for one test file, built with `buildApi` on the real local stack: its own
 * ZooKeeper chroot, BullMQ queue prefix on the stack's Redis, and Kafka topics made with the
 * kafkajs admin. Everything it made is removed by `close()`. When the stack is not up, the
 * fixture throws (the test fails; it never skips).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BASE_PATHS,
  createKafkaAdmin,
  createLogger,
  createRedis,
  decodeJson,
  encodeJson,
  LEADER_PATH,
  type LeaderRecord,
  type Logger,
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
import { Queue } from 'bullmq';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { Kafka, logLevel } from 'kafkajs';
import { Counter, Registry } from 'prom-client';
import { buildApi } from '../../src/api/index.ts';

const STACK_ENV = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  '..',
  '.sluice',
  'stack.env',
);

export const TOKEN = 'test-token-one';
export const OTHER_TOKEN = 'test-token-two';

/** The local stack's settings (`.sluice/stack.env`). */
export function stackEnv(): Record<string, string> {
  if (!existsSync(STACK_ENV)) {
    throw new Error(`${STACK_ENV} is missing: the local stack is not up; run npm run stack:up`);
  }
  const env: Record<string, string> = {};
  for (const line of readFileSync(STACK_ENV, 'utf8').split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!.replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}

export function unique(base: string): string {
  return `${base}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export interface ApiFixture {
  app: FastifyInstance;
  config: MasterConfig;
  zk: ZkSession;
  ready: { ok: boolean; reasons: string[] };
  /** Sends a request; `token: null` sends none, the default is a valid one. */
  call(
    method: InjectOptions['method'],
    url: string,
    body?: unknown,
    token?: string | null,
  ): Promise<LightMyRequestResponse>;
  /** Creates a Kafka topic (deleted by close). */
  kafkaTopic(partitions: number, messages?: number): Promise<string>;
  putLeader(record: LeaderRecord): Promise<void>;
  putWorker(reg: WorkerRegistration): Promise<void>;
  putPartition(topic: string, partition: number, state: Partial<PartitionState>): Promise<void>;
  putRange(
    range: Partial<RangeRecord> & Pick<RangeRecord, 'topic' | 'partition' | 'start' | 'end'>,
  ): Promise<void>;
  close(): Promise<void>;
}

export async function apiFixture(
  overrides: Record<string, string> = {},
  opts: { log?: Logger } = {},
): Promise<ApiFixture> {
  const stack = stackEnv();
  const name = unique('t-api');
  const config = loadMasterConfig({
    ...stack,
    SLUICE_ZOOKEEPER: `${stack.SLUICE_ZOOKEEPER!.split('/')[0]}/${name}`,
    SLUICE_QUEUE_PREFIX: name,
    SLUICE_API_TOKEN: `${TOKEN},${OTHER_TOKEN}`,
    SLUICE_LOG_LEVEL: 'silent',
    SLUICE_MASTER_ID: 'master-test',
    ...overrides,
  }) as MasterConfig;
  const zk = await ZkSession.open({ connect: config.zookeeper, sessionTimeoutMs: 10_000 });
  for (const p of BASE_PATHS) await zk.mkdirp(p);
  const kafka = createKafkaAdmin(config);
  const redis = createRedis(config);
  const queue = new Queue(RANGE_QUEUE_NAME, { connection: redis, prefix: config.queuePrefix });
  const metrics = new Registry();
  new Counter({ name: 'sluice_test_total', help: 'A counter for the API tests.', registers: [metrics] }).inc(
    3,
  );
  const ready = { ok: true, reasons: [] as string[] };
  const app = await buildApi({
    config,
    zk: () => zk,
    kafka,
    queue,
    election: {
      isLeader: () => false,
      leader: async () => {
        const node = await zk.get(LEADER_PATH);
        return node ? decodeJson<LeaderRecord>(node.data, 'leader') : null;
      },
    },
    metrics,
    log: opts.log ?? createLogger('sluice-master-test', 'silent'),
    ready: () => ({ ...ready }),
  });
  const kafkaJs = new Kafka({
    clientId: 'sluice-api-test',
    brokers: config.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafkaJs.admin();
  await admin.connect();
  const topics: string[] = [];

  async function put(path: string, value: unknown): Promise<void> {
    await zk.mkdirp(path);
    await zk.set(path, encodeJson(value), -1);
  }

  return {
    app,
    config,
    zk,
    ready,
    call(method, url, body, token = TOKEN) {
      return app.inject({
        method,
        url,
        ...(body === undefined ? {} : { payload: body as object }),
        headers: token === null ? {} : { authorization: `Bearer ${token}` },
      });
    },
    async kafkaTopic(partitions, messages = 0) {
      const topic = unique('api-topic');
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
    putLeader: (record) => put(LEADER_PATH, record),
    async putWorker(reg) {
      await zk.create(workerPath(reg.id), encodeJson(reg), { ephemeral: true });
    },
    putPartition: (topic, partition, state) =>
      put(partitionPath(topic, partition), {
        v: 1,
        committedOffset: '0',
        committedRecords: 0,
        committedBytes: 0,
        committedRanges: 0,
        gapOffsets: '0',
        bytesPerOffset: 0,
        committedMaxTimestamp: null,
        updatedAt: new Date().toISOString(),
        ...state,
      } satisfies PartitionState),
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
      if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => {});
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

/** The parsed JSON body of an answer. */
export function json<T = any>(res: LightMyRequestResponse): T {
  return JSON.parse(res.body) as T;
}
