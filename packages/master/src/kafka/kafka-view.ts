/**
 * What the API asks Kafka: a topic's metadata (registration) and its partitions' offsets
 * (progress views). Views degrade instead of failing: when Kafka cannot be asked, the answer
 * still carries what ZooKeeper knows, with `kafkaError` saying why offsets are missing.
 */
import {
  ErrorCodes,
  errorText,
  isSluiceError,
  type KafkaAdmin,
  type KnownOffsets,
  type PartitionOffsets,
  SluiceError,
  type TopicMetadata,
  type TopicOffsets,
  type TopicOffsetsOptions,
} from '@sluice/shared';

/** How long a view waits for Kafka before answering without it. */
export const KAFKA_VIEW_TIMEOUT_MS = 5_000;

export interface KafkaTopicView {
  /** Null when Kafka does not have the topic or could not be asked. */
  metadata: TopicMetadata | null;
  offsets: Map<number, PartitionOffsets>;
  /** Why metadata or offsets are missing, or null. */
  error: string | null;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new SluiceError(ErrorCodes.KAFKA, `Kafka did not answer ${what} within ${ms} ms`, {
            retryable: true,
          }),
        ),
      ms,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function kafkaFailure(err: unknown, what: string): SluiceError {
  if (isSluiceError(err)) return err;
  return new SluiceError(
    ErrorCodes.KAFKA,
    `Kafka ${what} failed: ${errorText(err)}; check SLUICE_KAFKA_BROKERS`,
    {
      retryable: true,
      cause: err,
    },
  );
}

/** Registration: the topic's metadata, or 404 when Kafka does not have it. */
export async function requireTopicMetadata(
  kafka: KafkaAdmin,
  topic: string,
  timeoutMs = KAFKA_VIEW_TIMEOUT_MS,
): Promise<TopicMetadata> {
  let meta: TopicMetadata | null | undefined;
  try {
    meta = (await withTimeout(kafka.topicMetadata([topic]), timeoutMs, 'a metadata request')).get(topic);
  } catch (err) {
    throw kafkaFailure(err, 'metadata request');
  }
  if (!meta) {
    throw new SluiceError(
      ErrorCodes.TOPIC_NOT_IN_KAFKA,
      `Kafka has no topic "${topic}"; create it in Kafka first (names are case-sensitive)`,
    );
  }
  return meta;
}

/**
 * Metadata and offsets of several topics, asked together (`topicOffsets`: one Metadata
 * request and a ListOffsets request per broker per column, whatever the number of topics;
 * with `known`, partitions whose watermark did not move cost only that watermark).
 */
export async function kafkaTopicViews(
  kafka: KafkaAdmin,
  topics: string[],
  timeoutMs = KAFKA_VIEW_TIMEOUT_MS,
  known?: KnownOffsets,
  options?: TopicOffsetsOptions,
): Promise<Map<string, KafkaTopicView>> {
  const out = new Map<string, KafkaTopicView>();
  if (topics.length === 0) return out;
  let answers: Map<string, TopicOffsets>;
  try {
    answers = await withTimeout(kafka.topicOffsets(topics, known, options), timeoutMs, 'an offsets request');
  } catch (err) {
    const error = kafkaFailure(err, 'offsets request').message;
    for (const t of topics) out.set(t, { metadata: null, offsets: new Map(), error });
    return out;
  }
  for (const t of topics) {
    const a = answers.get(t);
    const offsets = new Map((a?.offsets ?? []).map((o) => [o.partition, o]));
    const error = a?.error ? a.error.message : a?.metadata ? null : `Kafka has no topic "${t}"`;
    out.set(t, { metadata: a?.metadata ?? null, offsets, error });
  }
  return out;
}
