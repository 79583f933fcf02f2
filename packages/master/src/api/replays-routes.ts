/**
 * `/api/v1/replays`: export a window of a registered topic again (another prefix, format or
 * compression) while its own ingestion carries on (replay-record.ts, replay-runner.ts).
 *
 *   POST   /api/v1/replays          resolve the window to fixed offsets, store it (201)
 *   GET    /api/v1/replays          every replay with its progress
 *   GET    /api/v1/replays/{id}     one replay, per partition
 *   DELETE /api/v1/replays/{id}     cancel (202); ranges in flight may finish
 *
 * A destination inside a registered topic's `{prefix}/{topic}/` (or a running replay's), or
 * holding one, is refused with 400: the same offsets would name the same objects.
 */
import { randomBytes } from 'node:crypto';
import {
  bucketNameProblem,
  createKafkaClient,
  ErrorCodes,
  errorText,
  KafkaErrorCodes,
  kafkaListOffsets,
  kafkaMetadata,
  normalizeDestination,
  type OutputSpec,
  outputSpecOf,
  type Problem,
  prefixProblem,
  SluiceError,
  topicConfigProblems,
  topicNameProblem,
  topicRoot,
  ValidationError,
} from '@sluice/shared';
import type { FastifyPluginAsync } from 'fastify';
import { requireTopicMetadata } from '../kafka/kafka-view.ts';
import {
  destinationConflict,
  type KafkaBounds,
  newReplayId,
  type ReplayRecord,
  type ReplayWindow,
  resolveWindow,
} from '../replays/replay-record.ts';
import {
  cancelReplay,
  createReplay,
  listReplays,
  readReplay,
  replayNotFound,
  replayView,
} from '../stores/replay-store.ts';
import { listTopics, notRegistered, readTopic } from '../stores/topic-store.ts';
import type { RouteOptions } from './api-deps.ts';
import { bearerSecurity, errorResponses } from './common-schemas.ts';
import { topicPatchBodySchema } from './topic-schemas.ts';

interface ReplayBody {
  topic: string;
  destination: { bucket: string; prefix?: string };
  format?: OutputSpec['format'];
  compression?: OutputSpec['compression'];
  partitionBy?: OutputSpec['partitionBy'];
  serverSideEncryption?: OutputSpec['serverSideEncryption'];
  kmsKeyId?: string;
  storageClass?: string;
  maxRangeMessages?: number;
  maxRangeBytes?: number;
  partition?: number;
  fromOffset?: string;
  toOffset?: string;
  fromTimestamp?: string;
  toTimestamp?: string;
}

const policy = topicPatchBodySchema.properties;

/** A policy field's schema without its default (a replay's defaults are its topic's settings). */
function noDefault<T extends object>(schema: T, description?: string): Omit<T, 'default'> {
  const { default: _, ...rest } = schema as T & { default?: unknown };
  return description ? { ...rest, description } : rest;
}
const offsetText = { type: 'string', pattern: '^\\d{1,20}$' } as const;
const timeValue = {
  type: 'string',
  minLength: 1,
  maxLength: 64,
  description: 'ISO-8601 time (e.g. `2026-11-25T08:00:00Z`) or epoch milliseconds as a decimal string.',
} as const;

const replayBodySchema = {
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

const rangeCountsSchema = {
  type: 'object',
  properties: {
    planned: { type: 'integer' },
    active: { type: 'integer' },
    done: { type: 'integer' },
    failed: { type: 'integer' },
  },
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
        destination: {
          type: 'object',
          properties: { bucket: { type: 'string' }, prefix: { type: 'string' } },
        },
        format: { type: 'string' },
        compression: { type: 'string' },
        partitionBy: {
          type: 'object',
          properties: {
            kind: { type: 'string' },
            granularity: { type: 'string' },
            field: { type: 'string' },
          },
        },
        serverSideEncryption: { type: 'string' },
        kmsKeyId: { type: 'string' },
        storageClass: { type: 'string' },
      },
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
          ranges: rangeCountsSchema,
        },
      },
    },
  },
  required: ['id', 'topic', 'state', 'output', 'partitions', 'progress', 'partitionsProgress', 'createdAt'],
} as const;

const idParams = {
  type: 'object',
  properties: { id: { type: 'string', description: 'Replay id, `r-…`.' } },
  required: ['id'],
  additionalProperties: false,
} as const;

function timeOf(v: string | undefined, path: string, problems: Problem[]): number | null {
  if (v === undefined) return null;
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isSafeInteger(t) || t < 0) {
    problems.push({
      path,
      message: `must be an ISO-8601 time or epoch milliseconds, got ${JSON.stringify(v)}`,
    });
    return null;
  }
  return t;
}

/** The window asked for, every problem at once. */
export function windowOf(body: ReplayBody): ReplayWindow {
  const problems: Problem[] = [];
  const byOffset = body.fromOffset !== undefined || body.toOffset !== undefined;
  const byTime = body.fromTimestamp !== undefined || body.toTimestamp !== undefined;
  if (byOffset && byTime) {
    problems.push({ path: 'fromTimestamp', message: 'give offsets or timestamps, not both' });
  }
  const w: ReplayWindow = {
    partition: body.partition ?? null,
    fromOffset: body.fromOffset === undefined ? null : BigInt(body.fromOffset).toString(),
    toOffset: body.toOffset === undefined ? null : BigInt(body.toOffset).toString(),
    fromTimestamp: timeOf(body.fromTimestamp, 'fromTimestamp', problems),
    toTimestamp: timeOf(body.toTimestamp, 'toTimestamp', problems),
  };
  if (w.fromOffset !== null && w.toOffset !== null && BigInt(w.toOffset) <= BigInt(w.fromOffset)) {
    problems.push({ path: 'toOffset', message: `must be greater than fromOffset (${w.fromOffset})` });
  }
  if (w.fromTimestamp !== null && w.toTimestamp !== null && w.toTimestamp <= w.fromTimestamp) {
    problems.push({ path: 'toTimestamp', message: 'must be after fromTimestamp' });
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return w;
}

/** Offsets of the first records at or after the window's times, per partition (-1 → null). */
async function offsetsAtTimes(
  deps: RouteOptions['deps'],
  topic: string,
  partitions: number[],
  times: Array<number | null>,
): Promise<Array<Map<number, bigint | null>>> {
  const client = createKafkaClient(deps.config);
  try {
    const view = await kafkaMetadata(client, [topic]);
    const out: Array<Map<number, bigint | null>> = [];
    for (const t of times) {
      const m = new Map<number, bigint | null>();
      if (t !== null) {
        for (const l of await kafkaListOffsets(client, view, topic, partitions, BigInt(t), 1)) {
          if (l.errorCode !== KafkaErrorCodes.NONE) {
            throw new SluiceError(
              ErrorCodes.KAFKA,
              `Kafka could not find the offset of time ${new Date(t).toISOString()} in ${topic}/${l.partition} (error ${l.errorCode}); try again`,
              { retryable: true },
            );
          }
          m.set(l.partition, l.offset < 0n ? null : l.offset);
        }
      }
      out.push(m);
    }
    return out;
  } catch (err) {
    if (err instanceof SluiceError) throw err;
    throw new SluiceError(ErrorCodes.KAFKA, `Kafka lookup of offsets by time failed: ${errorText(err)}`, {
      retryable: true,
      cause: err,
    });
  } finally {
    await client.close().catch(() => undefined);
  }
}

export const replaysRoutes: FastifyPluginAsync<RouteOptions> = async (app, { deps }) => {
  app.post<{ Body: ReplayBody }>(
    '/',
    {
      prefixTrailingSlash: 'no-slash',
      schema: {
        tags: ['replays'],
        summary: 'Export a window of a topic again, to another prefix or in another format',
        description:
          'Resolves the window to fixed offsets per partition (what Kafka has now), stores the replay and answers 201; the leader then writes its ranges, with their own commit records under the replay’s prefix, while the topic’s ingestion goes on. 400 when the destination is inside (or holds) a registered topic’s or a running replay’s folder.',
        security: bearerSecurity,
        body: replayBodySchema,
        response: { 201: replayViewSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (req, reply) => {
      const body = req.body;
      const zk = deps.zk();
      const topicProblem = topicNameProblem(body.topic);
      if (topicProblem) throw new ValidationError([{ path: 'topic', message: topicProblem }]);
      const window = windowOf(body);
      const stored = await readTopic(zk, body.topic);
      if (!stored) throw notRegistered(body.topic);
      const topic = stored.record;

      // Output: the topic's, with what the request changes.
      const destination = normalizeDestination({
        bucket: body.destination.bucket,
        prefix: body.destination.prefix ?? '',
      });
      const output: OutputSpec = outputSpecOf({
        ...outputSpecOf(topic),
        destination,
        ...(body.format ? { format: body.format } : {}),
        ...(body.compression ? { compression: body.compression } : {}),
        ...(body.partitionBy ? { partitionBy: body.partitionBy } : {}),
        ...(body.serverSideEncryption ? { serverSideEncryption: body.serverSideEncryption } : {}),
        ...(body.kmsKeyId !== undefined ? { kmsKeyId: body.kmsKeyId } : {}),
        ...(body.storageClass ? { storageClass: body.storageClass } : {}),
      });
      const problems: Problem[] = [];
      const bucketProblem = bucketNameProblem(destination.bucket);
      if (bucketProblem) problems.push({ path: 'destination.bucket', message: bucketProblem });
      const pp = prefixProblem(destination.prefix);
      if (pp) problems.push({ path: 'destination.prefix', message: pp });
      problems.push(
        ...topicConfigProblems({
          partitionBy: output.partitionBy,
          kmsKeyId: output.kmsKeyId,
          serverSideEncryption: output.serverSideEncryption,
          storageClass: output.storageClass,
        }),
      );
      if (problems.length > 0) throw new ValidationError(problems);

      // Destination: nobody else's folder.
      const root = topicRoot(destination.prefix, topic.topic);
      const others = [
        ...(await listTopics(zk)).map((t) => ({
          what: `topic "${t.record.topic}"`,
          bucket: t.record.destination.bucket,
          root: topicRoot(t.record.destination.prefix, t.record.topic),
        })),
        ...(await listReplays(zk))
          .filter((r) => r.state === 'running')
          .map((r) => ({
            what: `replay ${r.id}`,
            bucket: r.output.destination.bucket,
            root: topicRoot(r.output.destination.prefix, r.topic),
          })),
      ];
      const conflict = destinationConflict({ what: 'the replay', bucket: destination.bucket, root }, others);
      if (conflict) throw new ValidationError([{ path: 'destination.prefix', message: conflict }]);

      // The window, resolved against Kafka now.
      const meta = await requireTopicMetadata(deps.kafka, topic.topic);
      if (meta.topicId !== topic.topicId) {
        throw new SluiceError(
          ErrorCodes.TOPIC_RECREATED,
          `topic "${topic.topic}" was re-created in Kafka since it was registered (topic id ${topic.topicId}, now ${meta.topicId}); its offsets are not the ones Sluice wrote`,
        );
      }
      if (window.partition !== null && !meta.partitions.includes(window.partition)) {
        throw new ValidationError([
          {
            path: 'partition',
            message: `topic "${topic.topic}" has partitions 0 to ${meta.partitions.length - 1}`,
          },
        ]);
      }
      const partitions = window.partition === null ? meta.partitions : [window.partition];
      const offsets = await deps.kafka.offsets(topic.topic, partitions);
      const [atFrom, atTo] =
        window.fromTimestamp !== null || window.toTimestamp !== null
          ? await offsetsAtTimes(deps, topic.topic, partitions, [window.fromTimestamp, window.toTimestamp])
          : [new Map<number, bigint | null>(), new Map<number, bigint | null>()];
      const bounds: KafkaBounds[] = offsets.map((o) => ({
        partition: o.partition,
        earliest: o.earliest,
        lastStable: o.lastStable,
        atFrom: atFrom!.get(o.partition) ?? null,
        atTo: atTo!.get(o.partition) ?? null,
      }));
      const resolved = resolveWindow(window, bounds);

      const now = new Date();
      const record: ReplayRecord = {
        v: 1,
        id: newReplayId(now.getTime(), randomBytes(3).toString('hex')),
        topic: topic.topic,
        topicId: topic.topicId,
        output,
        maxRangeMessages: body.maxRangeMessages ?? topic.maxRangeMessages,
        maxRangeBytes: body.maxRangeBytes ?? topic.maxRangeBytes,
        window,
        partitions: resolved.partitions,
        notes: resolved.notes,
        state: 'running',
        error: null,
        createdAt: now.toISOString(),
        updatedAt: now.toISOString(),
        finishedAt: null,
      };
      await createReplay(zk, record);
      req.log.info(
        { replay: record.id, topic: record.topic, partitions: record.partitions.length, root },
        'replay created',
      );
      return reply.code(201).send(await replayView(zk, record));
    },
  );

  app.get(
    '/',
    {
      prefixTrailingSlash: 'no-slash',
      schema: {
        tags: ['replays'],
        summary: 'Replays and their progress',
        response: {
          200: {
            type: 'object',
            properties: { replays: { type: 'array', items: replayViewSchema } },
            required: ['replays'],
          },
          ...errorResponses(401, 403),
        },
      },
    },
    async () => {
      const zk = deps.zk();
      const replays = await listReplays(zk);
      return { replays: await Promise.all(replays.map((r) => replayView(zk, r))) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        tags: ['replays'],
        summary: 'One replay, with the progress of each partition',
        params: idParams,
        response: { 200: replayViewSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (req) => {
      const zk = deps.zk();
      const stored = await readReplay(zk, req.params.id);
      if (!stored) throw replayNotFound(req.params.id);
      return replayView(zk, stored.record);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/:id',
    {
      schema: {
        tags: ['replays'],
        summary: 'Cancel a replay',
        description:
          'No new ranges are planned; ranges not being worked on are dropped; a range a live worker holds may finish. What was committed stays in S3.',
        security: bearerSecurity,
        params: idParams,
        response: { 202: replayViewSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (req, reply) => {
      const zk = deps.zk();
      const record = await cancelReplay(zk, req.params.id, new Date());
      req.log.info({ replay: record.id }, 'replay cancelled');
      return reply.code(202).send(await replayView(zk, record));
    },
  );
};
