/**
 * JSON schemas of the replay resource: the request body of `POST /api/v1/replays` and the view
 * every replay route answers with. The schemas validate the request and drive the response
 * serializer (a field missing here is not sent); the types the handlers use come from them.
 */
import { offsetText, ref } from './common-schemas.ts';
import { topicPatchBodySchema } from './topic-schemas.ts';
import type { Answer, Request } from './type-provider.ts';

const policy = topicPatchBodySchema.properties;

/** A policy field's schema without its default (a replay's defaults are its topic's settings). */
function noDefault<T extends object>(schema: T, description?: string): Omit<T, 'default'> {
  const { default: _, ...rest } = schema as T & { default?: unknown };
  return description ? { ...rest, description } : rest;
}
const timeValue = {
  type: 'string',
  minLength: 1,
  maxLength: 64,
  description: 'ISO-8601 time (e.g. `2026-11-25T08:00:00Z`) or epoch milliseconds as a decimal string.',
} as const;

export const replayBodySchema = {
  type: 'object',
  description:
    'A window of a registered topic to export again. Output settings not given are the topic’s. The window is offsets (`fromOffset`, `toOffset`) or Kafka timestamps (`fromTimestamp`, `toTimestamp`), of one `partition` or all; a bound not given is what Kafka has (log start, last stable offset).',
  properties: {
    topic: { type: 'string', description: 'A topic registered with Sluice.' },
    destination: {
      ...policy.destination,
      description: 'Where the replay writes: outside every registered topic’s `{prefix}/{topic}/`.',
    },
    format: noDefault(policy.format, 'Default: the topic’s.'),
    compression: noDefault(policy.compression, 'Default: the topic’s.'),
    partitionBy: noDefault(policy.partitionBy, 'Default: the topic’s.'),
    serverSideEncryption: noDefault(policy.serverSideEncryption),
    kmsKeyId: noDefault(policy.kmsKeyId),
    storageClass: noDefault(policy.storageClass),
    maxRangeMessages: noDefault(policy.maxRangeMessages, 'Default: the topic’s.'),
    maxRangeBytes: noDefault(policy.maxRangeBytes, 'Default: the topic’s.'),
    partition: { type: 'integer', minimum: 0, description: 'Only this partition (default: all).' },
    fromOffset: { ...offsetText, description: 'First offset (inclusive).' },
    toOffset: { ...offsetText, description: 'End offset (exclusive).' },
    fromTimestamp: { ...timeValue, description: `Start time (inclusive). ${timeValue.description}` },
    toTimestamp: { ...timeValue, description: `End time (exclusive). ${timeValue.description}` },
  },
  required: ['topic', 'destination'],
  additionalProperties: false,
} as const;

export const replayViewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    topic: { type: 'string' },
    topicId: { type: 'string' },
    state: { type: 'string', enum: ['running', 'done', 'cancelled'] },
    error: { type: ['string', 'null'] },
    output: {
      type: 'object',
      properties: {
        destination: ref('Destination'),
        format: { type: 'string' },
        compression: { type: 'string' },
        partitionBy: ref('PartitionBy'),
        serverSideEncryption: { type: 'string' },
        kmsKeyId: { type: 'string' },
        storageClass: { type: 'string' },
        keyTemplate: {
          type: 'string',
          description: 'The topic’s key template; absent for the default layout.',
        },
      },
      required: ['destination'],
    },
    maxRangeMessages: { type: 'integer' },
    maxRangeBytes: { type: 'integer' },
    window: {
      type: 'object',
      properties: {
        partition: { type: ['integer', 'null'] },
        fromOffset: { type: ['string', 'null'] },
        toOffset: { type: ['string', 'null'] },
        fromTimestamp: { type: ['integer', 'null'] },
        toTimestamp: { type: ['integer', 'null'] },
      },
    },
    partitions: {
      type: 'array',
      description: 'The window resolved to fixed offsets when the replay was made: [start, end).',
      items: {
        type: 'object',
        properties: { partition: { type: 'integer' }, start: { type: 'string' }, end: { type: 'string' } },
        required: ['partition', 'start', 'end'],
      },
    },
    notes: { type: 'array', items: { type: 'string' } },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
    finishedAt: { type: ['string', 'null'] },
    progress: {
      type: 'object',
      properties: {
        offsets: { type: 'string', description: 'Offsets in the window.' },
        committedOffsets: { type: 'string', description: 'Offsets of the window in S3.' },
        remaining: { type: 'string' },
        records: { type: 'integer' },
        bytes: { type: 'integer' },
        rangesInFlight: { type: 'integer' },
        failedRanges: { type: 'integer' },
      },
    },
    partitionsProgress: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          partition: { type: 'integer' },
          start: { type: 'string' },
          end: { type: 'string' },
          committedOffset: { type: 'string' },
          remaining: { type: 'string' },
          committedRecords: { type: 'integer' },
          committedBytes: { type: 'integer' },
          gapOffsets: { type: 'string' },
          ranges: ref('RangeCounts'),
        },
      },
    },
  },
  required: ['id', 'topic', 'state', 'output', 'partitions', 'progress', 'partitionsProgress', 'createdAt'],
} as const;

export const replayListSchema = {
  type: 'object',
  properties: { replays: { type: 'array', items: replayViewSchema } },
  required: ['replays'],
} as const;

export const replayIdParamsSchema = {
  type: 'object',
  properties: { id: { type: 'string', description: 'Replay id, `r-…`.' } },
  required: ['id'],
  additionalProperties: false,
} as const;

/** The body `POST /api/v1/replays` accepts. */
export type ReplayBody = Request<typeof replayBodySchema>;

/** A replay as every replay route answers it, and the list of them. */
export type ReplayAnswer = Answer<typeof replayViewSchema>;
export type ReplayListAnswer = Answer<typeof replayListSchema>;
