/**
 * `POST /api/v1/ranges/{id}/retry`: an operator asks for a new attempt of a range in flight.
 * Any master records the request as `/sluice/retries/{id}`; the leader requeues the range
 * (reason `operator`) and removes the request (docs/range-lifecycle.md).
 */
import {
  decodeJson,
  ErrorCodes,
  encodeJson,
  isNodeExists,
  isNoNode,
  type OffsetRange,
  parseRangeId,
  type RangeRecord,
  RETRIES_PATH,
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

async function requestRetry(zk: ZkSession, id: string, at: Date): Promise<void> {
  const path = `${RETRIES_PATH}/${id}`;
  const data = encodeJson({ v: 1, rangeId: id, requestedAt: at.toISOString() });
  for (let i = 0; ; i++) {
    try {
      await zk.create(path, data);
      return;
    } catch (err) {
      if (isNodeExists(err)) return; // already requested; the leader has not acted on it yet
      if (isNoNode(err) && i === 0) {
        await zk.mkdirp(RETRIES_PATH);
        continue;
      }
      throw err;
    }
  }
}

export const rangesRoutes: RoutePlugin = async (app, { deps }) => {
  app.post(
    '/:id/retry',
    {
      schema: {
        tags: ['ranges'],
        summary: 'Ask the leader for a new attempt of a range in flight',
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
          202: {
            type: 'object',
            description: 'The request is recorded; the leader requeues the range shortly.',
            properties: {
              id: { type: 'string' },
              state: { type: 'string', description: 'The range state when the request was recorded.' },
              attempt: { type: 'integer', description: 'The attempt the retry will supersede.' },
            },
            required: ['id', 'state', 'attempt'],
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
      if (record.state === 'done') {
        throw new SluiceError(
          ErrorCodes.RANGE_STATE,
          `range ${id} is done; the leader commits it shortly and there is nothing to retry`,
        );
      }
      await requestRetry(zk, id, new Date());
      req.log.info({ topic: range.topic, partition: range.partition, range: id }, 'range retry requested');
      return reply.code(202).send({ id, state: record.state, attempt: record.attempt });
    },
  );
};
