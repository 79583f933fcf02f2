/**
 * Setup and teardown around the API fuzz run (run.sh): `up` creates a Kafka topic with a few
 * records and a bucket and registers it, so the fuzzer meets a real topic among its random ones; `down`
 * deletes that topic and bucket, the ZooKeeper chroot and the queue's Redis keys.
 *
 *   node --conditions=source test/fuzz/seed.ts up <master-url> <token> <topic>
 *   node --conditions=source test/fuzz/seed.ts down <topic> <chroot> <queue-prefix>
 */

import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import { ZkSession } from '@sluice/shared';
import { loadStackEnv } from '@sluice/test-kit';
import { Redis } from 'ioredis';
import { createTopic, kafkaClient } from '../helpers/kafka.ts';
import { s3Client } from '../helpers/s3.ts';

const [cmd, ...args] = process.argv.slice(2);
const kafka = kafkaClient('sluice-fuzz');

if (cmd === 'up') {
  const [url, token, topic] = args as [string, string, string];
  await s3Client().send(new CreateBucketCommand({ Bucket: topic.toLowerCase() }));
  const t = await createTopic(kafka, topic, 2);
  await t.producer.send({
    topic,
    messages: Array.from({ length: 20 }, (_, i) => ({ partition: i % 2, value: JSON.stringify({ i }) })),
  });
  await t.producer.disconnect();
  await t.admin.disconnect();
  const res = await fetch(`${url}/api/v1/topics`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ topic, destination: { bucket: topic.toLowerCase() }, flushIntervalMs: 60_000 }),
  });
  if (res.status !== 201) throw new Error(`registering ${topic}: HTTP ${res.status} ${await res.text()}`);
} else if (cmd === 'down') {
  const [topic, chroot, prefix] = args as [string, string, string];
  const env = loadStackEnv();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await s3Client()
    .send(new DeleteBucketCommand({ Bucket: topic.toLowerCase() }))
    .catch(() => undefined);
  await admin.disconnect();
  const zk = await ZkSession.open({ connect: env.SLUICE_ZOOKEEPER.split('/')[0]!, sessionTimeoutMs: 10_000 });
  await zk.removeRecursive(chroot);
  await zk.close();
  const redis = new Redis(env.SLUICE_REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
} else {
  throw new Error('usage: seed.ts up <url> <token> <topic> | down <topic> <chroot> <queue-prefix>');
}
