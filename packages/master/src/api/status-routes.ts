/**
 * `GET /api/v1/status`: one overview for operators, the dashboard and the CLI: who leads, how
 * far each partition is behind Kafka in records and in time, where it is stuck, throughput,
 * what is in flight, which workers live, what failed lately, what retention took. The answer
 * is made by status-service.ts and described by status-schema.ts.
 */
import type { StatusService } from '../status/status-service.ts';
import type { RoutePlugin } from './api-deps.ts';
import { errorResponses } from './common-schemas.ts';
import { statusSchema } from './status-schema.ts';

export const statusRoutes: RoutePlugin<{ status: StatusService }> = async (app, { status }) => {
  app.get(
    '/',
    {
      prefixTrailingSlash: 'no-slash',
      schema: {
        tags: ['status'],
        summary: 'Leader, per-partition lag in records and time, throughput, workers, failures, gaps',
        description:
          'Answers are shared for about a second between callers; a change made through this master shows at once.',
        response: { 200: statusSchema, ...errorResponses(401, 403) },
      },
    },
    async () => status.get(),
  );
};
