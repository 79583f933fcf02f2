/**
 * The catalog of Sluice's coded errors.
 *
 * Every error Sluice raises on purpose is a {@link SluiceError}: it carries a stable `code`
 * (`SLUICE_ERR_…`), whether retrying the same operation can succeed (`retryable`), and a
 * message that says what was wrong and how to fix it. Edges translate codes to HTTP status
 * (master API) or to "do not retry" (BullMQ `UnrecoverableError`), nowhere else.
 */

export const ErrorCodes = {
  /** A setting (environment variable) is missing or invalid. */
  CONFIG: 'SLUICE_ERR_CONFIG',
  /** A request or topic config failed validation. */
  VALIDATION: 'SLUICE_ERR_VALIDATION',
  /**
   * A topics file (`sluice apply -f`, SLUICE_TOPICS_FILE) is not valid YAML or JSON or not of
   * the documented shape; the message names the file, line and column.
   */
  TOPICS_FILE: 'SLUICE_ERR_TOPICS_FILE',
  /** The topic does not exist in Kafka. */
  TOPIC_NOT_IN_KAFKA: 'SLUICE_ERR_TOPIC_NOT_IN_KAFKA',
  /** The topic is not registered with Sluice. */
  TOPIC_NOT_REGISTERED: 'SLUICE_ERR_TOPIC_NOT_REGISTERED',
  /** The topic is already registered. */
  TOPIC_EXISTS: 'SLUICE_ERR_TOPIC_EXISTS',
  /** The topic's state does not allow the change (for example it is being deleted). */
  TOPIC_STATE: 'SLUICE_ERR_TOPIC_STATE',
  /** Kafka's topic id changed: the topic was deleted and re-created under the same name. */
  TOPIC_RECREATED: 'SLUICE_ERR_TOPIC_RECREATED',
  /** The range is unknown (already committed and pruned, or never planned). */
  RANGE_NOT_FOUND: 'SLUICE_ERR_RANGE_NOT_FOUND',
  /** No replay has this id. */
  REPLAY_NOT_FOUND: 'SLUICE_ERR_REPLAY_NOT_FOUND',
  /** No topic pattern has this name. */
  PATTERN_NOT_FOUND: 'SLUICE_ERR_PATTERN_NOT_FOUND',
  /** A topic pattern of this name already exists. */
  PATTERN_EXISTS: 'SLUICE_ERR_PATTERN_EXISTS',
  /** A result or write from an attempt that is no longer the range's current attempt. */
  STALE_ATTEMPT: 'SLUICE_ERR_STALE_ATTEMPT',
  /** A range's state does not allow the requested transition. */
  RANGE_STATE: 'SLUICE_ERR_RANGE_STATE',
  /**
   * A write would break an exactly-once invariant (ranges that do not tile their line, a
   * committed offset moving backward): a bug or a hand-edited ZooKeeper node. Never retryable.
   */
  INVARIANT: 'SLUICE_ERR_INVARIANT',
  /** This process is not (or no longer) the leader; its write was fenced. */
  NOT_LEADER: 'SLUICE_ERR_NOT_LEADER',
  /** The ZooKeeper session was lost; the process fenced itself. */
  ZK_SESSION_LOST: 'SLUICE_ERR_ZK_SESSION_LOST',
  /** A ZooKeeper call failed or timed out. */
  ZK: 'SLUICE_ERR_ZK',
  /** A Kafka call failed. */
  KAFKA: 'SLUICE_ERR_KAFKA',
  /**
   * Kafka refused who Sluice says it is: SASL rejected the user or password, or the broker
   * closed every connection before answering (a listener asking for SASL or a client certificate).
   */
  KAFKA_AUTH: 'SLUICE_ERR_KAFKA_AUTH',
  /**
   * TLS to Kafka cannot work as set: the broker's certificate is not trusted or names another
   * host, or one side speaks TLS and the other does not.
   */
  KAFKA_TLS: 'SLUICE_ERR_KAFKA_TLS',
  /** An S3 call failed. */
  S3: 'SLUICE_ERR_S3',
  /**
   * A topic's destination cannot be used with the master's S3 credentials: the bucket does not
   * exist, or the credentials may not read, write or delete there (the registration probe).
   */
  DESTINATION_UNUSABLE: 'SLUICE_ERR_DESTINATION_UNUSABLE',
  /**
   * A destination folder overlaps the folder of another topic or running replay (same bucket,
   * one folder equal to or inside the other): each writer's folder must be its own.
   */
  DESTINATION_OVERLAP: 'SLUICE_ERR_DESTINATION_OVERLAP',
  /** A cap on concurrent work (a setting) is reached: wait, or raise the setting. */
  LIMIT_REACHED: 'SLUICE_ERR_LIMIT_REACHED',
  /**
   * A topic's event-time field does not read as dates in its declared unit in a sample of the
   * topic (registration, dry run, change of `partitionBy`).
   */
  EVENT_TIME_UNUSABLE: 'SLUICE_ERR_EVENT_TIME_UNUSABLE',
  /**
   * `schema: { source: "infer" }` found nothing to propose in a sample of the topic: no records,
   * values that are not JSON objects, or no field whose type could be decided.
   */
  SCHEMA_INFER_UNUSABLE: 'SLUICE_ERR_SCHEMA_INFER_UNUSABLE',
  /**
   * A registration's `startFrom` cannot be resolved against Kafka as it is now: an offset
   * outside the partition's log, a partition the topic lacks, a consumer group with no
   * committed offsets for the topic.
   */
  START_FROM_UNUSABLE: 'SLUICE_ERR_START_FROM_UNUSABLE',
  /**
   * `startFrom.consumerGroup` names a group that still has members: the old consumer must be
   * stopped first, or it keeps committing past where Sluice starts (records copied twice).
   */
  CONSUMER_GROUP_ACTIVE: 'SLUICE_ERR_CONSUMER_GROUP_ACTIVE',
  /** Another live attempt wrote the same object first (conditional write refused). */
  S3_WRITE_CONFLICT: 'SLUICE_ERR_S3_WRITE_CONFLICT',
  /** Missing or wrong credentials. */
  UNAUTHORIZED: 'SLUICE_ERR_UNAUTHORIZED',
  /** Credentials valid but not allowed. */
  FORBIDDEN: 'SLUICE_ERR_FORBIDDEN',
  /** Too many changes or costly reads from one client; try again after `Retry-After`. */
  RATE_LIMITED: 'SLUICE_ERR_RATE_LIMITED',
  /** The same costly work (an audit of this topic) is already running; try again after `Retry-After`. */
  BUSY: 'SLUICE_ERR_BUSY',
  /** The request's `Host` is not in SLUICE_ALLOWED_HOSTS (a DNS-rebinding guard). */
  HOST_NOT_ALLOWED: 'SLUICE_ERR_HOST_NOT_ALLOWED',
  /** A dependency is not reachable right now. */
  UNAVAILABLE: 'SLUICE_ERR_UNAVAILABLE',
  /** The job payload has a version or shape this program does not understand. */
  BAD_JOB: 'SLUICE_ERR_BAD_JOB',
  /** A ZooKeeper node or the tree's layout was written by a newer Sluice release than this program. */
  NEWER_LAYOUT: 'SLUICE_ERR_NEWER_LAYOUT',
  /** An error Sluice did not expect (a bug); the log has the details. */
  INTERNAL: 'SLUICE_ERR_INTERNAL',
  /** Shutting down. */
  SHUTTING_DOWN: 'SLUICE_ERR_SHUTTING_DOWN',
  /** The Schema Registry could not be reached or answered an error (retryable: the range waits). */
  SCHEMA_REGISTRY: 'SLUICE_ERR_SCHEMA_REGISTRY',
  /** A record cannot be written in the topic's schema format (not in the wire format, unknown schema id). */
  SCHEMA_REJECTED: 'SLUICE_ERR_SCHEMA_REJECTED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface SluiceErrorOptions {
  retryable?: boolean;
  cause?: unknown;
  /** Extra facts for logs and API answers; never secrets. */
  details?: Record<string, unknown>;
}

export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: SluiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SluiceError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }
}

/** One problem among several found at once (configuration, request validation). */
export interface Problem {
  /** The setting or field, e.g. `SLUICE_REDIS_URL` or `destination.bucket`. */
  path: string;
  message: string;
}

export class ValidationError extends SluiceError {
  readonly problems: Problem[];
  constructor(problems: Problem[], code: ErrorCode = ErrorCodes.VALIDATION) {
    super(code, problems.map((p) => `${p.path}: ${p.message}`).join('; '), { retryable: false });
    this.name = 'ValidationError';
    this.problems = problems;
  }
}

export function isSluiceError(err: unknown, code?: ErrorCode): err is SluiceError {
  return err instanceof SluiceError && (code === undefined || err.code === code);
}

/** A short, secret-free text for an unknown thrown value (range results, status page). */
export function errorText(err: unknown): string {
  if (err instanceof SluiceError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const name = err.name && err.name !== 'Error' ? err.name : '';
    const prefix = [name, typeof code === 'string' ? code : ''].filter(Boolean).join(' ');
    return (prefix ? `${prefix}: ` : '') + err.message;
  }
  return String(err);
}
