/**
 * Probes and metrics: `/healthz` (the process serves), `/readyz` (this master can do its job;
 * 503 with the reasons when not) and `/metrics` (Prometheus text). Probes and scrapes log at
 * `warn` only, so they do not flood the request log.
 */
import { STATUS_CODES } from 'node:http';
import { ErrorCodes } from '@sluice/shared';
import type { RoutePlugin } from './api-deps.ts';
import { errorBody, errorSchema } from './common-schemas.ts';

export const healthRoutes: RoutePlugin = async (app, { deps }) => {
  app.get(
    '/healthz',
    {
      logLevel: 'warn',
      schema: {
        tags: ['health'],
        summary: 'Liveness: 200 while the process serves',
        response: {
          200: {
            type: 'object',
            properties: { status: { type: 'string', const: 'ok' } },
            required: ['status'],
          },
        },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      logLevel: 'warn',
      schema: {
        tags: ['health'],
        summary: 'Readiness: 200 when this master can serve, 503 with the reasons when not',
        response: {
          200: {
            type: 'object',
            properties: { ready: { type: 'boolean' }, reasons: { type: 'array', items: { type: 'string' } } },
            required: ['ready', 'reasons'],
          },
          503: {
            ...errorBody,
            description: errorSchema.description,
            properties: {
              ...errorBody.properties,
              ready: { type: 'boolean' },
              reasons: { type: 'array', items: { type: 'string' } },
            },
            required: [...errorBody.required, 'ready', 'reasons'],
          },
        },
      },
    },
    async (_req, reply) => {
      const { ok, reasons } = deps.ready();
      if (ok) return { ready: true, reasons: [] };
      return reply.code(503).send({
        statusCode: 503,
        code: ErrorCodes.UNAVAILABLE,
        error: STATUS_CODES[503] ?? 'Service Unavailable',
        message: `not ready: ${reasons.join('; ') || 'no reason given'}`,
        ready: false,
        reasons,
      });
    },
  );

  app.get(
    '/metrics',
    {
      logLevel: 'warn',
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics',
        response: {
          200: {
            description: 'Prometheus text exposition format.',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (_req, reply) => {
      const text = await deps.metrics.metrics();
      return reply.type(deps.metrics.contentType).send(text);
    },
  );
};
