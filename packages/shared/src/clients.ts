/**
 * Client factories for S3 and Redis, configured from the validated settings.
 * Kafka lives in kafka/ (its own layer); ZooKeeper in zk-session.ts.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import type { CommonConfig } from './config.ts';

/**
 * An S3 client. Checksums are only sent where the API requires them: @aws-sdk/client-s3
 * newer than 3.729 adds them to every request by default, which many S3-compatible servers
 * reject. Retries use the SDK's standard mode (exponential backoff with jitter).
 */
export function createS3Client(cfg: Pick<CommonConfig, 's3'>): S3Client {
  return new S3Client({
    region: cfg.s3.region,
    ...(cfg.s3.endpoint ? { endpoint: cfg.s3.endpoint } : {}),
    forcePathStyle: cfg.s3.forcePathStyle,
    maxAttempts: cfg.s3.maxAttempts,
    retryMode: 'standard',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * A Redis connection as BullMQ wants it: `maxRetriesPerRequest: null` so that blocking
 * commands wait through a Redis restart instead of failing the worker.
 */
export function createRedis(
  cfg: Pick<CommonConfig, 'redisUrl'>,
  purpose: 'queue' | 'worker' = 'queue',
): Redis {
  return new Redis(cfg.redisUrl, {
    maxRetriesPerRequest: purpose === 'worker' ? null : 20,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(200 * times, 2_000),
    lazyConnect: false,
  });
}

/** `redis://:secret@host:6379/0` → `redis://***@host:6379/0`, for logs and status. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
