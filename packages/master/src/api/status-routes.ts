/**
 * `GET /api/v1/status`: one cheap overview for operators and the CLI: who leads, how far each
 * partition is behind Kafka, what is in flight, which workers live, what failed lately.
 * ZooKeeper reads, one Kafka metadata request and per-topic offset requests, one Redis call,
 * all in parallel; a dependency that does not answer leaves its part empty with the reason.
 */
import { errorText } from '@sluice/shared';
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from './api-deps.ts';
import { errorResponses, lagSchema, nullableOffsetSchema } from './common-schemas.ts';
import { kafkaTopicViews } from './kafka-view.ts';
import { readTopicsPartitions } from './partition-reader.ts';
import { partitionViews, rangeCounts, rangeIdOf } from './partition-view.ts';
import { listTopics } from './topic-store.ts';
import { readWorkers, workerViews } from './worker-registrations.ts';

/** Failed ranges shown, newest first. */
const RECENT_FAILURES = 20;
const QUEUE_TIMEOUT_MS = 2_000;
const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed'] as const;

const countsSchema = {
  type: 'object',
  properties: {
    planned: { type: 'integer' },
    active: { type: 'integer' },
    done: { type: 'integer' },
    failed: { type: 'integer' },
  },
  required: ['planned', 'active', 'done', 'failed'],
} as const;

const statusSchema = {
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
    topics: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          topic: { type: 'string' },
          state: { type: 'string' },
          paused: { type: 'boolean' },
          error: { type: ['string', 'null'] },
          kafkaError: { type: ['string', 'null'] },
          lag: { ...lagSchema, description: 'Sum of the partitions’ lags; null when one is unknown.' },
          partitions: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                partition: { type: 'integer' },
                committedOffset: nullableOffsetSchema,
                highWatermark: nullableOffsetSchema,
                lag: lagSchema,
                ranges: countsSchema,
              },
              required: ['partition', 'committedOffset', 'highWatermark', 'lag', 'ranges'],
            },
          },
        },
        required: ['topic', 'state', 'paused', 'error', 'kafkaError', 'lag', 'partitions'],
      },
    },
    workers: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          host: { type: 'string' },
          activeRanges: { type: 'integer' },
          startedAt: { type: 'string' },
        },
        required: ['id', 'host', 'activeRanges', 'startedAt'],
      },
    },
    recentFailures: {
      type: 'array',
      description: `Ranges in state failed, newest first (at most ${RECENT_FAILURES}).`,
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          topic: { type: 'string' },
          partition: { type: 'integer' },
          attempt: { type: 'integer' },
          failures: { type: 'integer' },
          worker: { type: ['string', 'null'] },
          error: { type: ['string', 'null'] },
          updatedAt: { type: 'string' },
        },
        required: ['id', 'topic', 'partition', 'attempt', 'failures', 'worker', 'error', 'updatedAt'],
      },
    },
    queue: {
      type: ['object', 'null'],
      description: 'BullMQ job counts, or null when Redis did not answer (see queueError).',
      properties: Object.fromEntries(QUEUE_STATES.map((s) => [s, { type: 'integer' }])),
      required: [...QUEUE_STATES],
    },
    queueError: { type: ['string', 'null'] },
  },
  required: ['generatedAt', 'master', 'leader', 'topics', 'workers', 'recentFailures', 'queue', 'queueError'],
} as const;

async function queueCounts(deps: RouteOptions['deps']): Promise<{
  queue: Record<string, number> | null;
  queueError: string | null;
}> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const counts = await Promise.race([
      deps.queue.getJobCounts(...QUEUE_STATES),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Redis did not answer within ${QUEUE_TIMEOUT_MS} ms`)),
          QUEUE_TIMEOUT_MS,
        );
      }),
    ]);
    return { queue: Object.fromEntries(QUEUE_STATES.map((s) => [s, counts[s] ?? 0])), queueError: null };
  } catch (err) {
    return { queue: null, queueError: errorText(err) };
  } finally {
    clearTimeout(timer);
  }
}

export const statusRoutes: FastifyPluginAsync<RouteOptions> = async (app, { deps }) => {
  app.get(
    '/',
    {
      prefixTrailingSlash: 'no-slash',
      schema: {
        tags: ['status'],
        summary: 'Leader, per-partition lag, ranges in flight, workers and recent failures',
        response: { 200: statusSchema, ...errorResponses(401, 403) },
      },
    },
    async () => {
      const zk = deps.zk();
      const topics = await listTopics(zk);
      const names = topics.map((t) => t.record.topic);
      const [leader, workers, flights, kafka, queue] = await Promise.all([
        deps.election.leader(),
        readWorkers(zk),
        readTopicsPartitions(zk, names, { withRanges: true }),
        kafkaTopicViews(deps.kafka, names),
        queueCounts(deps),
      ]);
      const allRanges = [...flights.values()].flat().flatMap((f) => f.ranges);
      return {
        generatedAt: new Date().toISOString(),
        master: { id: deps.config.id, leader: deps.election.isLeader() },
        leader,
        topics: topics.map(({ record }) => {
          const parts = flights.get(record.topic) ?? [];
          const kafkaView = kafka.get(record.topic)!;
          const views = partitionViews(record, parts, kafkaView);
          const lags = views.map((v) => v.lag);
          return {
            topic: record.topic,
            state: record.state,
            paused: record.paused,
            error: record.error,
            kafkaError: kafkaView.error,
            lag: lags.some((l) => l === null) ? null : (lags as number[]).reduce((a, b) => a + b, 0),
            partitions: views.map((v) => ({
              partition: v.partition,
              committedOffset: v.committedOffset,
              highWatermark: v.highWatermark,
              lag: v.lag,
              ranges: rangeCounts(v.ranges),
            })),
          };
        }),
        workers: workerViews(workers, allRanges).map((w) => ({
          id: w.id,
          host: w.host,
          activeRanges: w.activeRanges,
          startedAt: w.startedAt,
        })),
        recentFailures: allRanges
          .filter((r) => r.state === 'failed')
          .sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0))
          .slice(0, RECENT_FAILURES)
          .map((r) => ({
            id: rangeIdOf(r),
            topic: r.topic,
            partition: r.partition,
            attempt: r.attempt,
            failures: r.failures,
            worker: r.worker,
            error: r.error,
            updatedAt: r.updatedAt,
          })),
        ...queue,
      };
    },
  );
};
