/**
 * JSON schemas shared by the resources. They are plain objects, inlined where used, so the
 * OpenAPI document at `/docs/json` shows each route completely.
 *
 * Offsets are decimal STRINGS everywhere in the API: Kafka offsets are 64-bit and JSON numbers
 * lose precision above 2^53. Lags are JSON numbers (a count, exact while below 2^53).
 */

export const offsetSchema = {
  type: 'string',
  pattern: '^\\d+$',
  description: 'A Kafka offset as a decimal string (offsets are 64-bit; strings keep them exact).',
} as const;

export const nullableOffsetSchema = {
  type: ['string', 'null'],
  pattern: '^\\d+$',
  description: 'A Kafka offset as a decimal string, or null when Kafka could not be asked.',
} as const;

export const lagSchema = {
  type: ['number', 'null'],
  description:
    'highWatermark − committedOffset as a JSON number (offsets not yet in S3); null when either is unknown.',
} as const;

export const problemSchema = {
  type: 'object',
  properties: {
    path: { type: 'string', description: 'The field, e.g. `destination.bucket`.' },
    message: { type: 'string', description: 'What is wrong with it and what it must be.' },
  },
  required: ['path', 'message'],
} as const;

export const errorSchema = {
  type: 'object',
  description: 'Every error answer of the API.',
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string', description: '`SLUICE_ERR_…` (Fastify `FST_ERR_…` for 413 and 415).' },
    error: { type: 'string', description: 'HTTP reason phrase.' },
    message: { type: 'string', description: 'What was wrong and how to fix it.' },
    problems: { type: 'array', items: problemSchema, description: 'One entry per invalid field.' },
  },
  required: ['statusCode', 'code', 'error', 'message'],
} as const;

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is invalid; `problems` lists every invalid field.',
  401: 'Missing or wrong bearer token.',
  403: 'No token is configured on the master (SLUICE_API_TOKEN).',
  404: 'Not found.',
  409: 'Conflicts with the current state.',
  500: 'Internal error.',
  503: 'A dependency (ZooKeeper, Kafka) is not reachable; try again.',
};

/** Response schemas for the given error statuses (each the {@link errorSchema}). */
export function errorResponses(...statuses: number[]): Record<number, unknown> {
  const out: Record<number, unknown> = {};
  for (const s of [...statuses, 500, 503]) {
    out[s] = { ...errorSchema, description: ERROR_DESCRIPTIONS[s] ?? 'Error.' };
  }
  return out;
}

/** Mark a route as one that needs the bearer token (shown in the OpenAPI document). */
export const bearerSecurity = [{ bearerAuth: [] }];

export const topicParamsSchema = {
  type: 'object',
  properties: {
    topic: {
      type: 'string',
      description: 'Kafka topic name: 1 to 249 of letters, digits, ".", "_" and "-".',
    },
  },
  required: ['topic'],
  additionalProperties: false,
} as const;
