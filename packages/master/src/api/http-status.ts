/**
 * The one place where Sluice's error codes become HTTP statuses. The table is typed as a
 * `Record` over every code, so adding a code to the catalog without deciding its status here
 * does not compile.
 */
import { type ErrorCode, ErrorCodes } from '@sluice/shared';

const STATUS: Record<ErrorCode, number> = {
  [ErrorCodes.CONFIG]: 500,
  [ErrorCodes.VALIDATION]: 400,
  [ErrorCodes.TOPICS_FILE]: 400,
  [ErrorCodes.TOPIC_NOT_IN_KAFKA]: 404,
  [ErrorCodes.TOPIC_NOT_REGISTERED]: 404,
  [ErrorCodes.TOPIC_EXISTS]: 409,
  [ErrorCodes.TOPIC_STATE]: 409,
  [ErrorCodes.TOPIC_RECREATED]: 409,
  [ErrorCodes.RANGE_NOT_FOUND]: 404,
  [ErrorCodes.REPLAY_NOT_FOUND]: 404,
  [ErrorCodes.PATTERN_NOT_FOUND]: 404,
  [ErrorCodes.PATTERN_EXISTS]: 409,
  [ErrorCodes.STALE_ATTEMPT]: 409,
  [ErrorCodes.RANGE_STATE]: 409,
  // A broken invariant is Sluice's fault, never the caller's.
  [ErrorCodes.INVARIANT]: 500,
  // Dependencies that are down or a leadership change in progress: try again shortly.
  [ErrorCodes.NOT_LEADER]: 503,
  [ErrorCodes.ZK_SESSION_LOST]: 503,
  [ErrorCodes.ZK]: 503,
  [ErrorCodes.KAFKA]: 503,
  // Raised at start only; were one to reach the API, Kafka is unusable until an operator acts.
  [ErrorCodes.KAFKA_AUTH]: 503,
  [ErrorCodes.KAFKA_TLS]: 503,
  [ErrorCodes.S3]: 503,
  [ErrorCodes.S3_WRITE_CONFLICT]: 409,
  // The request is well formed but names a bucket Sluice cannot write to: the caller fixes it.
  [ErrorCodes.DESTINATION_UNUSABLE]: 422,
  // Another topic or replay writes there: a conflict with the state of the installation.
  [ErrorCodes.DESTINATION_OVERLAP]: 409,
  [ErrorCodes.LIMIT_REACHED]: 429,
  [ErrorCodes.EVENT_TIME_UNUSABLE]: 422,
  [ErrorCodes.SCHEMA_INFER_UNUSABLE]: 422,
  // Well formed, but Kafka's offsets or the group's do not allow it now: the caller fixes it.
  [ErrorCodes.START_FROM_UNUSABLE]: 422,
  // The old consumer still runs: a conflict with the state of the cluster, solved by stopping it.
  [ErrorCodes.CONSUMER_GROUP_ACTIVE]: 409,
  [ErrorCodes.UNAUTHORIZED]: 401,
  [ErrorCodes.FORBIDDEN]: 403,
  [ErrorCodes.RATE_LIMITED]: 429,
  [ErrorCodes.BUSY]: 429,
  // Misdirected Request: this server does not answer for that name (RFC 9110, 15.5.20).
  [ErrorCodes.HOST_NOT_ALLOWED]: 421,
  [ErrorCodes.UNAVAILABLE]: 503,
  [ErrorCodes.BAD_JOB]: 500,
  [ErrorCodes.NEWER_LAYOUT]: 500,
  [ErrorCodes.INTERNAL]: 500,
  [ErrorCodes.SHUTTING_DOWN]: 503,
  // Worker-side (a range's error); the API answers them only when it reports a range.
  [ErrorCodes.SCHEMA_REGISTRY]: 502,
  [ErrorCodes.SCHEMA_REJECTED]: 422,
};

/** HTTP status of a Sluice error code (500 for a code this table does not know). */
export function httpStatusOf(code: ErrorCode): number {
  return STATUS[code] ?? 500;
}

/** Every code with its status, for the API documentation and its test. */
export function httpStatusTable(): ReadonlyArray<readonly [ErrorCode, number]> {
  return Object.entries(STATUS) as Array<[ErrorCode, number]>;
}
