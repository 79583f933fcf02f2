/** Kafka helpers for tests: topics that clean themselves up, producing test records. */

import { loadStackEnv } from '@sluice/test-kit';
import { type Admin, type ITopicConfig, Kafka, logLevel, type Producer } from 'kafkajs';

export function kafkaClient(clientId = 'sluice-test'): Kafka {
  const env = loadStackEnv();
  return new Kafka({
    clientId,
    brokers: env.SLUICE_KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 200 },
  });
}

export interface TestTopic {
  name: string;
  admin: Admin;
  producer: Producer;
  delete(): Promise<void>;
}

export async function createTopic(
  kafka: Kafka,
  name: string,
  partitions: number,
  configEntries: ITopicConfig['configEntries'] = [],
): Promise<TestTopic> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1, configEntries }],
    waitForLeaders: true,
  });
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  return {
    name,
    admin,
    producer,
    async delete() {
      await producer.disconnect().catch(() => {});
      await admin.deleteTopics({ topics: [name] }).catch(() => {});
      await admin.disconnect().catch(() => {});
    },
  };
}

/** High watermarks by partition (kafkajs `high`). */
export async function highWatermarks(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
}
