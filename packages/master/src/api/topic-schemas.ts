/**
 * JSON schemas of the topic resource: the registration body, the policy change body, the stored
 * record and the views built from it. Types, enums, bounds and unknown fields are checked
 * here; rules JSON schema cannot say readably (bucket names, key prefixes, field paths) are
 * checked by `topicConfigProblems` from the shared contract.
 */
import { COLUMN_TYPES, EVENT_TIME_UNITS, LIMITS, STORAGE_CLASSES, TOPIC_DEFAULTS } from '@sluice/shared';
import { nullableOffsetBody, offsetBody, offsetText, ref } from './common-schemas.ts';
import type { Answer, Request } from './type-provider.ts';

const granularity = { type: 'string', enum: ['hour', 'day'] } as const;

const destination = {
  type: 'object',
  description: 'Where the objects go.',
  properties: {
    bucket: { type: 'string', description: 'S3 bucket name (S3 naming rules).' },
    prefix: {
      type: 'string',
      description:
        'Key prefix inside the bucket, without a leading "/", ".." segments or control characters; may be empty.',
      default: '',
    },
  },
  required: ['bucket'],
  additionalProperties: false,
} as const;

const partitionBy = {
  type: 'object',
  description: 'How objects are split by time.',
  discriminator: { propertyName: 'kind' },
  required: ['kind'],
  oneOf: [
    {
      type: 'object',
      properties: { kind: { const: 'none' } },
      required: ['kind'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: { kind: { const: 'kafka-time' }, granularity },
      required: ['kind', 'granularity'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: {
        kind: { const: 'event-time' },
        field: { type: 'string', description: 'Dotted path of the time field in JSON values.' },
        granularity,
        unit: {
          type: 'string',
          enum: EVENT_TIME_UNITS,
          description:
            'How the field is read: `s`, `ms`, `us`, `ns` (a number or numeric string since the epoch) or `iso8601` (a text). Omitted: epoch milliseconds or ISO-8601 text. A sample of the topic must parse in it, to a date from 2000 to one day ahead (422 otherwise).',
        },
      },
      required: ['kind', 'field', 'granularity'],
      additionalProperties: false,
    },
  ],
  default: TOPIC_DEFAULTS.partitionBy,
} as const;

function bounded<
  const N extends 'maxRangeMessages' | 'maxRangeBytes' | 'flushIntervalMs',
  const D extends string,
>(name: N, description: D) {
  return {
    type: 'integer',
    minimum: LIMITS[name].min,
    maximum: LIMITS[name].max,
    default: TOPIC_DEFAULTS[name],
    description,
  } as const;
}

/** The policy fields: what PATCH may change (and POST may set). */
const policyProperties = {
  destination,
  format: {
    type: 'string',
    enum: ['jsonl', 'raw', 'parquet'],
    default: TOPIC_DEFAULTS.format,
    description:
      '`jsonl`: one JSON object per record; `raw`: values as they are; `parquet`: Parquet files with the columns of `schema` and Kafka’s fields (`__kafka_…`).',
  },
  compression: {
    type: 'string',
    enum: ['gzip', 'zstd', 'snappy', 'none'],
    description:
      'Of the whole object for jsonl and raw (default gzip); for parquet the codec inside the file (default zstd; snappy only there).',
  },
  schema: {
    type: 'object',
    description:
      'Format parquet: the value’s columns. `{ "source": "inline", "fields": [{ "name", "type", … }], "unknownFields": "drop" | "json" }`; types: string, int32, int64, double, boolean, timestamp (`unit` ms | us), date, decimal (`precision`, `scale`), binary (base64 text), list (`items`), struct (`fields`), map (`values`); `nullable` (default true). Names starting with `__kafka_` or `__sluice_` are refused.',
    properties: {
      source: { type: 'string', enum: ['inline'] },
      fields: {
        type: 'array',
        minItems: 1,
        maxItems: 4096,
        items: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            type: { type: 'string', description: COLUMN_TYPES.join(', ') },
          },
          required: ['name', 'type'],
        },
      },
      unknownFields: {
        type: 'string',
        enum: ['drop', 'json'],
        description:
          'Value fields the schema does not name: dropped, or kept as JSON text in `__sluice_extra`. Default drop.',
      },
    },
    required: ['source', 'fields'],
    additionalProperties: false,
  },
  partitionBy,
  maxRangeMessages: bounded(
    'maxRangeMessages',
    'Most offsets in one range. At least the masters’ SLUICE_MIN_RANGE_MESSAGES (1,000 by default; 400 below it).',
  ),
  maxRangeBytes: bounded(
    'maxRangeBytes',
    'About this many uncompressed bytes in one range. At least the masters’ SLUICE_MIN_RANGE_BYTES (1 MiB by default; 400 below it).',
  ),
  flushIntervalMs: bounded(
    'flushIntervalMs',
    'Cut a shorter range once the oldest unplanned record has waited this long (ms).',
  ),
  finalizeLatenessMs: {
    type: 'integer',
    minimum: LIMITS.finalizeLatenessMs.min,
    maximum: LIMITS.finalizeLatenessMs.max,
    default: TOPIC_DEFAULTS.finalizeLatenessMs,
    description:
      'Time-partitioned topics: `_SUCCESS` is written into an hour (day) folder once every partition committed records this much newer than its end, or was idle this long past it (ms). Later records for it are late data.',
  },
  serverSideEncryption: {
    type: 'string',
    enum: ['none', 'AES256', 'aws:kms'],
    default: TOPIC_DEFAULTS.serverSideEncryption,
  },
  kmsKeyId: {
    type: 'string',
    maxLength: 2048,
    default: TOPIC_DEFAULTS.kmsKeyId,
    description: 'Only with serverSideEncryption "aws:kms"; empty for the account default key.',
  },
  storageClass: {
    type: 'string',
    enum: [...STORAGE_CLASSES],
    default: TOPIC_DEFAULTS.storageClass,
  },
  mirrorGroup: {
    type: ['string', 'null'],
    maxLength: 255,
    description:
      'The Kafka consumer group the committed offsets are mirrored into, so Kafka’s lag tools show Sluice’s progress: 1 to 255 of letters, digits, ".", "_" and "-". Omitted: the masters’ SLUICE_MIRROR_GROUP_PREFIX and the topic’s name (`sluice.{topic}`); null: not mirrored. A group someone else consumes with is left alone (the status says so).',
  },
} as const;

const startPosition = { type: 'string', enum: ['earliest', 'latest'] } as const;

/**
 * The shapes of `startFrom` (start-from.ts resolves the object forms at registration). Each
 * branch has one required key, by which validation-problems.ts picks the branch whose errors to
 * report.
 */
const startFromBranches = [
  {
    ...startPosition,
    description: '`earliest`: the log start; `latest`: the end as the leader first plans.',
  },
  {
    type: 'object',
    description: 'Offsets named per partition ("0": "1234"); the others start at `fallback`.',
    properties: {
      offsets: {
        type: 'object',
        description: 'Partition number → first offset to copy, both as decimal strings.',
        additionalProperties: offsetText,
        minProperties: 1,
        maxProperties: 10000,
      },
      fallback: { ...startPosition, default: 'earliest', description: 'Partitions not named.' },
      outOfRange: {
        type: 'string',
        enum: ['refuse', 'clamp'],
        default: 'refuse',
        description:
          'An offset below the log start or above the high watermark: refused (422), or moved to the nearer end.',
      },
    },
    required: ['offsets'],
    additionalProperties: false,
  },
  {
    type: 'object',
    description:
      'Per partition the first offset whose record timestamp is at or after this time (none: the end).',
    properties: {
      timestamp: {
        anyOf: [{ type: 'integer' }, { type: 'string' }],
        description: 'Epoch milliseconds, or ISO-8601 text with a date and a time (UTC without a zone).',
      },
    },
    required: ['timestamp'],
    additionalProperties: false,
  },
  {
    type: 'object',
    description:
      "A consumer group's committed offsets (the old pipeline's). Refused while the group has members (409): stop the old consumer first.",
    properties: {
      consumerGroup: {
        type: 'string',
        description: 'The group id (1 to 255 characters, no control characters).',
      },
      fallback: {
        ...startPosition,
        default: 'earliest',
        description: 'Partitions the group committed nothing for.',
      },
    },
    required: ['consumerGroup'],
    additionalProperties: false,
  },
] as const;

export const topicCreateBodySchema = {
  type: 'object',
  description: 'A topic to register. Omitted fields take the defaults shown.',
  properties: {
    topic: { type: 'string', description: 'The Kafka topic; Kafka must have it.' },
    ...policyProperties,
    startFrom: {
      anyOf: startFromBranches,
      default: TOPIC_DEFAULTS.startFrom,
      description:
        'Where Sluice starts in partitions that exist at registration and have no commit records of this topic in the destination: `earliest`, `latest`, `{ "offsets": { "<partition>": "<offset>" } }`, `{ "timestamp": … }` or `{ "consumerGroup": "<group id>" }`. The object forms are resolved once, at registration, into `starts`; partitions added to the topic later start at their log start.',
    },
    resume: {
      type: 'boolean',
      default: true,
      description:
        'Partitions with commit records of this Kafka topic id in the destination (an earlier registration) resume right after them; false starts every partition where `startFrom` says.',
    },
  },
  required: ['topic', 'destination'],
  additionalProperties: false,
} as const;

export const topicPatchBodySchema = {
  type: 'object',
  description:
    'Policy changes and pausing. Changes apply to ranges planned afterwards; a planned range keeps the output settings it was planned with.',
  properties: {
    ...policyProperties,
    paused: { type: 'boolean', description: 'A paused topic gets no new ranges; ranges in flight finish.' },
  },
  minProperties: 1,
  additionalProperties: false,
} as const;

const topicRecordProperties = {
  topic: { type: 'string' },
  destination: ref('Destination'),
  format: { type: 'string' },
  compression: { type: 'string' },
  schema: {
    type: 'object',
    additionalProperties: true,
    description: 'Format parquet: the columns as registered. Absent for the other formats.',
  },
  partitionBy: ref('PartitionBy'),
  maxRangeMessages: { type: 'integer' },
  maxRangeBytes: { type: 'integer' },
  flushIntervalMs: { type: 'integer' },
  finalizeLatenessMs: {
    type: 'integer',
    description: 'Absent in records stored before the setting existed (then 600000).',
  },
  startFrom: { anyOf: startFromBranches, description: 'As registered (object forms as given).' },
  serverSideEncryption: { type: 'string' },
  kmsKeyId: { type: 'string' },
  storageClass: { type: 'string' },
  mirrorGroup: {
    type: ['string', 'null'],
    description:
      'The mirror group the request named (null: none); absent when it named none (then SLUICE_MIRROR_GROUP_PREFIX and the topic’s name).',
  },
  topicId: { type: 'string', description: "Kafka's topic id at registration." },
  paused: { type: 'boolean' },
  state: {
    type: 'string',
    enum: ['active', 'stopped', 'deleting'],
    description: '`stopped` after an unrecoverable problem (see `error`); `deleting` after DELETE.',
  },
  error: { type: ['string', 'null'] },
  createdAt: { type: 'string', format: 'date-time' },
  updatedAt: { type: 'string', format: 'date-time' },
  resume: {
    type: 'boolean',
    description: "The registration's `resume`; absent in records stored before it existed.",
  },
  starts: {
    type: 'array',
    description:
      'Where each partition present at registration starts, decided at registration. Absent in records stored before it existed.',
    items: {
      type: 'object',
      properties: {
        partition: { type: 'integer' },
        startOffset: {
          ...offsetBody,
          description:
            'First offset Sluice copies: after the commit records when `resumed`, else per `startFrom` (for `latest`, the last stable offset at registration; the leader takes it when it first plans; an object form of `startFrom` fixes it here, see `resolvedBy`).',
        },
        resumed: {
          type: 'boolean',
          description:
            'Whether the partition resumes after commit records of an earlier registration of this topic.',
        },
        resolvedBy: {
          type: 'string',
          enum: ['offsets', 'offsets-clamped', 'timestamp', 'consumerGroup', 'fallback'],
          description:
            'With an object form of `startFrom`, for partitions that did not resume: what decided `startOffset` (`fallback`: a partition the form did not name, or the group committed nothing for).',
        },
        commitRecordsEnd: {
          ...offsetBody,
          description:
            'With `resume: false`, for partitions that had commit records of this topic id: where they ended (not resumed after; the audit reports the consequence).',
        },
      },
      required: ['partition', 'startOffset', 'resumed'],
    },
  },
  forcedAt: {
    type: 'string',
    format: 'date-time',
    description:
      'When `DELETE ?force=true` was asked for: the leader abandons the ranges in flight and records them (GET /api/v1/topics/{topic}/audit lists them under `abandoned`). Absent otherwise.',
  },
  pastDestinations: {
    type: 'array',
    description:
      'Every destination the topic wrote to before its current one, oldest first (appended when a change moves the destination). Their commit records stay the topic’s past: resume, the audit and `recover` read them too. Absent while the destination never changed.',
    items: {
      type: 'object',
      properties: {
        bucket: { type: 'string' },
        prefix: { type: 'string' },
        since: { type: 'string', format: 'date-time', description: 'When the topic started writing there.' },
        until: { type: 'string', format: 'date-time', description: 'When a change moved it away.' },
      },
      required: ['bucket', 'prefix', 'since', 'until'],
    },
  },
} as const;

// finalizeLatenessMs, resume, starts, forcedAt, pastDestinations and mirrorGroup came later (mirrorGroup is
// also absent when a request named none): records stored before lack them. Every other field is
// required, listed as a literal so that the answer types know it (the check below fails to
// compile when a field is added above and not here).
const topicRecordRequired = [
  'topic',
  'destination',
  'format',
  'compression',
  'partitionBy',
  'maxRangeMessages',
  'maxRangeBytes',
  'flushIntervalMs',
  'startFrom',
  'serverSideEncryption',
  'kmsKeyId',
  'storageClass',
  'topicId',
  'paused',
  'state',
  'error',
  'createdAt',
  'updatedAt',
] as const;
type NotRequired = Exclude<keyof typeof topicRecordProperties, (typeof topicRecordRequired)[number]>;
const onlyLaterFieldsAreOptional: NotRequired extends
  | 'finalizeLatenessMs'
  | 'resume'
  | 'starts'
  | 'forcedAt'
  | 'pastDestinations'
  | 'mirrorGroup'
  | 'schema'
  ? true
  : never = true;
void onlyLaterFieldsAreOptional;

export const topicRecordSchema = {
  type: 'object',
  description: 'A registered topic as stored in ZooKeeper.',
  properties: topicRecordProperties,
  required: topicRecordRequired,
} as const;

export const topicSummarySchema = {
  type: 'object',
  description: "What ZooKeeper knows of the topic's progress (no Kafka call).",
  properties: {
    partitions: { type: 'integer', description: 'Partitions the leader has started.' },
    rangesInFlight: { type: 'integer', description: 'Planned ranges not yet committed.' },
    committedRecords: { type: 'integer' },
    committedBytes: { type: 'integer' },
  },
  required: ['partitions', 'rangesInFlight', 'committedRecords', 'committedBytes'],
} as const;

export const topicListSchema = {
  type: 'object',
  properties: {
    topics: {
      type: 'array',
      items: {
        type: 'object',
        properties: { ...topicRecordProperties, summary: topicSummarySchema },
        required: [...topicRecordRequired, 'summary'],
      },
    },
  },
  required: ['topics'],
} as const;

export const rangeViewSchema = {
  type: 'object',
  description: 'A range in flight (planned, not yet committed and pruned).',
  properties: {
    id: {
      type: 'string',
      description: '`{topic}-{partition}-{start}-{end}`; use it with POST /api/v1/ranges/{id}/retry.',
    },
    start: ref('Offset'),
    end: { ...offsetBody, description: 'First offset after the range (exclusive), decimal string.' },
    attempt: { type: 'integer' },
    state: { type: 'string', enum: ['planned', 'active', 'done', 'failed'] },
    worker: { type: ['string', 'null'] },
    error: { type: ['string', 'null'] },
    failures: { type: 'integer' },
    progressOffset: ref('NullableOffset'),
    requeueReason: { type: ['string', 'null'] },
    updatedAt: { type: 'string', format: 'date-time' },
  },
  required: [
    'id',
    'start',
    'end',
    'attempt',
    'state',
    'worker',
    'error',
    'failures',
    'progressOffset',
    'requeueReason',
    'updatedAt',
  ],
} as const;

export const partitionViewSchema = {
  type: 'object',
  properties: {
    partition: { type: 'integer' },
    started: {
      type: 'boolean',
      description:
        "Whether the leader has created the partition's state; when false, committedOffset is where it will start.",
    },
    committedOffset: {
      ...nullableOffsetBody,
      description:
        'First offset not yet in S3 (decimal string); null when it is not started and Kafka could not be asked.',
    },
    highWatermark: ref('NullableOffset'),
    lag: ref('Lag'),
    committedRecords: { type: 'integer' },
    ranges: { type: 'array', items: rangeViewSchema },
  },
  required: ['partition', 'started', 'committedOffset', 'highWatermark', 'lag', 'committedRecords', 'ranges'],
} as const;

export const topicDetailSchema = {
  type: 'object',
  description: 'A registered topic with the progress of every partition Kafka has.',
  properties: {
    ...topicRecordProperties,
    kafkaError: {
      type: ['string', 'null'],
      description: 'Why Kafka offsets are missing from this answer, or null.',
    },
    partitions: { type: 'array', items: partitionViewSchema },
  },
  required: [...topicRecordRequired, 'kafkaError', 'partitions'],
} as const;

/** The bodies the schemas accept (the handlers' types, derived, never written again). */
export type TopicCreateBody = Request<typeof topicCreateBodySchema>;
export type TopicPatchBody = Request<typeof topicPatchBodySchema>;

/** The answers of the topic routes, as the CLI reads them. */
export type TopicRecordAnswer = Answer<typeof topicRecordSchema>;
export type TopicListAnswer = Answer<typeof topicListSchema>;
export type TopicDetailAnswer = Answer<typeof topicDetailSchema>;
