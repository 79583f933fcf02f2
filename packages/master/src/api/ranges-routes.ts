/**
 * `POST /api/v1/ranges/{id}/retry`: an operator asks for a new attempt of a range in flight.
 * Any master records the request as `/sluice/retries/{id}`, naming the attempt it retries; the
 * leader requeues the range (reason `operator`) while it is still at that attempt and removes
 * the request (docs/range-lifecycle.md). Asking again while a request is pending, or while a
 * new attempt waits in the queue, changes nothing and says so: a burst of requests makes one
 * new attempt and leaves one job in the queue, not one per request.
 */
import {
  decodeJson,
  ErrorCodes,
  encodeJson,
  isNodeExists,
  isNoNode,
  type OffsetRange,
  operatorRetry,
  parseRangeId,
  type RangeRecord,
  RETRIES_PATH,
  type RetryRequest,
  rangeId,
  rangePath,
  SluiceError,
  topicNameProblem,
  ValidationError,
  type ZkSession,
} from '@sluice/shared';
import type { RoutePlugin } from './api-deps.ts';
import { bearerSecurity, errorResponses } from './common-schemas.ts';

/** The range an id names, or a 400 that says what a range id looks like. */
export function rangeOfId(id: string): OffsetRange {
  let range: OffsetRange;
  try {
    range = parseRangeId(id);
  } catch (err) {
    throw new ValidationError([{ path: 'params.id', message: (err as Error).message }]);
  }
  const problem = topicNameProblem(range.topic);
  if (problem) throw new ValidationError([{ path: 'params.id', message: `topic part ${problem}` }]);
  return range;
}

/** Records the request; false when one is pending already (the leader has not acted on it). */
async function requestRetry(zk: ZkSession, id: string, attempt: number, at: Date): Promise<boolean> {
  const path = `${RETRIES_PATH}/${id}`;
  const request: RetryRequest = { v: 1, rangeId: id, requestedAt: at.toISOString(), attempt };
  const data = encodeJson(request);
  for (let i = 0; ; i++) {
    try {
      await zk.create(path, data);
      return true;
    } catch (err) {
      if (isNodeExists(err)) return false;
      if (isNoNode(err) && i === 0) {
        await zk.mkdirp(RETRIES_PATH);
        continue;
      }
      throw err;
    }
  }
}

const retryAnswer = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    state: { type: 'string', description: 'The range state when the request was made.' },
    attempt: {
      type: 'integer',
      description: 'The current attempt: the one a recorded request supersedes, or the one already queued.',
    },
    result: {
      type: 'string',
      enum: ['requested', 'already-requested', 'already-queued'],
      description:
        '`requested`: recorded, the leader requeues the range shortly. `already-requested`: a request for this attempt is pending; nothing changed. `already-queued`: a new attempt waits in the queue and no worker started it yet; nothing changed.',
    },
  },
  required: ['id', 'state', 'attempt', 'result'],
} as const;

export const rangesRoutes: RoutePlugin = async (app, { deps }) => {
  app.post(
    '/:id/retry',
    {
      schema: {
        tags: ['ranges'],
        summary: 'Ask the leader for a new attempt of a range in flight',
        description:
          'Records a request naming the current attempt; the leader requeues the range while it is still at that attempt, and removes the superseded job from the queue unless a worker holds it. A request while one is pending, or while a requeued attempt waits in the queue, is a no-op (200 with `result`). A done range is 409.',
        security: bearerSecurity,
        params: {
          type: 'object',
          properties: {
            id: {
              type: 'string',
              description:
                'Range id `{topic}-{partition}-{start}-{end}`, as listed by GET /api/v1/topics/{topic}.',
            },
          },
          required: ['id'],
          additionalProperties: false,
        },
        response: {
          200: {
            ...retryAnswer,
            description: 'Nothing changed: a retry is pending or queued already (`result`).',
          },
          202: {
            ...retryAnswer,
            description: 'The request is recorded; the leader requeues the range shortly.',
          },
          ...errorResponses(400, 401, 403, 404, 409),
        },
      },
    },
    async (req, reply) => {
      const range = rangeOfId(req.params.id);
      const id = rangeId(range);
      const zk = deps.zk();
      const node = await zk.get(rangePath(range));
      if (!node) {
        throw new SluiceError(
          ErrorCodes.RANGE_NOT_FOUND,
          `range ${id} is not in flight: it was committed and pruned, or never planned; GET /api/v1/topics/${range.topic} lists the ranges in flight`,
        );
      }
      const record = decodeJson<RangeRecord>(node.data, `range node ${id}`);
      const decision = operatorRetry(record);
      if (decision === 'done') {
        throw new SluiceError(
          ErrorCodes.RANGE_STATE,
          `range ${id} is done; the leader commits it shortly and there is nothing to retry`,
        );
      }
      const answer = { id, state: record.state, attempt: record.attempt };
      const log = { topic: range.topic, partition: range.partition, range: id, attempt: record.attempt };
      if (decision === 'already-queued') {
        req.log.debug(log, 'range retry not needed: an attempt is queued');
        return reply.code(200).send({ ...answer, result: 'already-queued' });
      }
      if (!(await requestRetry(zk, id, record.attempt, new Date()))) {
        req.log.debug(log, 'range retry already requested');
        return reply.code(200).send({ ...answer, result: 'already-requested' });
      }
      req.log.info(log, 'range retry requested');
      return reply.code(202).send({ ...answer, result: 'requested' });
    },
  );
};
