/**
 * Every error the API answers has one JSON shape: `{ statusCode, code, error, message }`, plus
 * `problems` when a request failed validation (one entry per field). The status comes from
 * the code (http-status.ts); errors Sluice did not expect become a 500 whose message hides
 * their text (it may name internals) and points to the log.
 */
import { STATUS_CODES } from 'node:http';
import { ErrorCodes, errorText, type Problem, SluiceError, ValidationError, zkCode } from '@sluice/shared';
import { httpStatusOf } from './http-status.ts';

export interface ErrorAnswer {
  statusCode: number;
  /** `SLUICE_ERR_…`; Fastify's own `FST_ERR_…` for framework refusals such as 415 and 413. */
  code: string;
  /** The HTTP reason phrase. */
  error: string;
  /** What was wrong and how to fix it. */
  message: string;
  problems?: Problem[];
}

function answer(statusCode: number, code: string, message: string, problems?: Problem[]): ErrorAnswer {
  return {
    statusCode,
    code,
    error: STATUS_CODES[statusCode] ?? 'Error',
    message,
    ...(problems ? { problems } : {}),
  };
}

/** The answer to a thrown value, and whether it is the server's fault (to log it as an error). */
export function errorAnswer(err: unknown): ErrorAnswer {
  if (err instanceof ValidationError) {
    return answer(httpStatusOf(err.code), err.code, err.message, err.problems);
  }
  if (err instanceof SluiceError) {
    // S3 refusing the master's own credentials or permissions (the shared S3 adapter puts the
    // bucket in `details`) is a dependency's failure, not the caller's: 502, never 401/403,
    // which would tell the operator that their API token is wrong.
    const fromS3 = err.details?.bucket !== undefined;
    if (fromS3 && (err.code === ErrorCodes.UNAUTHORIZED || err.code === ErrorCodes.FORBIDDEN)) {
      return answer(502, err.code, err.message);
    }
    return answer(httpStatusOf(err.code), err.code, err.message);
  }
  if (zkCode(err) !== undefined) {
    return answer(503, ErrorCodes.ZK, `ZooKeeper call failed (${errorText(err)}); try again`);
  }
  const fastify = err as { statusCode?: unknown; code?: unknown; message?: unknown } | null;
  const status = typeof fastify?.statusCode === 'number' ? fastify.statusCode : 500;
  if (status >= 400 && status < 500) {
    // Refusals by Fastify itself: unparsable JSON, wrong media type, body too large.
    const message = String(fastify?.message ?? 'bad request');
    if (status === 400) return answer(400, ErrorCodes.VALIDATION, `body: ${message}`);
    return answer(status, typeof fastify?.code === 'string' ? fastify.code : 'FST_ERR', message);
  }
  return answer(500, ErrorCodes.INTERNAL, 'internal error; the master log has the details');
}
