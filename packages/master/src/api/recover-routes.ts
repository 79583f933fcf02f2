/**
 * `POST /api/v1/recover`: registers again, from the config objects and commit records in the
 * given destinations, every topic ZooKeeper lost (topics/topic-recovery.ts). A change, so it
 * needs the token like every other one; `dryRun` says what it would do and changes nothing.
 */
import {
  bucketNameProblem,
  type Destination,
  normalizeDestination,
  type Problem,
  prefixProblem,
  ValidationError,
} from '@sluice/shared';
import { lazyOutputStore } from '../stores/output-store.ts';
import { recoverTopics } from '../topics/topic-recovery.ts';
import type { RoutePlugin } from './api-deps.ts';
import { bearerSecurity, errorResponses, offsetBody } from './common-schemas.ts';
import type { Answer } from './type-provider.ts';

/** Destinations one request may scan: each is a listing and a read per topic folder. */
const MAX_DESTINATIONS = 100;

export const recoverBodySchema = {
  type: 'object',
  description:
    'Where to look for topics: the destinations (bucket and key prefix) they were registered with.',
  properties: {
    destinations: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_DESTINATIONS,
      items: {
        type: 'object',
        properties: {
          bucket: { type: 'string', description: 'S3 bucket name.' },
          prefix: {
            type: 'string',
            default: '',
            description:
              'The key prefix the topics were registered with (their folders lie directly below it).',
          },
        },
        required: ['bucket'],
        additionalProperties: false,
      },
    },
    dryRun: {
      type: 'boolean',
      default: false,
      description:
        'Say what would be recovered, and where each partition would go on, without registering anything.',
    },
  },
  required: ['destinations'],
  additionalProperties: false,
} as const;

export const recoverAnswerSchema = {
  type: 'object',
  properties: {
    dryRun: { type: 'boolean' },
    topics: {
      type: 'array',
      description: 'One entry per topic found (its newest config object), by name.',
      items: {
        type: 'object',
        properties: {
          topic: { type: 'string' },
          configObject: {
            type: 'string',
            description: '`s3://bucket/key` of the config object it was read from.',
          },
          outcome: {
            type: 'string',
            enum: [
              'recovered',
              'would-recover',
              'already-registered',
              'deleted',
              'topic-id-differs',
              'not-in-kafka',
              'failed',
            ],
            description:
              '`recovered`: registered again; `would-recover`: so in a dry run; `already-registered`: ZooKeeper has it, left alone; `deleted`: it was unregistered (DELETE), not registered again; `topic-id-differs`: Kafka’s topic was re-created, not registered; `not-in-kafka`: Kafka has no such topic; `failed`: see `message`.',
          },
          message: { type: 'string' },
          topicId: { type: 'string', description: 'The Kafka topic id the config object holds.' },
          partitions: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                partition: { type: 'integer' },
                committedOffset: {
                  ...offsetBody,
                  description:
                    'Where the partition goes on: the end of its contiguous commit records (its original start when it has none).',
                },
                commitRecords: {
                  type: 'integer',
                  description: 'Commit records of this topic id in all its destinations.',
                },
                hole: {
                  type: ['object', 'null'],
                  description:
                    'The first offsets no commit record covers, when commit records lie beyond them: the partition goes on at `from`; the audit reports what lies beyond.',
                  properties: { from: offsetBody, to: offsetBody },
                  required: ['from', 'to'],
                },
              },
              required: ['partition', 'committedOffset', 'commitRecords', 'hole'],
            },
          },
        },
        required: ['topic', 'configObject', 'outcome', 'message', 'topicId', 'partitions'],
      },
    },
    problems: {
      type: 'array',
      description: 'Config objects that could not be read; their topics are not recovered.',
      items: {
        type: 'object',
        properties: { bucket: { type: 'string' }, key: { type: 'string' }, problem: { type: 'string' } },
        required: ['bucket', 'key', 'problem'],
      },
    },
  },
  required: ['dryRun', 'topics', 'problems'],
} as const;

/** The answer of `POST /api/v1/recover`, as the CLI reads it. */
export type RecoverAnswer = Answer<typeof recoverAnswerSchema>;

/** The destinations asked for, normalized; every bad one reported at once. */
function requestedDestinations(items: ReadonlyArray<{ bucket: string; prefix?: string }>): Destination[] {
  const problems: Problem[] = [];
  items.forEach((d, i) => {
    const bucket = bucketNameProblem(d.bucket);
    if (bucket) problems.push({ path: `destinations[${i}].bucket`, message: bucket });
    const prefix = prefixProblem(d.prefix ?? '');
    if (prefix) problems.push({ path: `destinations[${i}].prefix`, message: prefix });
  });
  if (problems.length > 0) throw new ValidationError(problems);
  return items.map((d) => normalizeDestination({ bucket: d.bucket, prefix: d.prefix ?? '' }));
}

export const recoverRoutes: RoutePlugin = async (app, { deps }) => {
  const storeOf = lazyOutputStore(app, deps.config);
  app.post(
    '/',
    {
      prefixTrailingSlash: 'no-slash',
      schema: {
        tags: ['recover'],
        summary: 'Rebuild lost registrations from S3',
        description:
          'After ZooKeeper’s data was lost: scans the topic folders directly below each destination for the config objects Sluice writes beside its commit records (`{prefix}/{topic}/_sluice/config.json`) and registers each topic ZooKeeper does not have, every partition going on at the end of its contiguous commit records (in all the topic’s past destinations too). Topics already registered are left alone; a topic Kafka re-created (another topic id) is reported and not registered.',
        security: bearerSecurity,
        body: recoverBodySchema,
        response: { 200: recoverAnswerSchema, ...errorResponses(400, 401, 403, 422) },
      },
    },
    async (req) => {
      const destinations = requestedDestinations(req.body.destinations);
      const report = await recoverTopics(
        {
          zk: deps.zk(),
          kafka: deps.kafka,
          store: storeOf(),
          checkDestination: deps.checkDestination,
          log: req.log,
        },
        destinations,
        req.body.dryRun ?? false,
      );
      req.log.info(
        {
          destinations,
          dryRun: report.dryRun,
          outcomes: report.topics.map((t) => `${t.topic}:${t.outcome}`),
        },
        'recovery ran',
      );
      return report;
    },
  );
};
