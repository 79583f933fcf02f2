/**
 * JSON schemas of the topic-pattern resource (`/api/v1/patterns`). A pattern's `settings` are
 * exactly what POST /api/v1/topics takes except `topic`, by construction: the topic
 * registration's properties are reused, so a field another change adds to topics is a
 * pattern setting too.
 */
import { MAX_PATTERN_EXCLUDES, MAX_PATTERN_LENGTH } from '@sluice/shared';
import { topicCreateBodySchema } from './topic-schemas.ts';
import type { Answer, Request } from './type-provider.ts';

const { topic: _topic, ...settingsProperties } = topicCreateBodySchema.properties;

const regex = {
  type: 'string',
  minLength: 1,
  maxLength: MAX_PATTERN_LENGTH,
} as const;

const settings = {
  type: 'object',
  description:
    'What each topic the pattern takes is registered with: the body of POST /api/v1/topics without `topic` (same fields, defaults and checks). `startFrom` may not be the `offsets` form (offsets belong to one topic).',
  properties: settingsProperties,
  required: ['destination'],
  additionalProperties: false,
} as const;

const exclude = {
  type: 'array',
  maxItems: MAX_PATTERN_EXCLUDES,
  items: regex,
  default: [],
  description:
    'Regular expressions (whole-name, like `pattern`) of topics the pattern must not take even though `pattern` matches them.',
} as const;

const deletedTopics = {
  type: 'array',
  items: { type: 'string' },
  description:
    'Topics the pattern registered that an operator then unregistered (DELETE /api/v1/topics/{topic}): the pattern does not register them again. PATCH with a shorter list lets it take one again.',
} as const;

export const patternCreateBodySchema = {
  type: 'object',
  description: 'A topic pattern: every Kafka topic it takes, now and later, is registered with `settings`.',
  properties: {
    name: {
      type: 'string',
      description: 'The pattern’s name: 1 to 128 of letters, digits, ".", "_" and "-".',
    },
    pattern: {
      ...regex,
      description:
        'A JavaScript regular expression that must match the WHOLE topic name (compiled as `^(?:pattern)$`), e.g. `orders\\.(eu|us)\\..*`. Nested quantifiers such as `(a+)+` are refused. Internal topics (names starting with `_`, such as `__consumer_offsets` and `_schemas`, and Kafka Connect’s `connect-configs`, `connect-offsets`, `connect-status`) are taken only when the pattern writes their full name.',
    },
    exclude,
    settings,
  },
  required: ['name', 'pattern', 'settings'],
  additionalProperties: false,
} as const;

export const patternPatchBodySchema = {
  type: 'object',
  description:
    'Changes to a pattern. New `settings` apply to topics it registers afterwards; topics already registered keep theirs (change them with PATCH /api/v1/topics/{topic}).',
  properties: { exclude, deletedTopics, settings },
  minProperties: 1,
  additionalProperties: false,
} as const;

const discovery = {
  type: ['object', 'null'],
  description:
    'The leader’s last discovery pass for this pattern; null on a standby master or before the first pass.',
  properties: {
    at: { type: 'string', format: 'date-time' },
    registered: {
      type: 'array',
      items: { type: 'string' },
      description: 'Topics this pass registered.',
    },
    refused: {
      type: 'array',
      description: 'Topics the pattern takes whose registration failed this pass (tried again next pass).',
      items: {
        type: 'object',
        properties: { topic: { type: 'string' }, error: { type: 'string' } },
        required: ['topic', 'error'],
      },
    },
    contested: {
      type: 'array',
      description: 'Topics this pattern would take that a pattern registered earlier took.',
      items: {
        type: 'object',
        properties: { topic: { type: 'string' }, takenBy: { type: 'string' } },
        required: ['topic', 'takenBy'],
      },
    },
  },
  required: ['at', 'registered', 'refused', 'contested'],
} as const;

export const patternRecordSchema = {
  type: 'object',
  description: 'A stored topic pattern.',
  properties: {
    name: { type: 'string' },
    pattern: { type: 'string' },
    exclude: { type: 'array', items: { type: 'string' } },
    deletedTopics,
    settings: { ...settings, additionalProperties: true },
    createdAt: {
      type: 'string',
      format: 'date-time',
      description: 'A topic two patterns take belongs to the one created first.',
    },
    updatedAt: { type: 'string', format: 'date-time' },
  },
  required: ['name', 'pattern', 'exclude', 'deletedTopics', 'settings', 'createdAt', 'updatedAt'],
} as const;

export const patternViewSchema = {
  ...patternRecordSchema,
  description: 'A topic pattern, the registered topics it brought in, and its last discovery pass.',
  properties: {
    ...patternRecordSchema.properties,
    topics: {
      type: 'array',
      items: { type: 'string' },
      description: 'Registered topics whose `pattern` is this one.',
    },
    discovery,
  },
  required: [...patternRecordSchema.required, 'topics', 'discovery'],
} as const;

export const patternListSchema = {
  type: 'object',
  properties: { patterns: { type: 'array', items: patternViewSchema } },
  required: ['patterns'],
} as const;

export const patternParamsSchema = {
  type: 'object',
  properties: { name: { type: 'string', maxLength: 128 } },
  required: ['name'],
} as const;

export type PatternCreateBody = Request<typeof patternCreateBodySchema>;
export type PatternPatchBody = Request<typeof patternPatchBodySchema>;
export type PatternViewAnswer = Answer<typeof patternViewSchema>;
export type PatternListAnswer = Answer<typeof patternListSchema>;
