/**
 * Whose fault a failed range attempt is (issue 15, point 3). A worker whose S3 credentials are
 * wrong, or that cannot reach S3 or Kafka, fails every job it takes at once and so grabs every
 * requeued range while a good worker beside it waits; counting those failures against the
 * range also grew the range's backoff to minutes. One rule, used by the worker (which says in
 * the failure which kind it was, and stops taking jobs until its probe passes) and tested alone:
 *
 *  - `worker`: the cause lies with this worker's own setup: S3 refused its credentials
 *    (SLUICE_ERR_UNAUTHORIZED) or denied it access (SLUICE_ERR_FORBIDDEN), Kafka refused its
 *    credentials, or S3 or Kafka could not be reached from it at all (refused connection, an
 *    unknown or unreachable host). Another worker may well succeed.
 *  - `range`: anything else, including a bucket that does not exist (that is the topic's
 *    destination, the same for every worker: it stays a range failure with its message), a
 *    reset connection or an S3 500 (passing trouble: the range's own retries handle it).
 */
import { ErrorCodes, errorText, SluiceError } from './errors.ts';

/** Which side must change for an attempt to succeed. */
export type AttemptFault =
  | { kind: 'range' }
  | {
      kind: 'worker';
      /** What of the worker's own failed, for `/readyz`, the status and the range's error. */
      reason: string;
      /** The service to probe before taking jobs again. */
      service: 's3' | 'kafka';
    };

/** Socket errors that mean "this host cannot reach that endpoint", not "that request failed". */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Every error in the chain: `cause` links and the members of an AggregateError. */
function* chain(err: unknown, depth = 0): Generator<unknown> {
  if (err === null || err === undefined || depth > 8) return;
  yield err;
  if (err instanceof AggregateError) for (const e of err.errors) yield* chain(e, depth + 1);
  if (err instanceof Error) yield* chain(err.cause, depth + 1);
}

function unreachableCode(err: unknown): string | null {
  for (const e of chain(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNREACHABLE.has(code)) return code;
  }
  return null;
}

function kafkaAuthFailed(err: unknown): boolean {
  for (const e of chain(err)) {
    if ((e as { code?: unknown }).code === 'PLT_KFK_AUTHENTICATION') return true;
  }
  return false;
}

/** Whose fault `err`, which failed a range attempt, is; see the file comment. */
export function classifyAttemptFailure(err: unknown): AttemptFault {
  if (!(err instanceof SluiceError)) return { kind: 'range' };
  if (err.code === ErrorCodes.UNAUTHORIZED || err.code === ErrorCodes.FORBIDDEN) {
    return { kind: 'worker', service: 's3', reason: errorText(err) };
  }
  if (err.code === ErrorCodes.S3) {
    const code = unreachableCode(err.cause);
    if (code)
      return {
        kind: 'worker',
        service: 's3',
        reason: `S3 is unreachable from this worker (${code}): ${err.message}`,
      };
    return { kind: 'range' };
  }
  if (err.code === ErrorCodes.KAFKA) {
    if (kafkaAuthFailed(err.cause)) return { kind: 'worker', service: 'kafka', reason: errorText(err) };
    const code = unreachableCode(err.cause);
    if (code) {
      return {
        kind: 'worker',
        service: 'kafka',
        reason: `Kafka is unreachable from this worker (${code}): ${err.message}`,
      };
    }
  }
  return { kind: 'range' };
}
