/**
 * The local stack as the benchmark sees it: addresses from `.sluice/stack.env` (the same
 * helper the tests use), and a preflight that fails with what to do when a service is down.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { createKafkaAdmin, ZkSession } from '@sluice/shared';
import { loadStackEnv, type StackEnv } from '@sluice/test-kit';
import { Redis } from 'ioredis';

export const REPO = join(import.meta.dirname, '..', '..');

export interface BenchEnv {
  stack: StackEnv;
  brokers: string[];
  /** ZooKeeper connect string without a chroot. */
  zookeeper: string;
  redisUrl: string;
  kafkaHome: string;
  /** Git-ignored folder for payload files, logs, profiles and counters. */
  scratchDir: string;
}

export function benchEnv(): BenchEnv {
  let stack: StackEnv;
  try {
    stack = loadStackEnv();
  } catch (err) {
    throw new Error(`${(err as Error).message}. The benchmark runs on the local stack: npm run stack:up`);
  }
  const kafkaHome = stack.SLUICE_STACK_KAFKA_HOME ?? '';
  if (!kafkaHome || !existsSync(join(kafkaHome, 'libs'))) {
    throw new Error(
      `Kafka's Java tools are not at SLUICE_STACK_KAFKA_HOME="${kafkaHome}" (libs/ missing); the baseline needs ConsumerPerformance: run npm run stack:up`,
    );
  }
  const scratchDir = join(REPO, '.sluice', 'bench');
  mkdirSync(scratchDir, { recursive: true });
  return {
    stack,
    brokers: stack.SLUICE_KAFKA_BROKERS.split(','),
    zookeeper: stack.SLUICE_ZOOKEEPER.split('/')[0] as string,
    redisUrl: stack.SLUICE_REDIS_URL,
    kafkaHome,
    scratchDir,
  };
}

export function s3Client(env: BenchEnv): S3Client {
  return new S3Client({
    endpoint: env.stack.SLUICE_S3_ENDPOINT,
    region: env.stack.SLUICE_S3_REGION,
    forcePathStyle: true,
    credentials: {
      accessKeyId: env.stack.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.stack.AWS_SECRET_ACCESS_KEY,
    },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

async function within<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Throws one error naming every service that does not answer. */
export async function preflight(env: BenchEnv): Promise<void> {
  const problems: string[] = [];
  const check = async (name: string, fn: () => Promise<unknown>) => {
    try {
      await within(name, 10_000, fn());
    } catch (err) {
      problems.push(`${name}: ${(err as Error).message}`);
    }
  };
  await check(`Kafka at ${env.brokers.join(',')}`, async () => {
    const a = createKafkaAdmin(
      { kafkaBrokers: env.brokers, kafkaClientId: 'sluice-bench', kafkaSsl: false, kafkaSasl: null },
      { attempts: 2 },
    );
    try {
      await a.topicMetadata(['__bench_preflight']);
    } finally {
      await a.close();
    }
  });
  await check(`ZooKeeper at ${env.zookeeper}`, async () => {
    const zk = await ZkSession.open({
      connect: env.zookeeper,
      sessionTimeoutMs: 6_000,
      connectTimeoutMs: 8_000,
    });
    await zk.close();
  });
  await check(`Redis at ${env.redisUrl}`, async () => {
    const r = new Redis(env.redisUrl, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
    });
    try {
      await r.connect();
      await r.ping();
    } finally {
      r.disconnect();
    }
  });
  await check(`S3 at ${env.stack.SLUICE_S3_ENDPOINT}`, async () => {
    const s3 = s3Client(env);
    try {
      await s3.send(new ListBucketsCommand({}));
    } finally {
      s3.destroy();
    }
  });
  if (problems.length > 0) {
    throw new Error(
      `the local stack is not (fully) up; start it with npm run stack:up (npm run stack:status shows each service):\n  - ${problems.join('\n  - ')}`,
    );
  }
}
