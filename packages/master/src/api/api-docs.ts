/**
 * The OpenAPI document, generated from the route schemas (`GET /docs/json`), and Swagger UI at
 * `/docs`. Registered before the routes so that it sees each of them.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { SLUICE_VERSION } from '@sluice/shared';
import type { FastifyInstance } from 'fastify';

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
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
