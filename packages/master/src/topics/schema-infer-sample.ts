/**
 * `schema: { source: "infer", sample?: n }` (issue 13) turned into the inline schema a topic is
 * stored with: read the newest records of the topic, refuse what cannot be a table, and
 * propose the columns schema-infer.ts (shared, pure) decides. Every write path resolves it
 * before anything else reads the body: a registration (POST, a PUT that creates, a pattern's
 * discovery) and its dry run infer; a PUT of a topic whose stored schema is already inline keeps
 * that one (so a topics file with `infer` applied again changes nothing); PATCH refuses it
 * (topic-request.ts): an existing topic's schema is changed by naming the columns.
 *
 * The stored record holds the inline schema, never `infer`: ranges snapshot it (invariant 3),
 * so what a range writes does not depend on when a sample was read.
 */
import {
  ErrorCodes,
  INFER_SAMPLE_DEFAULT,
  type InferredSchema,
  type InlineSchema,
  inferInlineSchema,
  type KafkaAdmin,
  type KafkaSettings,
  type LeftOutField,
  leftOutText,
  SluiceError,
  TOPIC_DEFAULTS,
  type TopicRecord,
  ValidationError,
} from '@sluice/shared';
import type { TopicCreateBody, TopicPutBody } from '../api/topic-schemas.ts';
import { sampleRecords } from '../kafka/kafka-sample.ts';
import { requireTopicMetadata } from '../kafka/kafka-view.ts';

/** Partitions read for a sample at most; the others are like them. */
const INFER_PARTITIONS = 64;
/**
 * Bytes a sample reads in all, shared among the partitions read (one Fetch each, at least
 * 64 KiB): the master holds it in memory while it infers.
 */
const INFER_SAMPLE_BYTES = 8 * 1024 * 1024;
const INFER_PARTITION_MIN_BYTES = 64 * 1024;

/** What an inference read and left out, beside the schema (the dry run's `inferred`). */
export interface SchemaInference {
  schema: InferredSchema['schema'];
  sampledRecords: number;
  leftOut: LeftOutField[];
}

type Schema = NonNullable<TopicCreateBody['schema']>;

function isInfer(schema: Schema | undefined): boolean {
  return schema?.source === 'infer';
}

/** An inline schema as a request body carries it (the body's type lets columns hold more members). */
function bodySchemaOf(schema: InlineSchema): Schema {
  return { ...schema, fields: schema.fields.map((f) => ({ ...f })) };
}

/**
 * Reads up to `sample` of the newest records of `topic` (spread over up to
 * {@link INFER_PARTITIONS} partitions, tombstones skipped) and infers their schema. Throws 422
 * SLUICE_ERR_SCHEMA_INFER_UNUSABLE when there is nothing to infer from or no field to propose.
 */
export async function inferTopicSchema(
  kafka: KafkaAdmin,
  settings: KafkaSettings,
  topic: string,
  sample: number,
): Promise<SchemaInference> {
  const meta = await requireTopicMetadata(kafka, topic);
  const offsets = await kafka.offsets(topic, meta.partitions);
  const filled = offsets.filter((o) => o.lastStable > o.earliest).slice(0, INFER_PARTITIONS);
  const fix = 'produce some records first, or give the columns: { "source": "inline", "fields": [...] }';
  if (filled.length === 0) {
    throw new SluiceError(
      ErrorCodes.SCHEMA_INFER_UNUSABLE,
      `topic "${topic}" has no records to infer a schema from (schema.source "infer"); ${fix}`,
      { retryable: false },
    );
  }
  const per = Math.ceil(sample / filled.length);
  const samples = await sampleRecords(
    settings,
    topic,
    filled.map((o) => {
      const from = o.lastStable - BigInt(per);
      return { partition: o.partition, offset: from > o.earliest ? from : o.earliest };
    }),
    {
      maxRecords: per,
      maxBytes: Math.max(INFER_PARTITION_MIN_BYTES, Math.floor(INFER_SAMPLE_BYTES / filled.length)),
    },
  );
  const values: Array<Record<string, unknown>> = [];
  const notObjects: string[] = [];
  for (const s of samples) {
    for (const r of s.records) {
      if (r.value === null) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(r.value.toString('utf8'));
      } catch {
        notObjects.push(`partition ${s.partition} offset ${r.offset}: not JSON text`);
        continue;
      }
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
        values.push(parsed as Record<string, unknown>);
      } else {
        notObjects.push(
          `partition ${s.partition} offset ${r.offset}: ${Array.isArray(parsed) ? 'an array' : `a JSON ${parsed === null ? 'null' : typeof parsed}`}`,
        );
      }
    }
  }
  const read = values.length + notObjects.length;
  if (notObjects.length > 0) {
    throw new SluiceError(
      ErrorCodes.SCHEMA_INFER_UNUSABLE,
      `topic "${topic}": ${notObjects.length} of ${read} sampled values are not JSON objects (e.g. ${notObjects[0]}), and Parquet columns are inferred from a JSON object's fields; use format "jsonl" or "raw" for such values, or "avro" with schema.source "registry" for values in the Confluent wire format`,
      { retryable: false },
    );
  }
  if (values.length === 0) {
    const errors = samples.filter((s) => s.error).map((s) => `partition ${s.partition}: ${s.error}`);
    throw new SluiceError(
      ErrorCodes.SCHEMA_INFER_UNUSABLE,
      errors.length > 0
        ? `topic "${topic}": no sample could be read to infer a schema from (${errors.slice(0, 3).join('; ')}); try again, or give the columns: { "source": "inline", "fields": [...] }`
        : `topic "${topic}": the newest records sampled are all tombstones (null values), nothing to infer a schema from; ${fix}`,
      { retryable: errors.length > 0 },
    );
  }
  const { schema, leftOut } = inferInlineSchema(values);
  if (schema.fields.length === 0) {
    throw new SluiceError(
      ErrorCodes.SCHEMA_INFER_UNUSABLE,
      `topic "${topic}": no field of the ${values.length} sampled values could be typed: ${leftOutText(leftOut)}; give the columns: { "source": "inline", "fields": [...] }`,
      { retryable: false },
    );
  }
  return { schema, sampledRecords: values.length, leftOut };
}

/** The body of a registration with `infer` resolved to the inline schema it proposes. */
export async function resolveInferredSchema(
  deps: { kafka: KafkaAdmin; config: KafkaSettings },
  body: TopicCreateBody,
): Promise<{ body: TopicCreateBody; inferred?: SchemaInference }> {
  if (!isInfer(body.schema)) return { body };
  if ((body.format ?? TOPIC_DEFAULTS.format) !== 'parquet') {
    throw new ValidationError([
      {
        path: 'schema.source',
        message: `"infer" proposes Parquet columns and is only for format "parquet", got format "${body.format ?? TOPIC_DEFAULTS.format}"`,
      },
    ]);
  }
  const inferred = await inferTopicSchema(
    deps.kafka,
    deps.config,
    body.topic,
    body.schema?.sample ?? INFER_SAMPLE_DEFAULT,
  );
  return { body: { ...body, schema: bodySchemaOf(inferred.schema) }, inferred };
}

/**
 * A PUT's `infer`: the schema stored already when it is inline (the topic keeps the columns it
 * was registered or PATCHed with, and a file applied again is unchanged), else inferred as at a
 * registration (a new topic, or one changing to Parquet).
 */
export async function resolvePutSchema(
  deps: { kafka: KafkaAdmin; config: KafkaSettings },
  topic: string,
  stored: TopicRecord | undefined,
  body: TopicPutBody,
): Promise<TopicPutBody> {
  if (!isInfer(body.schema)) return body;
  if (stored?.schema?.source === 'inline' && (body.format ?? TOPIC_DEFAULTS.format) === 'parquet') {
    return { ...body, schema: bodySchemaOf(structuredClone(stored.schema)) };
  }
  const resolved = await resolveInferredSchema(deps, { ...body, topic } as TopicCreateBody);
  return { ...body, schema: resolved.body.schema };
}
