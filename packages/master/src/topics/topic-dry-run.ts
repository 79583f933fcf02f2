/**
 * `POST /api/v1/topics?dryRun=true`: what registering would do, without doing it (nothing is
 * written to ZooKeeper). The same validation and answers as a registration (400, 404, 409,
 * 422 for a destination that cannot be written: destination-probe.ts, or event times that do
 * not read in their unit: event-time-check.ts; 409/422 for a `startFrom` that cannot be resolved:
 * start-from.ts);
 * then the partitions, the backlog in records and bytes, the number and typical size of the
 * objects, and the first keys, estimated as registration-estimate.ts says; each partition's
 * `startOffset` is where the registration would start it, an object form of `startFrom`
 * resolved (`resolvedBy`).
 */
import { ErrorCodes, type ResolvedBy, SluiceError, type TopicConfig } from '@sluice/shared';
import type { ApiDeps } from '../api/api-deps.ts';
import { offsetBody, ref } from '../api/common-schemas.ts';
import { type TopicCreateBody, topicRecordSchema } from '../api/topic-schemas.ts';
import type { Answer } from '../api/type-provider.ts';
import { sampleRecords } from '../kafka/kafka-sample.ts';
import { requireTopicMetadata } from '../kafka/kafka-view.ts';
import type { OutputStore } from '../stores/output-store.ts';
import { readTopic } from '../stores/topic-store.ts';
import { checkEventTimeSample } from './event-time-check.ts';
import { sampleOffsets } from './event-time-sample.ts';
import {
  estimateRegistration,
  type PartitionFacts,
  type RegistrationEstimate,
} from './registration-estimate.ts';
import { topicConfigFromBody } from './topic-request.ts';
import { committedEnds, knownPastDestinations, registrationStarts } from './topic-resume.ts';

/** Partitions sampled at most (the others share their estimate). */
const SAMPLED_PARTITIONS = 16;

export interface DryRunAnswer extends Omit<RegistrationEstimate, 'partitions'> {
  partitions: Array<
    RegistrationEstimate['partitions'][number] & { resumed: boolean; resolvedBy?: ResolvedBy }
  >;
  dryRun: true;
  topic: string;
  topicId: string;
  config: TopicConfig;
}

export const dryRunSchema = {
  type: 'object',
  description: 'What registering would do; nothing was stored.',
  properties: {
    dryRun: { type: 'boolean', const: true },
    topic: { type: 'string' },
    topicId: { type: 'string' },
    config: { type: 'object', additionalProperties: true, description: 'The config as it would be stored.' },
    partitions: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          partition: { type: 'integer' },
          startOffset: topicRecordSchema.properties.starts.items.properties.startOffset,
          resumed: topicRecordSchema.properties.starts.items.properties.resumed,
          resolvedBy: topicRecordSchema.properties.starts.items.properties.resolvedBy,
          endOffset: { ...offsetBody, description: 'The last stable offset now.' },
          backlogRecords: ref('Offset'),
          backlogBytes: { type: ['integer', 'null'] },
          ranges: { type: 'integer' },
          objects: { type: 'integer' },
          firstKey: { type: ['string', 'null'] },
        },
        required: [
          'partition',
          'startOffset',
          'resumed',
          'endOffset',
          'backlogRecords',
          'backlogBytes',
          'ranges',
          'objects',
          'firstKey',
        ],
      },
    },
    backlog: {
      type: 'object',
      properties: {
        records: { ...offsetBody, description: 'Offsets to copy (an upper bound of records).' },
        bytes: {
          type: ['integer', 'null'],
          description: 'Encoded bytes before compression; null when no record could be sampled.',
        },
      },
      required: ['records', 'bytes'],
    },
    output: {
      type: 'object',
      properties: {
        ranges: { type: 'integer' },
        objects: { type: 'integer' },
        typicalObjectBytes: { type: ['integer', 'null'], description: 'Before compression.' },
        typicalObjectRecords: { type: ['integer', 'null'] },
        firstKeys: { type: 'array', items: { type: 'string' } },
      },
      required: ['ranges', 'objects', 'typicalObjectBytes', 'typicalObjectRecords', 'firstKeys'],
    },
    inferred: {
      type: 'object',
      description:
        'With `schema: { "source": "infer" }`: the columns proposed from the newest records (also in `config.schema`, as a registration would store them).',
      properties: {
        schema: { type: 'object', additionalProperties: true },
        sampledRecords: { type: 'integer', description: 'JSON values read (tombstones skipped).' },
        leftOut: {
          type: 'array',
          description: 'Top-level fields that got no column, and why: kept as JSON text in `__sluice_extra`.',
          items: {
            type: 'object',
            properties: { name: { type: 'string' }, reason: { type: 'string' } },
            required: ['name', 'reason'],
          },
        },
      },
      required: ['schema', 'sampledRecords', 'leftOut'],
    },
    estimate: {
      type: 'object',
      properties: {
        sampledRecords: { type: 'integer' },
        bytesPerRecord: { type: ['integer', 'null'] },
        method: { type: 'string' },
      },
      required: ['sampledRecords', 'bytesPerRecord', 'method'],
    },
  },
  required: ['dryRun', 'topic', 'topicId', 'config', 'partitions', 'backlog', 'output', 'estimate'],
} as const;

/** The answer of a dry run, as the CLI reads it. */
export type DryRunView = Answer<typeof dryRunSchema>;

export async function dryRunRegistration(
  deps: ApiDeps,
  store: OutputStore,
  body: TopicCreateBody,
): Promise<DryRunAnswer> {
  const config = topicConfigFromBody(body);
  const meta = await requireTopicMetadata(deps.kafka, config.topic);
  if (await readTopic(deps.zk(), config.topic)) {
    throw new SluiceError(
      ErrorCodes.TOPIC_EXISTS,
      `topic "${config.topic}" is already registered; change it with PATCH /api/v1/topics/${config.topic}`,
    );
  }
  await deps.checkDestination(config.topic, config);
  const offsets = await deps.kafka.offsets(config.topic, meta.partitions);
  const past = await knownPastDestinations(store, { ...config, topicId: meta.topicId });
  const ends = await committedEnds(store, [config.destination, ...past], config.topic, meta.topicId);
  const begins = await registrationStarts(
    deps.kafka,
    config.topic,
    config.startFrom,
    offsets,
    ends,
    body.resume ?? true,
  );
  const starts = offsets.map((o, i) => ({ o, start: begins[i]!.startOffset, begin: begins[i]! }));
  await checkEventTimeSample(
    deps.config,
    config.topic,
    config.partitionBy,
    sampleOffsets(starts.map(({ o, start }) => ({ ...o, start }))),
  );
  const withBacklog = starts.filter((s) => s.o.lastStable > s.start).slice(0, SAMPLED_PARTITIONS);
  const [heads, tails] = await Promise.all([
    sampleRecords(
      deps.config,
      config.topic,
      withBacklog.map((s) => ({ partition: s.o.partition, offset: s.start })),
    ),
    config.partitionBy.kind === 'none'
      ? Promise.resolve([])
      : sampleRecords(
          deps.config,
          config.topic,
          withBacklog.map((s) => ({ partition: s.o.partition, offset: s.o.lastStable - 1n })),
          { maxBytes: 64 * 1024 },
        ),
  ]);
  const facts: PartitionFacts[] = starts.map(({ o, start }) => {
    const tail = tails.find((t) => t.partition === o.partition)?.records ?? [];
    const last = tail.filter((r) => r.offset < o.lastStable).at(-1);
    return {
      partition: o.partition,
      earliest: o.earliest,
      lastStable: o.lastStable,
      start,
      sample: heads.find((h) => h.partition === o.partition)?.records ?? [],
      lastTimestamp: last ? last.timestamp : null,
    };
  });
  const estimate = estimateRegistration(config, facts);
  return {
    dryRun: true,
    topic: config.topic,
    topicId: meta.topicId,
    config,
    ...estimate,
    partitions: estimate.partitions.map((p) => {
      const begin = starts.find((s) => s.o.partition === p.partition)?.begin;
      return {
        ...p,
        resumed: begin?.resumed ?? false,
        ...(begin?.resolvedBy ? { resolvedBy: begin.resolvedBy } : {}),
      };
    }),
  };
}
