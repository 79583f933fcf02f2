/**
 * The local stack for the worker's tests (`npm run stack:up`): its settings (read by
 * `@sluice/test-kit`), and isolated resources that clean themselves
 * up: a bucket per test, a ZooKeeper chroot per test. A missing stack fails the test.
 */
import type { TestContext } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createS3Client, loadWorkerConfig, type WorkerConfig, ZkSession } from '@sluice/shared';
import { loadStackEnv, type StackEnv, uniqueName } from '@sluice/test-kit';

/** The stack's settings; also puts the S3 credentials into process.env for the SDK. */
export function stackEnv(): StackEnv {
  const env = loadStackEnv();
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) {
    if (env[k] && !process.env[k]) process.env[k] = env[k];
  }
  return env;
}

/** A worker config on the stack, isolated by a fresh ZooKeeper chroot and queue prefix. */
export function testWorkerConfig(overrides: Record<string, string> = {}): Readonly<WorkerConfig> {
  const env = stackEnv();
  const name = uniqueName('w');
  const zkHosts = env.SLUICE_ZOOKEEPER!.split('/')[0];
  return loadWorkerConfig({
    ...env,
    SLUICE_ZOOKEEPER: `${zkHosts}/t-${name}`,
    SLUICE_QUEUE_PREFIX: `t-${name}`,
    SLUICE_WORKER_ID: name,
    SLUICE_HTTP_HOST: '127.0.0.1',
    SLUICE_HTTP_PORT: '0',
    SLUICE_LOG_LEVEL: 'silent',
    SLUICE_ZK_SESSION_TIMEOUT_MS: '6000',
    ...overrides,
  });
}

export function testS3(): S3Client {
  return createS3Client(testWorkerConfig());
}

/** A fresh bucket, emptied and removed when the test ends. */
export async function tempBucket(t: TestContext, s3: S3Client): Promise<string> {
  const bucket = uniqueName('wt').toLowerCase();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  t.after(async () => {
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      for (const o of page.Contents ?? [])
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key! }));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
  });
  return bucket;
}

/** A ZooKeeper session in a fresh chroot, removed when the test ends. */
export async function tempZk(t: TestContext, cfg = testWorkerConfig()): Promise<ZkSession> {
  const zk = await ZkSession.open({ connect: cfg.zookeeper, sessionTimeoutMs: cfg.zkSessionTimeoutMs });
  t.after(async () => {
    if (zk.alive) {
      await zk.removeRecursive('/sluice');
      await zk.close();
    }
    const chroot = cfg.zookeeper.slice(cfg.zookeeper.indexOf('/'));
    const root = await ZkSession.open({
      connect: cfg.zookeeper.split('/')[0]!,
      sessionTimeoutMs: cfg.zkSessionTimeoutMs,
    });
    await root.removeRecursive(chroot);
    await root.close();
  });
  return zk;
}
