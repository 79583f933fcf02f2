/**
 * The master's REST API: the composition root of its Fastify plugins, one per resource.
 *
 *   server     server-options.ts       request/headers/idle/keep-alive timeouts, connection caps
 *   onRequest  host-allow-list.ts      SLUICE_ALLOWED_HOSTS (421 for another Host)
 *              rate-limit.ts           changes and audits per client per minute (429)
 *              bearer-auth.ts          changes, audits (and, with SLUICE_PROTECT_READS, reads) need a token
 *   onResponse request-log.ts          one line per request; refusals at debug; query values redacted
 *   /docs      api-docs.ts             OpenAPI from the route schemas, Swagger UI
 *   /healthz /readyz /metrics          health-routes.ts
 *   /api/v1/topics                     topics-routes.ts
 *   /api/v1/topics/{topic}/audit       audit-routes.ts
 *   /api/v1/patterns                   patterns-routes.ts (topic patterns; the leader's discovery registers their topics)
 *   /api/v1/replays                    replays-routes.ts
 *   /api/v1/ranges                     ranges-routes.ts
 *   /api/v1/workers                    workers-routes.ts
 *   /api/v1/recover                    recover-routes.ts (registrations rebuilt from S3)
 *   /api/v1/status                     status-routes.ts (answers made by status-service.ts)
 *   /dashboard                         dashboard/: the operator's page over /api/v1/status
 *
 * Bodies are validated without type coercion and without dropping unknown fields (an unknown
 * field is an error, a string is not a number); every problem is reported at once, in words
 * (validation-problems.ts), in the one error shape of error-answer.ts.
 */
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { StatusService } from '../status/status-service.ts';
import type { ApiDeps } from './api-deps.ts';
import { registerApiDocs } from './api-docs.ts';
import { AuditGate } from './audit-gate.ts';
import { type AuditAnswer, auditRoutes } from './audit-routes.ts';
import { bearerAuth } from './bearer-auth.ts';
import { sharedSchemas } from './common-schemas.ts';
import { dashboardRoutes } from './dashboard/dashboard-routes.ts';
import { errorAnswer } from './error-answer.ts';
import { healthRoutes } from './health-routes.ts';
import { hostAllowList } from './host-allow-list.ts';
import { BODY_LIMIT_BYTES, documentBodyLimit, parseJsonBody, tooLargeMessage } from './json-body.ts';
import { lazyCompilers } from './lazy-compilers.ts';
import { methodNotAllowed } from './method-not-allowed.ts';
import { patternsRoutes } from './patterns-routes.ts';
import { rangesRoutes } from './ranges-routes.ts';
import { rateLimit } from './rate-limit.ts';
import { recoverRoutes } from './recover-routes.ts';
import { replaysRoutes } from './replays-routes.ts';
import { logRequest } from './request-log.ts';
import { capConnections, serverOptions } from './server-options.ts';
import { statusRoutes } from './status-routes.ts';
import { topicsFileRoutes } from './topics-file-routes.ts';
import { topicsRoutes } from './topics-routes.ts';
import { schemaErrorFormatter } from './validation-problems.ts';
import { workersRoutes } from './workers-routes.ts';

export type { ApiDeps } from './api-deps.ts';
export { type ErrorAnswer, errorAnswer } from './error-answer.ts';
export { httpStatusOf } from './http-status.ts';

const MAX_PARAM_LENGTH = 512;

/** Per API built: what compiles the route schemas still pending (lazy-compilers.ts). */
const schemaCompilers = new WeakMap<FastifyInstance, () => number>();

/**
 * Fastify names a plugin without a display name by searching every loaded CommonJS module for
 * it (about 40 ms of the start for ours); given one (the function's name, the name it would
 * find), it searches nothing.
 */
function named<P extends (...args: never[]) => unknown>(plugin: P): P {
  return Object.assign(plugin, { [Symbol.for('fastify.display-name')]: plugin.name });
}

/** Compiles every route schema of `app` not compiled yet (tests: a broken schema fails there). */
export function compileRouteSchemas(app: FastifyInstance): number {
  return schemaCompilers.get(app)?.() ?? 0;
}

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const log = deps.log.child(
    { component: 'api' },
    {
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', '*.authorization', '*.token'],
        censor: '[redacted]',
      },
    },
  );
  const compilers = lazyCompilers();
  const app = Fastify({
    ...serverOptions(deps.config),
    // Route schemas compiled at first use rather than all at start (lazy-compilers.ts).
    schemaController: { compilersFactory: compilers.compilersFactory },
    loggerInstance: log,
    // request-log.ts writes one line per request instead (refusals at debug, queries redacted).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    // Topic names may be 249 characters and range ids add a partition and two offsets
    // (Fastify's default of 100 would refuse valid names with 414).
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    ajv: {
      customOptions: {
        // A wrong type is an error, never silently converted; an unknown field is an error,
        // never silently dropped; defaults in the schemas are documentation, applied in code.
        coerceTypes: false,
        removeAdditional: false,
        useDefaults: false,
        // Report every problem of a request at once, with the offending values. Bodies are
        // small (bodyLimit) and the schemas have no costly patterns.
        allErrors: true,
        verbose: true,
        discriminator: true,
      },
    },
    schemaErrorFormatter,
  }) as unknown as FastifyInstance;
  schemaCompilers.set(app, compilers.compileAll);
  capConnections(app.server, deps.config);
  // Fragments the routes refer to by `$ref` (OpenAPI components); before the routes that use them.
  for (const schema of sharedSchemas) app.addSchema(schema);

  // Ours instead of Fastify's: a refused key is named, not called "not valid JSON" (json-body.ts).
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  app.setErrorHandler((err, req, reply) => {
    const answer = errorAnswer(err);
    if (answer.statusCode === 413) answer.message = tooLargeMessage(req.method, req.url);
    if (answer.statusCode >= 500) req.log.error({ err }, 'request failed');
    else req.log.debug({ code: answer.code, statusCode: answer.statusCode }, 'request refused');
    // A client without a valid token gets nothing more from this connection.
    if (answer.statusCode === 401) reply.header('connection', 'close');
    const retryAfter = (err as { details?: { retryAfterSeconds?: unknown } }).details?.retryAfterSeconds;
    if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
    return reply.code(answer.statusCode).send(answer);
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({
      statusCode: 404,
      code: 'FST_ERR_NOT_FOUND',
      error: 'Not Found',
      message: `no route ${req.method} ${req.url.split('?')[0]}; the API is under /api/v1 and documented at /docs`,
    });
  });
  app.addHook('onResponse', logRequest);
  app.addHook('onRequest', hostAllowList(deps.config));
  app.addHook('onRequest', rateLimit(deps.config));
  app.addHook('onRequest', bearerAuth(deps.config));
  // After the token check: a change without a valid token is 401 whatever its method.
  methodNotAllowed(app);

  documentBodyLimit(app);
  await registerApiDocs(app);
  await app.register(named(healthRoutes), { deps });
  await app.register(named(topicsRoutes), { prefix: '/api/v1/topics', deps });
  await app.register(named(topicsFileRoutes), { prefix: '/api/v1/topics-file', deps });
  const audits = new AuditGate<AuditAnswer>(deps.config.http.auditCacheMs);
  await app.register(named(auditRoutes), { prefix: '/api/v1/topics', deps, audits });
  await app.register(named(patternsRoutes), { prefix: '/api/v1/patterns', deps });
  await app.register(named(replaysRoutes), { prefix: '/api/v1/replays', deps });
  await app.register(named(rangesRoutes), { prefix: '/api/v1/ranges', deps });
  await app.register(named(workersRoutes), { prefix: '/api/v1/workers', deps });
  await app.register(named(recoverRoutes), { prefix: '/api/v1/recover', deps });
  const status = new StatusService(deps);
  status.start();
  app.addHook('onClose', () => status.close());
  // A change made here shows in the next status read, not a second later.
  app.addHook('onResponse', async (req) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      status.invalidate();
      audits.clear();
    }
  });
  await app.register(named(statusRoutes), { prefix: '/api/v1/status', deps, status });
  await app.register(named(dashboardRoutes));
  return app;
}
