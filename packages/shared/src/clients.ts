/**
 * The Redis client factory, configured from the validated settings.
 * S3 lives in s3/s3-client.ts; Kafka in kafka/ (its own layer); ZooKeeper in zk-session.ts.
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { CommonConfig } from './config.ts';

/**
 * A Redis connection as BullMQ wants it: `maxRetriesPerRequest: null` so that blocking
 * commands wait through a Redis restart instead of failing the worker. A `rediss://` URL is
 * TLS (ioredis's own rule); SLUICE_REDIS_TLS_CA_FILE adds the CAs to trust, and BullMQ's
 * duplicated connections keep them. The CA file is optional here so callers made for a
 * plain `redis://` (tests, tools) need not name it.
 */
export function createRedis(
  cfg: Pick<CommonConfig, 'redisUrl'> & Partial<Pick<CommonConfig, 'redisTlsCaFile'>>,
  purpose: 'queue' | 'worker' = 'queue',
): Redis {
  const tls =
    cfg.redisTlsCaFile && cfg.redisUrl.startsWith('rediss://')
      ? { tls: { ca: readFileSync(cfg.redisTlsCaFile) } }
      : {};
  return new Redis(cfg.redisUrl, {
    ...tls,
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
