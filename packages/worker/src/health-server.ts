/**
 * The worker's small HTTP surface: `GET /healthz` (the process is up), `GET /readyz` (it can
 * work: ZooKeeper session alive, Redis ready, BullMQ worker running and not stopped by a failure
 * of its own, own-fault-gate.ts; 503 with the reasons otherwise) and `GET /metrics` (Prometheus
 * text).
 */

import { ErrorCodes, type Logger, SluiceError } from '@sluice/shared';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { WorkerMetrics } from './worker-metrics.ts';

export interface Readiness {
  ready: boolean;
  /** Why not, one line per failing check. */
  reasons: string[];
}

export interface HealthServerOptions {
  metrics: WorkerMetrics;
  readiness: () => Readiness;
  log: Logger;
}

const statusSchema = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    reasons: { type: 'array', items: { type: 'string' } },
  },
  required: ['status'],
} as const;

function noValidator(): never {
  throw new SluiceError(
    ErrorCodes.INTERNAL,
    'the worker health server validates no request: a route given a request schema needs a validator compiler in health-server.ts',
  );
}

export function createHealthServer(opts: HealthServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.log.child({ component: 'http' }) as FastifyBaseLogger,
    // Probes hit these every few seconds; logging each would drown the worker's own lines.
    logController: new LogController({ disableRequestLogging: true }),
    // No route here validates a request: without a validator factory of ours, Fastify would
    // load its Ajv compiler (and Ajv's formats) for nothing, ~0.1 CPU s of the start.
    schemaController: { compilersFactory: { buildValidator: noValidator } },
  });

  app.get('/healthz', { schema: { response: { 200: statusSchema } } }, async () => ({ status: 'ok' }));

  app.get(
    '/readyz',
    { schema: { response: { 200: statusSchema, 503: statusSchema } } },
    async (_req, reply) => {
      const r = opts.readiness();
      if (r.ready) return { status: 'ready', reasons: [] };
      return reply.code(503).send({ status: 'not ready', reasons: r.reasons });
    },
  );

  app.get('/metrics', async (_req, reply) => {
    const text = await opts.metrics.registry.metrics();
    return reply.type(opts.metrics.registry.contentType).send(text);
  });

  return app;
}
