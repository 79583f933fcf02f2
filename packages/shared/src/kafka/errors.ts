/**
 * Kafka layer, errors: the protocol codes Sluice acts on, which of them heal once metadata is
 * fresh, the backoff between tries, and the one way a failed Kafka call leaves this layer (a
 * retryable SluiceError naming the brokers and the setting to check). Kept apart so that the
 * admin, the range reader and the samplers retry and report alike.
 */

import { ErrorCodes, SluiceError } from '../errors.ts';
import { findErrorBy, protocolErrorsCodesById } from './library.ts';
import type { KafkaSettings } from './options.ts';

/** Kafka protocol error codes Sluice acts on (the full list: `protocolErrorsCodesById`). */
export const KafkaErrorCodes = {
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  REPLICA_NOT_AVAILABLE: 9,
  NETWORK_EXCEPTION: 13,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  ILLEGAL_GENERATION: 22,
  UNKNOWN_MEMBER_ID: 25,
  REBALANCE_IN_PROGRESS: 27,
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  KAFKA_STORAGE_ERROR: 56,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  OFFSET_NOT_AVAILABLE: 78,
  UNKNOWN_TOPIC_ID: 100,
  INCONSISTENT_TOPIC_ID: 103,
  STALE_MEMBER_EPOCH: 113,
} as const;

/**
 * Codes after which the same request can succeed once metadata is fresh: leadership moved or
 * is moving, a broker restarted, a replica is catching up.
 */
export const KAFKA_LEADERSHIP_CODES: ReadonlySet<number> = new Set([
  KafkaErrorCodes.LEADER_NOT_AVAILABLE,
  KafkaErrorCodes.NOT_LEADER_OR_FOLLOWER,
  KafkaErrorCodes.REQUEST_TIMED_OUT,
  KafkaErrorCodes.REPLICA_NOT_AVAILABLE,
  KafkaErrorCodes.NETWORK_EXCEPTION,
  KafkaErrorCodes.KAFKA_STORAGE_ERROR,
  KafkaErrorCodes.FENCED_LEADER_EPOCH,
  KafkaErrorCodes.UNKNOWN_LEADER_EPOCH,
  KafkaErrorCodes.OFFSET_NOT_AVAILABLE,
]);

/** `6` → `NOT_LEADER_OR_FOLLOWER`. */
export function kafkaErrorName(code: number): string {
  return protocolErrorsCodesById[code] ?? `error code ${code}`;
}

function findBy(err: unknown, property: string, value: unknown): boolean {
  return err instanceof Error && findErrorBy(err, property, value) !== null;
}

function fixFor(err: unknown): string {
  if (findBy(err, 'code', 'PLT_KFK_AUTHENTICATION') || /sasl|authentic/i.test(String(err))) {
    return 'check SLUICE_KAFKA_SASL_MECHANISM, SLUICE_KAFKA_SASL_USERNAME and SLUICE_KAFKA_SASL_PASSWORD';
  }
  if (/tls|ssl|certificate/i.test(String(err))) {
    return 'check SLUICE_KAFKA_SSL (true only when the listener speaks TLS), SLUICE_KAFKA_SSL_CA_FILE (the CA of the brokers) and, where the listener asks for one, the client certificate (SLUICE_KAFKA_SSL_CERT_FILE, SLUICE_KAFKA_SSL_KEY_FILE)';
  }
  return 'check SLUICE_KAFKA_BROKERS (and SLUICE_KAFKA_SSL / SLUICE_KAFKA_SASL_* if the listener needs them) and that Kafka is running';
}

function causeText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return `${err.message} (${err.errors.map((e) => causeText(e)).join('; ')})`;
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * The one way a failed Kafka call leaves this layer: a retryable SluiceError naming the
 * brokers, what was being done, what Kafka said and what to check.
 */
export function kafkaError(
  err: unknown,
  cfg: Pick<KafkaSettings, 'kafkaBrokers'>,
  action: string,
): SluiceError {
  if (err instanceof SluiceError) return err;
  return new SluiceError(
    ErrorCodes.KAFKA,
    `Kafka at ${cfg.kafkaBrokers.join(',')} failed to ${action}: ${causeText(err)}; ${fixFor(err)}`,
    { retryable: true, cause: err },
  );
}

/** Backoff for attempt n (0-based): 100 ms doubling to 3.2 s, with jitter. */
export function kafkaBackoffMs(attempt: number): number {
  const base = Math.min(100 * 2 ** attempt, 3_200);
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/** False for what no retry fixes: bad credentials, a closed client, an API Kafka lacks. */
export function healsByWaiting(err: unknown): boolean {
  return !(
    findBy(err, 'code', 'PLT_KFK_AUTHENTICATION') ||
    findBy(err, 'code', 'PLT_KFK_UNSUPPORTED_API') ||
    findBy(err, 'closed', true)
  );
}
