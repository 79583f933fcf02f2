/**
 * The OpenAPI document, generated from the route schemas (`GET /docs/json`, `/docs/yaml`), and
 * Swagger UI at `/docs`. Registered before the routes so that @fastify/swagger sees each of
 * them; it builds the document at its first request. Swagger UI (with @fastify/static, send
 * and mime) cost every master's start about 0.07 CPU s while most masters never show it
 * (issue 14): its pages are served by a Fastify app of their own, built at the first request
 * under `/docs`, whose answers this app passes on. That request goes through this app's hooks
 * (allowed hosts, rate limit, token) like any other.
 */
import swagger from '@fastify/swagger';
import { SLUICE_VERSION } from '@sluice/shared';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

const DOCS_PREFIX = '/docs';

/** Headers of the UI app's answer that belong to its own connection, not to this one. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'date', 'content-length']);
/** Request headers the UI's static files answer to (caching, ranges, compression). */
const PASSED_HEADERS = ['accept', 'accept-encoding', 'if-none-match', 'if-modified-since', 'range'];

export async function registerApiDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Sluice master API',
        version: SLUICE_VERSION,
        description:
          'Register Kafka topics for exactly-once delivery to S3 and watch their progress. Offsets are decimal strings; lags are numbers. Every method but GET and HEAD needs `Authorization: Bearer <token>` (SLUICE_API_TOKEN). Errors are `{ statusCode, code, error, message }`, with `problems` for invalid requests.',
      },
      tags: [
        { name: 'topics', description: 'Registered topics and their progress' },
        { name: 'ranges', description: 'Ranges in flight' },
        { name: 'workers', description: 'Live workers' },
        { name: 'status', description: 'Overview' },
        { name: 'recover', description: 'Registrations rebuilt from S3 after ZooKeeper lost its data' },
        { name: 'health', description: 'Probes and metrics' },
      ],
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
      },
    },
    // Shared schemas (common-schemas.ts) are components named by their `$id`, not `def-N`.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  });
  const hide = { schema: { hide: true } };
  // The documents themselves, answered here: what the UI loads and what tools fetch.
  app.get(`${DOCS_PREFIX}/json`, hide, () => app.swagger());
  app.get(`${DOCS_PREFIX}/yaml`, hide, (_req, reply) =>
    reply.type('application/x-yaml').send(app.swagger({ yaml: true })),
  );
  let ui: Promise<FastifyInstance> | undefined;
  const passOn = async (req: FastifyRequest, reply: FastifyReply) => {
    if (ui === undefined) {
      ui = swaggerUiApp();
      // A failed build is tried again at the next request, not kept.
      ui.catch(() => {
        ui = undefined;
      });
    }
    const headers: Record<string, string> = {};
    for (const name of PASSED_HEADERS) {
      const v = req.headers[name];
      if (typeof v === 'string') headers[name] = v;
    }
    const res = await (await ui).inject({
      method: req.method === 'HEAD' ? 'HEAD' : 'GET',
      url: req.url,
      headers,
    });
    // This API's own 404 (its error shape, pointing at /docs), not the UI app's.
    if (res.statusCode === 404) return reply.callNotFound();
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined && !HOP_HEADERS.has(name)) reply.header(name, value);
    }
    return reply.code(res.statusCode).send(res.rawPayload);
  };
  app.get(DOCS_PREFIX, hide, passOn);
  app.get(`${DOCS_PREFIX}/*`, hide, passOn);
  app.addHook('onClose', async () => {
    await (await ui?.catch(() => undefined))?.close();
  });
}

/**
 * Swagger UI's pages and assets in an app of their own. Its `/docs/json` is never asked (this
 * app answers that path itself); @fastify/swagger is there because the UI plugin requires it.
 */
async function swaggerUiApp(): Promise<FastifyInstance> {
  const { default: swaggerUi } = await import('@fastify/swagger-ui');
  const ui = Fastify() as unknown as FastifyInstance;
  await ui.register(swagger, { openapi: {} });
  await ui.register(swaggerUi, { routePrefix: DOCS_PREFIX });
  await ui.ready();
  return ui;
}
