/** `GET /api/v1/workers`: the workers alive now and how many ranges each is working on. */
import { readTopicsPartitions } from '../stores/partition-reader.ts';
import { listTopics } from '../stores/topic-store.ts';
import { readWorkers, workerViews } from '../stores/worker-registrations.ts';
import type { RoutePlugin } from './api-deps.ts';
import { errorResponses } from './common-schemas.ts';
import type { Answer } from './type-provider.ts';

export const workerViewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    host: { type: 'string' },
    pid: { type: 'integer' },
    version: { type: 'string' },
    concurrency: { type: 'integer' },
    httpAddress: { type: ['string', 'null'] },
    startedAt: { type: 'string', format: 'date-time' },
    activeRanges: { type: 'integer', description: 'Ranges whose current attempt is active on this worker.' },
    ready: {
      type: 'boolean',
      description:
        'False while its own attempts failed (credentials, unreachable endpoint) and its probe has not passed.',
    },
    notReadyReason: { type: ['string', 'null'], description: 'Why it is not ready; null when ready.' },
  },
  required: [
    'id',
    'host',
    'pid',
    'version',
    'concurrency',
    'httpAddress',
    'startedAt',
    'activeRanges',
    'ready',
    'notReadyReason',
  ],
} as const;

export const workerListSchema = {
  type: 'object',
  properties: { workers: { type: 'array', items: workerViewSchema } },
  required: ['workers'],
} as const;

/** The answer of `GET /api/v1/workers`. */
export type WorkerListAnswer = Answer<typeof workerListSchema>;

export const workersRoutes: RoutePlugin = async (app, { deps }) => {
  app.get(
    '/',
    {
      prefixTrailingSlash: 'no-slash',
      schema: {
        tags: ['workers'],
        summary: 'Live workers with their registration and active range count',
        response: {
          200: workerListSchema,
          ...errorResponses(401, 403),
        },
      },
    },
    async () => {
      const zk = deps.zk();
      const [workers, topics] = await Promise.all([readWorkers(zk), listTopics(zk)]);
      const flights = await readTopicsPartitions(
        zk,
        topics.map((t) => t.record.topic),
        { withRanges: true },
      );
      const ranges = [...flights.values()].flat().flatMap((f) => f.ranges);
      return { workers: workerViews(workers, ranges) };
    },
  );
};
