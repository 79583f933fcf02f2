/**
 * Creating a replay from a `POST /api/v1/replays` body: check the request, take the topic's
 * output settings with what the request changes, refuse a destination that is somebody else's
 * folder (topics/output-folders.ts), resolve the window against what Kafka has now, and store the replay. The route only
 * answers with what this returns; the leader's replay runner (replay-runner.ts) does the rest.
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
  type TopicRecord,
  topicConfigProblems,
  topicNameProblem,
  topicRoot,
  ValidationError,
  withFormatCompression,
  type ZkSession,
} from '@sluice/shared';
import type { ApiDeps } from '../api/api-deps.ts';
import { requestOffsetProblems } from '../api/common-schemas.ts';
import type { ReplayBody } from '../api/replay-schemas.ts';
import { requireTopicMetadata } from '../kafka/kafka-view.ts';
import { createReplay, listReplays } from '../stores/replay-store.ts';
import { notRegistered, readTopic } from '../stores/topic-store.ts';
import { refuseFolderInUse } from '../topics/output-folders.ts';
import { refuseTinyRanges } from '../topics/topic-request.ts';
import {
  type KafkaBounds,
  newReplayId,
  type ReplayRecord,
  type ReplayWindow,
  resolveWindow,
} from './replay-record.ts';

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
  const problems: Problem[] = requestOffsetProblems({ fromOffset: body.fromOffset, toOffset: body.toOffset });
  // A refused offset is reported and not read further (the answer is 400 anyway).
  const offsetText = (v: string | undefined) =>
    v === undefined || problems.length > 0 ? null : BigInt(v).toString();
  const byOffset = body.fromOffset !== undefined || body.toOffset !== undefined;
  const byTime = body.fromTimestamp !== undefined || body.toTimestamp !== undefined;
  if (byOffset && byTime) {
    problems.push({ path: 'fromTimestamp', message: 'give offsets or timestamps, not both' });
  }
  const w: ReplayWindow = {
    partition: body.partition ?? null,
    fromOffset: offsetText(body.fromOffset),
    toOffset: offsetText(body.toOffset),
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
  deps: Pick<ApiDeps, 'config'>,
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

/** The output of a replay: the topic's, with what the request changes; every problem at once. */
function replayOutput(topic: TopicRecord, body: ReplayBody): OutputSpec {
  const destination = normalizeDestination({
    bucket: body.destination.bucket,
    prefix: body.destination.prefix ?? '',
  });
  const { compressionLevel, ...topicOutput } = outputSpecOf(topic);
  // The topic's level only goes with the topic's codec (see patchedTopicRecord).
  const keepsCodec = !body.compression || body.compression === topic.compression;
  // An avro replay's `gzip` is Avro's `deflate`, as for a registration.
  const output: OutputSpec = withFormatCompression({
    ...topicOutput,
    ...(keepsCodec && compressionLevel !== undefined ? { compressionLevel } : {}),
    destination,
    ...(body.format ? { format: body.format } : {}),
    ...(body.compression ? { compression: body.compression } : {}),
    ...(body.partitionBy ? { partitionBy: body.partitionBy } : {}),
    ...(body.serverSideEncryption ? { serverSideEncryption: body.serverSideEncryption } : {}),
    ...(body.kmsKeyId !== undefined ? { kmsKeyId: body.kmsKeyId } : {}),
    ...(body.storageClass ? { storageClass: body.storageClass } : {}),
  });
  // A replay into another format than Parquet does not carry the topic's columns along.
  if (output.format !== 'parquet') delete output.schema;
  const problems: Problem[] = [];
  const bucketProblem = bucketNameProblem(destination.bucket);
  if (bucketProblem) problems.push({ path: 'destination.bucket', message: bucketProblem });
  const pp = prefixProblem(destination.prefix, topic.topic);
  if (pp) problems.push({ path: 'destination.prefix', message: pp });
  problems.push(
    ...topicConfigProblems({
      partitionBy: output.partitionBy,
      kmsKeyId: output.kmsKeyId,
      serverSideEncryption: output.serverSideEncryption,
      storageClass: output.storageClass,
      format: output.format,
      compression: output.compression,
      // The topic's schema goes with it: an avro or parquet replay of a topic without one (or with
      // the other format's) is refused.
      ...((output.format === 'avro' || output.format === 'parquet') && output.schema
        ? { schema: output.schema }
        : {}),
      // The topic's key template, against the replay's partitionBy.
      ...(output.keyTemplate !== undefined ? { keyTemplate: output.keyTemplate } : {}),
    }),
  );
  if (problems.length > 0) throw new ValidationError(problems);
  return output;
}

/**
 * Refuses a replay while `cap` replays run (SLUICE_MAX_RUNNING_REPLAYS): each runs lines of
 * ranges beside the topics' ingestion, so their number is bounded. Refused rather than queued,
 * so that the answer says at once what happens. Two requests at the same instant may both pass
 * (one over the cap): a bound on work, not a lock.
 */
async function refuseBeyondCap(zk: ZkSession, cap: number): Promise<void> {
  const running = (await listReplays(zk)).filter((r) => r.state === 'running');
  if (running.length < cap) return;
  throw new SluiceError(
    ErrorCodes.LIMIT_REACHED,
    `the running replays (${running.length}: ${running
      .slice(0, 5)
      .map((r) => r.id)
      .join(
        ', ',
      )}${running.length > 5 ? ', …' : ''}) reach SLUICE_MAX_RUNNING_REPLAYS=${cap}; wait until one finishes (GET /api/v1/replays), cancel one (DELETE /api/v1/replays/{id}), or raise SLUICE_MAX_RUNNING_REPLAYS on the masters`,
  );
}

/** What Kafka has now for the window's partitions (and its times, when it has them). */
async function kafkaBounds(
  deps: Pick<ApiDeps, 'config' | 'kafka'>,
  topic: TopicRecord,
  window: ReplayWindow,
): Promise<KafkaBounds[]> {
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
  return offsets.map((o) => ({
    partition: o.partition,
    earliest: o.earliest,
    lastStable: o.lastStable,
    atFrom: atFrom!.get(o.partition) ?? null,
    atTo: atTo!.get(o.partition) ?? null,
  }));
}

/**
 * Store the replay a request asks for, every problem of the request reported at once (400),
 * and answer the stored record with the folder it writes to.
 */
export async function createReplayFromRequest(
  deps: Pick<ApiDeps, 'config' | 'zk' | 'kafka'>,
  body: ReplayBody,
): Promise<{ record: ReplayRecord; root: string }> {
  const zk = deps.zk();
  const topicProblem = topicNameProblem(body.topic);
  if (topicProblem) throw new ValidationError([{ path: 'topic', message: topicProblem }]);
  const window = windowOf(body);
  refuseTinyRanges(body, deps.config);
  const stored = await readTopic(zk, body.topic);
  if (!stored) throw notRegistered(body.topic);
  const topic = stored.record;
  const output = replayOutput(topic, body);
  await refuseBeyondCap(zk, deps.config.maxRunningReplays);
  const root = topicRoot(output.destination.prefix, topic.topic);
  await refuseFolderInUse(zk, { what: 'the replay', bucket: output.destination.bucket, root });
  const resolved = resolveWindow(window, await kafkaBounds(deps, topic, window));

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
  return { record, root };
}
