/**
 * The setup of integration tests that register topics and look at what lands: a cluster of one
 * master and one worker of the test file's own, a bucket of its own, and topics that are
 * deleted when the file ends (before/after hooks registered by {@link topicStack}).
 */
import { after, before } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Kafka } from 'kafkajs';
import { apiClient } from './api.ts';
import type { Api } from './end-check.ts';
import { createTopic, kafkaClient, type TestTopic } from './kafka.ts';
import { type SluiceProcess, TestCluster, uniqueName } from './processes.ts';
import { createBucket, s3Client } from './s3.ts';

export interface TopicStack {
  kafka: Kafka;
  s3: S3Client;
  cluster: TestCluster;
  bucket: string;
  /** The master's API with the cluster's token; usable from the first test on. */
  api: Api;
  /** The master (set once the `before` hook ran). */
  master(): SluiceProcess;
  /** A new Kafka topic with a unique name from `name`, deleted when the file ends. */
  newTopic(name: string, partitions?: number): Promise<TestTopic>;
}

/** `env`: extra settings of the file's master and worker (e.g. a shorter interval). */
export function topicStack(name: string, env: Record<string, string> = {}): TopicStack {
  const kafka = kafkaClient();
  const s3 = s3Client();
  const cluster = new TestCluster({ name, env });
  const bucket = uniqueName(name).toLowerCase();
  const topics: TestTopic[] = [];
  let master: SluiceProcess | undefined;
  let client: Api | undefined;
  let dropBucket: (() => Promise<void>) | undefined;
  const real = (): Api => {
    if (!client) throw new Error('topicStack: the API is used before the before() hook ran');
    return client;
  };

  before(async () => {
    dropBucket = (await createBucket(s3, bucket)).delete;
    master = await cluster.startMaster();
    await cluster.startWorker();
    client = apiClient(master.url, cluster.token);
  });

  after(async () => {
    await cluster.stopAll();
    for (const t of topics) await t.delete();
    await dropBucket?.();
  });

  return {
    kafka,
    s3,
    cluster,
    bucket,
    api: {
      call: (...args) => real().call(...args),
      get: (path) => real().get(path),
      post: (path, body) => real().post(path, body),
      patch: (path, body) => real().patch(path, body),
      del: (path) => real().del(path),
    },
    master: () => {
      if (!master) throw new Error('topicStack: no master before the before() hook ran');
      return master;
    },
    async newTopic(topicName, partitions = 2) {
      const t = await createTopic(kafka, uniqueName(topicName), partitions);
      topics.push(t);
      return t;
    },
  };
}
