/**
 * JSON schemas shared by the resources. The ones with an `$id` are registered once with
 * `addSchema` (index.ts) and referenced as `{ $ref: 'Offset#' }`: the OpenAPI document at
 * `/docs/json` shows them once, as components, and the types of type-provider.ts resolve them.
 * A field that adds its own description to a fragment spreads the fragment's body instead
 * (a sibling of `$ref` is ignored by OpenAPI 3.0).
 *
 * Offsets are decimal STRINGS everywhere in the API: Kafka offsets are 64-bit and JSON numbers
 * lose precision above 2^53. Lags are JSON numbers (a count, exact while below 2^53).
 */

import { MAX_OFFSET, OFFSET_PATTERN, offsetProblem, type Problem } from '@sluice/shared';

/** `{ $ref }` to a schema registered below, typed so that the type provider follows it. */
export function ref<const Id extends string>(id: Id): { readonly $ref: `${Id}#` } {
  return { $ref: `${id}#` };
}

/** The body of an offset in answers; {@link offsetSchema} is the referenced component. */
export const offsetBody = { type: 'string', pattern: '^\\d+$' } as const;

/**
 * An offset as a request gives it (at most 20 digits, padded or not). The pattern cannot say
 * "at most 2^63 - 1" readably: the routes check that with {@link requestOffsetProblems}, and
 * validation-problems.ts words a pattern failure with the same range.
 */
export const offsetText = {
  type: 'string',
  pattern: OFFSET_PATTERN,
  description: `A Kafka offset as a decimal string, 0 to ${MAX_OFFSET}.`,
} as const;

/**
 * Problems of a request's offset fields (`prefix` + field name as the path): each must be a
 * decimal integer from 0 to 2^63 - 1, the signed 64-bit range of Kafka offsets.
 */
export function requestOffsetProblems(fields: Record<string, string | undefined>, prefix = ''): Problem[] {
  const out: Problem[] = [];
  for (const [field, text] of Object.entries(fields)) {
    const problem = text === undefined ? null : offsetProblem(text);
    if (problem) out.push({ path: `${prefix}${field}`, message: problem });
  }
  return out;
}

export const offsetSchema = {
  $id: 'Offset',
  ...offsetBody,
  description: 'A Kafka offset as a decimal string (offsets are 64-bit; strings keep them exact).',
} as const;

export const nullableOffsetBody = { type: ['string', 'null'], pattern: '^\\d+$' } as const;

export const nullableOffsetSchema = {
  $id: 'NullableOffset',
  ...nullableOffsetBody,
  description: 'A Kafka offset as a decimal string, or null when Kafka could not be asked.',
} as const;

export const lagBody = { type: ['number', 'null'] } as const;

export const lagSchema = {
  $id: 'Lag',
  ...lagBody,
  description:
    'highWatermark − committedOffset as a JSON number (offsets not yet in S3); null when either is unknown.',
} as const;

export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  properties: {
    path: { type: 'string', description: 'The field, e.g. `destination.bucket`.' },
    message: { type: 'string', description: 'What is wrong with it and what it must be.' },
  },
  required: ['path', 'message'],
} as const;

/** The error answer's fields, for an answer that adds its own (health-routes.ts, /readyz). */
export const errorBody = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string', description: '`SLUICE_ERR_…` (Fastify `FST_ERR_…` for 413 and 415).' },
    error: { type: 'string', description: 'HTTP reason phrase.' },
    message: { type: 'string', description: 'What was wrong and how to fix it.' },
    problems: { type: 'array', items: ref('Problem'), description: 'One entry per invalid field.' },
  },
  required: ['statusCode', 'code', 'error', 'message'],
} as const;

export const errorSchema = {
  $id: 'Error',
  description: 'Every error answer of the API.',
  ...errorBody,
} as const;

export const rangeCountsSchema = {
  $id: 'RangeCounts',
  type: 'object',
  description: 'Ranges in flight (planned, not yet committed and pruned) by state.',
  properties: {
    planned: { type: 'integer' },
    active: { type: 'integer' },
    done: { type: 'integer', description: 'Done, waiting for the ranges before them to commit.' },
    failed: { type: 'integer' },
  },
  required: ['planned', 'active', 'done', 'failed'],
} as const;

/** Where a topic's or a replay's objects go, as the answers show it. */
export const destinationSchema = {
  $id: 'Destination',
  type: 'object',
  properties: { bucket: { type: 'string' }, prefix: { type: 'string' } },
  required: ['bucket', 'prefix'],
} as const;

/** How a topic's or a replay's objects are split by time, as the answers show it. */
export const partitionByViewSchema = {
  $id: 'PartitionBy',
  type: 'object',
  properties: {
    kind: { type: 'string' },
    granularity: { type: 'string' },
    field: { type: 'string' },
    unit: {
      type: 'string',
      description:
        'event-time: how the field is read (s, ms, us, ns, iso8601); absent: epoch ms or ISO-8601 text.',
    },
  },
  required: ['kind'],
} as const;

/** Registered with `addSchema` before the routes; in the order they refer to each other. */
export const sharedSchemas = [
  offsetSchema,
  nullableOffsetSchema,
  lagSchema,
  problemSchema,
  errorSchema,
  rangeCountsSchema,
  destinationSchema,
  partitionByViewSchema,
] as const;

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is invalid; `problems` lists every invalid field.',
  401: 'Missing or wrong bearer token.',
  403: 'No token is configured on the master (SLUICE_API_TOKEN).',
  404: 'Not found.',
  409: 'Conflicts with the current state.',
  413: 'The body is larger than the API accepts; the message says the limit in bytes.',
  421: 'The request’s Host is not in SLUICE_ALLOWED_HOSTS (a guard against DNS rebinding).',
  422: 'The destination cannot be used (the bucket does not exist, or the master’s S3 credentials may not write or delete there), or a sample of the topic does not read as dates in `partitionBy.unit`.',
  429: 'Too many requests: changes or audits from this client beyond SLUICE_RATE_LIMIT_PER_MINUTE, an audit of this topic already running, or a limit on work running at once (the message names it); try again after the `Retry-After` seconds, or raise the limit.',
  500: 'Internal error.',
  503: 'A dependency (ZooKeeper, Kafka, S3) is not reachable; try again.',
};

/**
 * Response schemas for the given error statuses, each the {@link errorSchema} with what the
 * status means (the description becomes the OpenAPI response's).
 */
export function errorResponses(...statuses: number[]): Record<number, unknown> {
  const out: Record<number, unknown> = {};
  // Any route may meet the Host allow-list and (changes and audits) the rate limit.
  for (const s of [...statuses, 421, 429, 500, 503]) {
    out[s] = { ...ref('Error'), description: ERROR_DESCRIPTIONS[s] ?? 'Error.' };
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
