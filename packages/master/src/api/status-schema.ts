/**
 * The JSON schema of `GET /api/v1/status` (it becomes the OpenAPI document and drives the
 * response serializer: a field missing here is not sent).
 */

import { integrityTopicProperties, replaysStatusSchema } from '../status/integrity-status.ts';
import { mirrorTopicProperties } from '../status/mirror-status.ts';
import { topicsFileStatusSchema } from '../status/topics-file-status.ts';
import { lagBody, ref } from './common-schemas.ts';
import type { Answer } from './type-provider.ts';

/** Failed ranges shown, newest first. */
export const RECENT_FAILURES = 20;
export const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed'] as const;

/** `{ [key]: { type: 'integer' } }` for each key, typed as the literal it builds. */
function integerFields<const K extends readonly string[]>(keys: K) {
  return Object.fromEntries(keys.map((k) => [k, { type: 'integer' }])) as {
    readonly [P in K[number]]: { readonly type: 'integer' };
  };
}

const rateSchema = {
  type: ['object', 'null'],
  description:
    'Committed records and bytes (stored in S3) per second, from committed totals this master sampled; null until it has two samples a second apart.',
  properties: {
    recordsPerSec: { type: 'number' },
    bytesPerSec: { type: 'number' },
  },
  required: ['recordsPerSec', 'bytesPerSec'],
} as const;

const throughputSchema = {
  type: 'object',
  properties: {
    m1: { ...rateSchema, description: `Over the last minute. ${rateSchema.description}` },
    m15: { ...rateSchema, description: `Over the last 15 minutes. ${rateSchema.description}` },
  },
  required: ['m1', 'm15'],
} as const;

const lagMsSchema = {
  type: ['number', 'null'],
  description:
    'Age in ms of the oldest record not yet in S3 (its Kafka timestamp to now); 0 when nothing is behind; null when unknown.',
} as const;

const headSchema = {
  type: ['object', 'null'],
  description:
    'The range at the committed offset: the one the committed offset waits for (where a partition is stuck), or null when none is in flight.',
  properties: {
    id: { type: 'string' },
    state: { type: 'string', enum: ['planned', 'active', 'done', 'failed'] },
    attempt: { type: 'integer' },
    worker: { type: ['string', 'null'] },
    failures: { type: 'integer' },
    error: { type: ['string', 'null'] },
    progressOffset: ref('NullableOffset'),
    updatedAt: { type: 'string' },
  },
  required: ['id', 'state', 'attempt', 'worker', 'failures', 'error', 'progressOffset', 'updatedAt'],
} as const;

const partitionSchema = {
  type: 'object',
  properties: {
    partition: { type: 'integer' },
    started: { type: 'boolean', description: 'Whether the leader has created the partition’s state.' },
    committedOffset: ref('NullableOffset'),
    highWatermark: ref('NullableOffset'),
    lag: ref('Lag'),
    lagMs: lagMsSchema,
    committedRecords: { type: 'integer' },
    committedBytes: { type: 'integer' },
    eventTimeFallbacks: {
      type: 'integer',
      description:
        'Committed records bucketed by Kafka time because their event-time field was missing or did not parse in `partitionBy.unit`.',
    },
    rejectedRecords: {
      type: 'integer',
      description:
        'Committed records in rejected-records objects (`_sluice/rejected/…`): values the output format could not take.',
    },
    gapOffsets: {
      type: 'string',
      pattern: '^\\d+$',
      description: 'Offsets lost to retention before Sluice read them (committed ranges), decimal.',
    },
    ranges: ref('RangeCounts'),
    head: headSchema,
  },
  required: [
    'partition',
    'started',
    'committedOffset',
    'highWatermark',
    'lag',
    'lagMs',
    'committedRecords',
    'committedBytes',
    'eventTimeFallbacks',
    'rejectedRecords',
    'gapOffsets',
    'ranges',
    'head',
  ],
} as const;

const topicSchema = {
  type: 'object',
  properties: {
    topic: { type: 'string' },
    pattern: {
      type: ['string', 'null'],
      description: 'The topic pattern that registered the topic; null for one registered by name.',
    },
    state: { type: 'string' },
    paused: { type: 'boolean' },
    error: { type: ['string', 'null'] },
    kafkaError: { type: ['string', 'null'] },
    flushIntervalMs: {
      type: 'integer',
      description: 'The topic’s flush interval: records may wait about this long before a range is cut.',
    },
    lag: { ...lagBody, description: 'Sum of the partitions’ lags; null when one is unknown.' },
    lagMs: { ...lagMsSchema, description: 'The largest lagMs of its partitions.' },
    committedRecords: { type: 'integer' },
    committedBytes: { type: 'integer' },
    eventTimeFallbacks: {
      type: 'integer',
      description:
        'Committed records of its partitions bucketed by Kafka time because their event-time field was missing or did not parse in `partitionBy.unit`.',
    },
    rejectedRecords: {
      type: 'integer',
      description: 'Committed records of its partitions in rejected-records objects.',
    },
    ranges: ref('RangeCounts'),
    throughput: throughputSchema,
    partitions: { type: 'array', items: partitionSchema },
    ...integrityTopicProperties,
    ...mirrorTopicProperties,
  },
  required: [
    'topic',
    'pattern',
    'state',
    'paused',
    'error',
    'kafkaError',
    'flushIntervalMs',
    'lag',
    'lagMs',
    'committedRecords',
    'committedBytes',
    'eventTimeFallbacks',
    'rejectedRecords',
    'ranges',
    'throughput',
    'partitions',
  ],
} as const;

export const statusSchema = {
  type: 'object',
  properties: {
    generatedAt: { type: 'string', format: 'date-time' },
    master: {
      type: 'object',
      description: 'The master that answered.',
      properties: { id: { type: 'string' }, leader: { type: 'boolean' } },
      required: ['id', 'leader'],
    },
    leader: {
      type: ['object', 'null'],
      description: 'The current leader, or null while there is none.',
      properties: {
        id: { type: 'string' },
        host: { type: 'string' },
        httpAddress: { type: 'string' },
        since: { type: 'string' },
      },
      required: ['id', 'host', 'httpAddress', 'since'],
    },
    summary: {
      type: 'object',
      description: 'The whole installation at a glance.',
      properties: {
        topics: { type: 'integer' },
        partitions: { type: 'integer' },
        lag: {
          ...lagBody,
          description: 'Offsets not yet in S3 over all topics; null when one is unknown.',
        },
        lagMs: { ...lagMsSchema, description: 'The largest lagMs of all partitions.' },
        ranges: ref('RangeCounts'),
        workers: { type: 'integer' },
        failures: { type: 'integer', description: 'Ranges in flight whose last attempt failed.' },
        gapOffsets: { type: 'string', pattern: '^\\d+$', description: 'Offsets lost to retention, decimal.' },
      },
      required: ['topics', 'partitions', 'lag', 'lagMs', 'ranges', 'workers', 'failures', 'gapOffsets'],
    },
    throughput: {
      type: 'object',
      description: 'All topics together.',
      properties: {
        ...throughputSchema.properties,
        history: {
          type: 'array',
          description:
            'Up to 15 minutes of samples, oldest first: the rate over the 30 s before each (what the dashboard charts).',
          items: {
            type: 'object',
            properties: {
              at: { type: 'string', format: 'date-time' },
              recordsPerSec: { type: 'number' },
              bytesPerSec: { type: 'number' },
            },
            required: ['at', 'recordsPerSec', 'bytesPerSec'],
          },
        },
      },
      required: ['m1', 'm15', 'history'],
    },
    topics: { type: 'array', items: topicSchema },
    workers: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          host: { type: 'string' },
          version: { type: 'string' },
          concurrency: { type: 'integer' },
          httpAddress: { type: ['string', 'null'] },
          activeRanges: { type: 'integer' },
          startedAt: { type: 'string' },
          uptimeSeconds: { type: 'number', description: 'Since the worker registered.' },
          ready: {
            type: 'boolean',
            description:
              'False while the worker takes no jobs because its own attempts failed (its credentials, an endpoint it cannot reach) and its probe has not passed yet.',
          },
          notReadyReason: { type: ['string', 'null'], description: 'Why it is not ready; null when ready.' },
          lastHeartbeat: {
            type: ['string', 'null'],
            description:
              'Newest progress report of its active ranges; null when it has none. Its registration exists only while its ZooKeeper session lives.',
          },
        },
        required: [
          'id',
          'host',
          'version',
          'concurrency',
          'httpAddress',
          'activeRanges',
          'startedAt',
          'uptimeSeconds',
          'lastHeartbeat',
          'ready',
          'notReadyReason',
        ],
      },
    },
    recentFailures: {
      type: 'array',
      description: `Ranges in flight whose last attempt failed (state failed, or requeued after a failure), newest first, at most ${RECENT_FAILURES}. They stay until the range commits.`,
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          topic: { type: 'string' },
          partition: { type: 'integer' },
          state: { type: 'string', enum: ['planned', 'active', 'done', 'failed'] },
          attempt: { type: 'integer' },
          failures: { type: 'integer' },
          worker: { type: ['string', 'null'] },
          error: { type: ['string', 'null'] },
          requeueReason: { type: ['string', 'null'] },
          updatedAt: { type: 'string' },
        },
        required: [
          'id',
          'topic',
          'partition',
          'state',
          'attempt',
          'failures',
          'worker',
          'error',
          'requeueReason',
          'updatedAt',
        ],
      },
    },
    gaps: {
      type: 'array',
      description: 'Partitions that lost offsets to retention before Sluice could read them.',
      items: {
        type: 'object',
        properties: {
          topic: { type: 'string' },
          partition: { type: 'integer' },
          lostOffsets: {
            type: 'string',
            pattern: '^\\d+$',
            description: 'Offsets lost in committed ranges, decimal.',
          },
          uncommitted: {
            type: 'array',
            description: 'Gaps found by ranges done but not yet committed.',
            items: {
              type: 'object',
              properties: {
                rangeId: { type: 'string' },
                start: { type: 'string', pattern: '^\\d+$' },
                end: { type: 'string', pattern: '^\\d+$' },
                cause: { type: 'string' },
              },
              required: ['rangeId', 'start', 'end', 'cause'],
            },
          },
        },
        required: ['topic', 'partition', 'lostOffsets', 'uncommitted'],
      },
    },
    queue: {
      type: ['object', 'null'],
      description: 'BullMQ job counts, or null when Redis did not answer (see queueError).',
      properties: integerFields(QUEUE_STATES),
      required: [...QUEUE_STATES],
    },
    queueError: { type: ['string', 'null'] },
    replays: replaysStatusSchema,
    topicsFile: topicsFileStatusSchema,
  },
  required: [
    'generatedAt',
    'master',
    'leader',
    'summary',
    'throughput',
    'topics',
    'workers',
    'recentFailures',
    'gaps',
    'queue',
    'queueError',
  ],
} as const;

/** The answer of `GET /api/v1/status`, as the CLI and the tests read it. */
export type StatusAnswer = Answer<typeof statusSchema>;
