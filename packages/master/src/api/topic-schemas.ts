/**
 * JSON schemas of the topic resource: the registration body, the policy change body, the stored
 * record and the views built from it. Types, enums, bounds and unknown fields are checked
 * here; rules JSON schema cannot say readably (bucket names, key prefixes, field paths) are
 * checked by `topicConfigProblems` from the shared contract.
 */
import {
  COLUMN_TYPES,
  COMPRESSION_LEVELS,
  EVENT_TIME_UNITS,
  INFER_SAMPLE_DEFAULT,
  INFER_SAMPLE_MAX,
  KEY_TEMPLATE_MAX_LENGTH,
  LIMITS,
  STORAGE_CLASSES,
  TOPIC_DEFAULTS,
  type TOPIC_READ_ONLY_FIELDS,
} from '@sluice/shared';
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
        'Key prefix inside the bucket, without a leading "/", ".." segments or control characters; may be empty. `{topic.N}` is the topic name\'s part N split on "." (0 first): `lake/{topic.0}` puts `sales.orders` under `lake/sales/sales.orders/` (400 when the name has fewer parts).',
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
    enum: ['jsonl', 'raw', 'avro', 'parquet'],
    default: TOPIC_DEFAULTS.format,
    description:
      '`jsonl`: one JSON object per record; `raw`: values as they are; `avro`: Avro object container files of the values (needs a `registry` schema); `parquet`: Parquet files with the columns of an `inline` schema and Kafka’s fields (`__kafka_…`).',
  },
  compression: {
    type: 'string',
    enum: ['gzip', 'zstd', 'snappy', 'none', 'deflate'],
    description:
      'Of the whole object for jsonl and raw (default gzip); for parquet the codec inside the file (default zstd; snappy only there); for avro the container codec: `deflate` (what `gzip` becomes, the default), `zstd` or `none`.',
  },
  schema: {
    type: 'object',
    description:
      'Where record structure comes from. `{ "source": "registry", "key"? }` (format avro, or parquet: columns from the writer schema): values in the Confluent wire format, writer schemas from SLUICE_SCHEMA_REGISTRY_URL; `key: true` decodes keys too (parquet only). `{ "source": "inline", "fields": [{ "name", "type", … }], "unknownFields": "drop" | "json" }` (format parquet): JSON values mapped onto the declared columns; types: string, int32, int64, double, boolean, timestamp (`unit` ms | us), date, decimal (`precision`, `scale`), binary (base64 text), list (`items`), struct (`fields`), map (`values`); `nullable` (default true). Names starting with `__kafka_` or `__sluice_` are refused. `{ "source": "infer", "sample": n }` (format parquet, at registration): the columns are inferred from the newest records (a dry run shows them in `inferred`) and stored as an `inline` schema with `unknownFields: "json"`; a PUT of a topic whose schema is inline keeps it; PATCH takes `inline` only.',
    properties: {
      source: { type: 'string', enum: ['registry', 'inline', 'infer'] },
      sample: {
        type: 'integer',
        minimum: 1,
        maximum: INFER_SAMPLE_MAX,
        description: `\`infer\`: how many of the newest records to read (default ${INFER_SAMPLE_DEFAULT}).`,
      },
      key: {
        type: 'boolean',
        description: '`registry`: decode keys too (not with avro, whose files hold values).',
      },
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
    required: ['source'],
    additionalProperties: false,
  },
  compressionLevel: {
    type: 'integer',
    description: `The codec's level: gzip ${COMPRESSION_LEVELS.gzip.min}-${COMPRESSION_LEVELS.gzip.max} (default ${COMPRESSION_LEVELS.gzip.default}), zstd ${COMPRESSION_LEVELS.zstd.min}-${COMPRESSION_LEVELS.zstd.max} (default ${COMPRESSION_LEVELS.zstd.default}); not with none, nor with avro or parquet (their codecs run inside the file). A PATCH that changes compression without it goes back to the new codec's default.`,
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
  keyTemplate: {
    type: 'string',
    minLength: 1,
    maxLength: KEY_TEMPLATE_MAX_LENGTH,
    description:
      'The folders and file name below `{prefix}/{topic}/`: time folders first, all of one style — `{dt=YYYY-MM-DD}/{hr=HH}`, `{year=YYYY}/{month=MM}/{day=DD}/{hour=HH}` or `{YYYY}/{MM}/{DD}/{HH}` (without the hour token for granularity `day`, none with partitionBy `none`) — then up to 3 `{field:PATH}` folders (`tenant=acme/`; a missing value: `tenant=__null__/`), then the file name, which must hold `{partition}-{start}-{end}` and may hold `{topic}`; the extension is appended. E.g. `{year=YYYY}/{month=MM}/{day=DD}/{hour=HH}/{field:tenant}/{topic}-{partition}-{start}-{end}`. Omitted: `{dt=YYYY-MM-DD}/{hr=HH}/{topic}-{partition}-{start}-{end}` (folders as partitionBy asks). A change applies to ranges planned afterwards. 400 naming the token when refused.',
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

/**
 * Fields of a topic's GET answer (or list entry) that no request sets: a PUT accepts and
 * ignores them, so the whole GET body PUT back changes nothing. A read-only field added to the
 * record or its views belongs here too (shared's TOPIC_READ_ONLY_FIELDS, which an export leaves
 * out, lists the same names).
 */
const readOnlyIgnored = { description: 'Read-only (a GET answer’s): accepted and ignored.' } as const;
const topicReadOnlyProperties = {
  topicId: readOnlyIgnored,
  paused: {
    description: 'Read-only here: accepted and ignored (pause with PATCH `{ "paused": true }`).',
  },
  state: readOnlyIgnored,
  error: readOnlyIgnored,
  createdAt: readOnlyIgnored,
  updatedAt: readOnlyIgnored,
  starts: readOnlyIgnored,
  forcedAt: readOnlyIgnored,
  pastDestinations: readOnlyIgnored,
  summary: readOnlyIgnored,
  kafkaError: readOnlyIgnored,
  partitions: readOnlyIgnored,
} as const;

// The fields a PUT ignores are the ones an export leaves out (shared's list also has `resume`,
// which a PUT reads at creation): adding one to either list without the other does not compile.
type ReadOnlyField = keyof typeof topicReadOnlyProperties;
type ExportOmits = Exclude<(typeof TOPIC_READ_ONLY_FIELDS)[number], 'resume'>;
const sameReadOnlyFields: [ReadOnlyField, ExportOmits] extends [ExportOmits, ReadOnlyField] ? true : never =
  true;
void sameReadOnlyFields;

/** PUT: the registration body (`topic` may repeat the path), plus the GET answer's read-only fields. */
export const topicPutBodySchema = {
  type: 'object',
  description:
    'The topic exactly as it should be: the registration body, omitted fields taking their defaults (unlike PATCH, where they keep their values). `topic` may repeat the path’s. Read-only fields of a GET answer are accepted and ignored; `resume` counts at creation only.',
  properties: {
    ...topicCreateBodySchema.properties,
    topic: { type: 'string', description: 'The path’s topic (optional; another name is 400).' },
    ...topicReadOnlyProperties,
  },
  required: ['destination'],
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
    description:
      'The schema as registered (`registry` or `inline`). Absent for formats that write records as they are.',
  },
  compressionLevel: { type: 'integer', description: "Absent: the codec's default." },
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
  keyTemplate: { type: 'string', description: 'As registered; absent for the default layout.' },
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
  pattern: {
    type: 'string',
    description:
      'The topic pattern that registered the topic (GET /api/v1/patterns/{name}); absent for a topic registered by name.',
  },
} as const;

// finalizeLatenessMs, resume, starts, forcedAt, pastDestinations, mirrorGroup, keyTemplate, schema and
// compressionLevel came later (mirrorGroup and keyTemplate are also absent when a request named none,
// schema for formats without one, compressionLevel for the codec's default): records stored before lack them. Every other field is
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
  | 'keyTemplate'
  | 'compressionLevel'
  | 'pattern'
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

/** What a PUT did, or would do with `dryRun=true` (topics/topic-upsert.ts). */
export const topicUpsertAnswerSchema = {
  type: 'object',
  properties: {
    result: {
      type: 'string',
      enum: ['created', 'changed', 'unchanged'],
      description: 'With `dryRun=true`: what a PUT would do.',
    },
    dryRun: { type: 'boolean', description: 'true: nothing was stored.' },
    changes: {
      type: 'array',
      description: 'The fields a change sets, each with when it takes effect; empty unless `changed`.',
      items: {
        type: 'object',
        properties: {
          field: { type: 'string' },
          from: { description: 'The stored value; absent when the field was unset (its default).' },
          to: { description: 'The new value; absent when the field becomes unset (its default).' },
          applies: {
            type: 'string',
            enum: ['now', 'new-ranges'],
            description:
              '`now`: from the leader’s next planning round (range sizes, flush interval, finalizer lateness, mirror group); `new-ranges`: ranges planned after the change, a planned range keeping the output settings it was planned with (destination, format, compression, partitioning, encryption, storage class, and any field not listed).',
          },
        },
        required: ['field', 'applies'],
      },
    },
    topic: {
      ...topicRecordSchema,
      description:
        'The record as stored (with `dryRun=true`: as a change would store it; absent for a creation, which the registration decides).',
    },
  },
  required: ['result', 'dryRun', 'changes'],
} as const;

/** The bodies the schemas accept (the handlers' types, derived, never written again). */
export type TopicCreateBody = Request<typeof topicCreateBodySchema>;
export type TopicPatchBody = Request<typeof topicPatchBodySchema>;
export type TopicPutBody = Request<typeof topicPutBodySchema>;

/** The answers of the topic routes, as the CLI reads them. */
export type TopicRecordAnswer = Answer<typeof topicRecordSchema>;
export type TopicListAnswer = Answer<typeof topicListSchema>;
export type TopicDetailAnswer = Answer<typeof topicDetailSchema>;
export type TopicUpsertAnswer = Answer<typeof topicUpsertAnswerSchema>;
