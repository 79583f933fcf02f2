/**
 * Pure: a registration or policy-change body → the TopicConfig / TopicRecord to store.
 * Schemas have already checked types, enums, bounds and unknown fields; this applies the
 * defaults, runs the contract's semantic checks (`topicConfigProblems`) on the result, and
 * normalizes the destination.
 */
import {
  columnChangeProblems,
  type Destination,
  defaultCompressionOf,
  ErrorCodes,
  normalizeDestination,
  normalizeStartFrom,
  type Problem,
  pastDestinationsAfter,
  type SchemaSpec,
  SluiceError,
  TOPIC_DEFAULTS,
  type TopicConfig,
  type TopicRecord,
  topicConfigProblems,
  ValidationError,
  withFormatCompression,
} from '@sluice/shared';
import type { TopicCreateBody, TopicPatchBody } from '../api/topic-schemas.ts';

function destinationOf(d: { bucket: string; prefix?: string }): Destination {
  return { bucket: d.bucket, prefix: d.prefix ?? '' };
}

function check(given: TopicConfig): TopicConfig {
  const cfg = withFormatCompression(given);
  const problems = topicConfigProblems(cfg);
  if (problems.length > 0) throw new ValidationError(problems);
  return { ...cfg, destination: normalizeDestination(cfg.destination) };
}

/** The smallest range sizes a request may ask for (SLUICE_MIN_RANGE_MESSAGES, SLUICE_MIN_RANGE_BYTES). */
export interface RangeMinimums {
  minRangeMessages: number;
  minRangeBytes: number;
}

/**
 * Refuses range sizes below the installation's minimums, among the fields a request sets (a
 * topic stored earlier with smaller ranges may still be paused or changed otherwise). Every
 * range is a queue job, a ZooKeeper node and a commit record: `maxRangeMessages: 1` would make
 * one of each per record.
 */
export function refuseTinyRanges(
  body: { maxRangeMessages?: number | undefined; maxRangeBytes?: number | undefined },
  mins: RangeMinimums,
): void {
  const problems: Problem[] = [];
  const floors = [
    ['maxRangeMessages', 'SLUICE_MIN_RANGE_MESSAGES', mins.minRangeMessages],
    ['maxRangeBytes', 'SLUICE_MIN_RANGE_BYTES', mins.minRangeBytes],
  ] as const;
  for (const [field, setting, min] of floors) {
    const asked = body[field];
    if (asked === undefined || asked >= min) continue;
    problems.push({
      path: field,
      message: `must be at least ${min} (${setting}), got ${asked}: each range is a queue job, a ZooKeeper node and a commit record of its own; ask for ${min} or more, or lower ${setting} on the masters`,
    });
  }
  if (problems.length > 0) throw new ValidationError(problems);
}

type BodySchema = TopicCreateBody['schema'];

/**
 * `infer` is resolved into the inline schema it proposes before a config is built
 * (schema-infer-sample.ts), at a registration only: it never reaches a stored record, and a
 * PATCH names the columns it wants. `sample` belongs to `infer`.
 */
function refuseUnresolvedSchema(schema: BodySchema, change: boolean): void {
  if (schema?.source === 'infer') {
    throw new ValidationError([
      {
        path: 'schema.source',
        message: change
          ? '"infer" is for a registration (POST, or a PUT that registers); to change the columns, PATCH { "schema": { "source": "inline", "fields": [...] } } (GET shows the current ones)'
          : '"infer" reads a sample of one topic when it is registered (POST or PUT /api/v1/topics/{topic}, a topics file); a pattern\'s settings name the columns: { "source": "inline", "fields": [...] }',
      },
    ]);
  }
  if (schema?.sample !== undefined) {
    throw new ValidationError([{ path: 'schema.sample', message: 'is only for schema.source "infer"' }]);
  }
}

/** The config a registration asks for: defaults filled in, every problem reported at once. */
export function topicConfigFromBody(body: TopicCreateBody): TopicConfig {
  // `resume` is a decision of the registration (topic-resume.ts), not part of the config.
  const { destination, partitionBy, resume: _resume, schema, ...rest } = body;
  refuseUnresolvedSchema(schema, false);
  const format = rest.format ?? TOPIC_DEFAULTS.format;
  const cfg = check({
    ...TOPIC_DEFAULTS,
    ...rest,
    // Parquet's codec is inside the file, and zstd is what it defaults to.
    compression: rest.compression ?? defaultCompressionOf(format),
    // The JSON schema checks the outline; inlineSchemaProblems (in check) the columns.
    ...(schema ? { schema: schema as SchemaSpec } : {}),
    partitionBy: partitionBy ? { ...partitionBy } : { ...TOPIC_DEFAULTS.partitionBy },
    destination: destinationOf(destination),
  });
  return { ...cfg, startFrom: normalizeStartFrom(cfg.startFrom) };
}

/** A new record: active, not paused, with Kafka's topic id. */
export function newTopicRecord(cfg: TopicConfig, topicId: string, now: Date): TopicRecord {
  const t = now.toISOString();
  return { ...cfg, topicId, paused: false, state: 'active', error: null, createdAt: t, updatedAt: t };
}

/**
 * The record after a policy change. A topic being deleted takes no changes: its remaining
 * ranges finish with the settings they were planned with. `unset` names optional fields the
 * change removes (a PUT that omits `mirrorGroup` means the default name again).
 */
export function patchedTopicRecord(
  record: TopicRecord,
  patch: TopicPatchBody,
  now: Date,
  unset: readonly string[] = [],
): TopicRecord {
  if (record.state === 'deleting') {
    throw new SluiceError(
      ErrorCodes.TOPIC_STATE,
      `topic "${record.topic}" is being deleted and takes no more changes; register it again once it is gone`,
    );
  }
  const { destination, paused, schema, ...rest } = patch;
  refuseUnresolvedSchema(schema, true);
  const {
    topicId,
    paused: wasPaused,
    state,
    error,
    createdAt,
    updatedAt,
    pastDestinations: _past,
    ...config
  } = record;
  // A level belongs to its codec: changing the codec without naming a level goes back to the
  // new codec's default (a gzip 9 is no zstd 9, and none takes no level).
  const codecChanged = rest.compression !== undefined && rest.compression !== config.compression;
  if (codecChanged && rest.compressionLevel === undefined) delete config.compressionLevel;
  const kept: Record<string, unknown> = { ...config };
  for (const field of unset) delete kept[field];
  // A new format leaves the old one's schema behind (an Avro topic's registry schema is no
  // Parquet topic's columns), unless the change names one.
  if (rest.format !== undefined && rest.format !== config.format && schema === undefined) delete kept.schema;
  const next = check({
    ...(kept as typeof config),
    ...rest,
    ...(schema ? { schema: schema as SchemaSpec } : {}),
    ...(destination ? { destination: destinationOf(destination) } : {}),
  });
  // Ranges planned before keep the columns they were planned with: one column must not get a
  // second type in the same folder.
  if (config.schema?.source === 'inline' && next.schema?.source === 'inline' && next.format === 'parquet') {
    const problems = columnChangeProblems(config.schema, next.schema);
    if (problems.length > 0) throw new ValidationError(problems, ErrorCodes.TOPIC_STATE);
  }
  // The destination left keeps the topic's past: resume, the audit and recovery read it too.
  const pastDestinations = pastDestinationsAfter(record, next.destination, now.toISOString());
  return {
    ...next,
    ...(pastDestinations.length > 0 ? { pastDestinations } : {}),
    topicId,
    paused: paused ?? wasPaused,
    state,
    error,
    createdAt,
    updatedAt: now.toISOString(),
  };
}

/**
 * DELETE: `deleting`; with `force`, also `forcedAt` (the leader abandons what is in flight).
 * A forced DELETE of a topic already deleting forces it; repeating either changes nothing.
 */
export function deletingTopicRecord(record: TopicRecord, now: Date, force = false): TopicRecord {
  const forced = force && record.forcedAt === undefined;
  if (record.state === 'deleting' && !forced) return record;
  const at = now.toISOString();
  return { ...record, state: 'deleting', updatedAt: at, ...(forced ? { forcedAt: at } : {}) };
}
