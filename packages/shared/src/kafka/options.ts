/**
 * Kafka layer, bottom: the client options every Kafka client of Sluice is made from, so that
 * the master, the worker and the tools connect (TLS, SASL, timeouts) the same way.
 *
 * Built on @platformatic/kafka's base client, not its Admin or Consumer helpers (admin.ts
 * says why); the library's own retries are off because every caller above retries with its
 * own backoff and knows which errors are worth it (errors.ts).
 */
import { Base, type BaseOptions } from '@platformatic/kafka';
import type { CommonConfig } from '../config.ts';

/** The settings every Kafka client of Sluice is made from. */
export type KafkaSettings = Pick<CommonConfig, 'kafkaBrokers' | 'kafkaClientId' | 'kafkaSsl' | 'kafkaSasl'>;

/** A bare client: a connection pool that negotiates API versions and authenticates. */
export type KafkaClient = Base;

const SASL_MECHANISMS = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
} as const;

/** Options for a @platformatic/kafka client from Sluice's settings, with the library's retries off. */
export function kafkaClientOptions(cfg: KafkaSettings): BaseOptions {
  return {
    clientId: cfg.kafkaClientId,
    bootstrapBrokers: [...cfg.kafkaBrokers],
    connectTimeout: 10_000,
    requestTimeout: 30_000,
    retries: 0,
    ...(cfg.kafkaSsl ? { tls: {}, tlsServerName: true } : {}),
    ...(cfg.kafkaSasl
      ? {
          sasl: {
            mechanism: SASL_MECHANISMS[cfg.kafkaSasl.mechanism],
            username: cfg.kafkaSasl.username,
            password: cfg.kafkaSasl.password,
          },
        }
      : {}),
  };
}

/** A bare client: a connection pool that negotiates API versions and authenticates. */
export function createKafkaClient(cfg: KafkaSettings): KafkaClient {
  return new Base(kafkaClientOptions(cfg));
}
