/**
 * The two ways a topic's config is written, one code path each whoever asks: a registration
 * (POST, and a PUT of a topic not registered) and a change (PATCH, and a PUT that changes
 * fields). A PUT reuses them rather than repeating their checks, so a rule added to one (the
 * destination rule of the lifecycle issue, a new probe) holds for every route.
 */
import type { Logger, TopicConfig, TopicRecord } from '@sluice/shared';
import type { ApiDeps } from '../api/api-deps.ts';
import type { TopicCreateBody, TopicPatchBody } from '../api/topic-schemas.ts';
import { requireTopicMetadata } from '../kafka/kafka-view.ts';
import type { OutputStore } from '../stores/output-store.ts';
import { createTopic, notRegistered, readTopic, updateTopic } from '../stores/topic-store.ts';
import { writeConfigObject } from './config-object-writer.ts';
import { checkTopicEventTime } from './event-time-check.ts';
import { refuseFolderInUse, topicFolder } from './output-folders.ts';
import {
  newTopicRecord,
  patchedTopicRecord,
  refuseTinyRanges,
  topicConfigFromBody,
} from './topic-request.ts';
import { resumingRegistration } from './topic-resume.ts';

/** What a write needs of the master (the API has more; the patterns' discovery has just this). */
export type RegistrationDeps = Pick<ApiDeps, 'zk' | 'kafka' | 'config' | 'checkDestination'>;

/** What a write needs: the master's dependencies, the destination store and a logger. */
export interface TopicWriteContext {
  deps: RegistrationDeps;
  store: () => OutputStore;
  log: Pick<Logger, 'info' | 'warn'>;
}

/**
 * The checks of a registration (and of its dry run) that need neither Kafka nor S3: the body's
 * rules and range minimums, and another topic's or a running replay's folder.
 */
export async function checkRegistrationBody(
  deps: RegistrationDeps,
  body: TopicCreateBody,
): Promise<TopicConfig> {
  refuseTinyRanges(body, deps.config);
  const config = topicConfigFromBody(body);
  await refuseFolderInUse(deps.zk(), topicFolder(config), config.topic);
  return config;
}

/**
 * Registers a topic: validation, the folder overlap check, Kafka's metadata, the destination
 * probe, where each partition starts, the event-time sample; then ZooKeeper and the config object.
 * The topic patterns' discovery registers through here too (`pattern`: the one that brought it in),
 * so a topic a pattern takes follows exactly the rules of a registration by name.
 */
export async function registerTopic(
  ctx: TopicWriteContext,
  body: TopicCreateBody,
  pattern?: string,
): Promise<TopicRecord> {
  const { deps } = ctx;
  const config = await checkRegistrationBody(deps, body);
  const meta = await requireTopicMetadata(deps.kafka, config.topic);
  const fresh = {
    ...newTopicRecord(config, meta.topicId, new Date()),
    ...(pattern !== undefined ? { pattern } : {}),
  };
  await deps.checkDestination(fresh.topic, fresh);
  const record = await resumingRegistration(
    deps.kafka,
    ctx.store(),
    fresh,
    meta.partitions,
    body.resume ?? true,
  );
  await checkTopicEventTime(deps.kafka, deps.config, record, meta.partitions, 'starts');
  await createTopic(deps.zk(), record);
  await writeConfigObject(ctx.store(), record, ctx.log);
  ctx.log.info(
    { topic: record.topic, topicId: record.topicId, starts: record.starts, pattern },
    'topic registered',
  );
  return record;
}

/**
 * Checks a change before anything is stored, and answers the record it would make: the range
 * minimums; a new destination proved writable and its folder free, a new event-time
 * partitioning readable in a sample of the topic's newest records. `unset` names fields the
 * change removes (PUT's omitted optional fields).
 */
export async function checkTopicChange(
  deps: RegistrationDeps,
  topic: string,
  patch: TopicPatchBody,
  now: Date,
  unset: readonly string[] = [],
): Promise<TopicRecord> {
  refuseTinyRanges(patch, deps.config);
  const stored = await readTopic(deps.zk(), topic);
  if (!stored) throw notRegistered(topic);
  const next = patchedTopicRecord(stored.record, patch, now, unset);
  if (patch.destination) {
    await refuseFolderInUse(deps.zk(), topicFolder(next), topic);
    await deps.checkDestination(topic, next);
  }
  if (patch.partitionBy) {
    const meta = await requireTopicMetadata(deps.kafka, topic);
    await checkTopicEventTime(deps.kafka, deps.config, next, meta.partitions, 'end');
  }
  return next;
}

/** Changes a registered topic (after {@link checkTopicChange}); ranges planned afterwards follow it. */
export async function changeTopic(
  ctx: TopicWriteContext,
  topic: string,
  patch: TopicPatchBody,
  unset: readonly string[] = [],
): Promise<TopicRecord> {
  const now = new Date();
  await checkTopicChange(ctx.deps, topic, patch, now, unset);
  const record = await updateTopic(ctx.deps.zk(), topic, (r) => patchedTopicRecord(r, patch, now, unset));
  await writeConfigObject(ctx.store(), record, ctx.log);
  ctx.log.info({ topic: record.topic, fields: [...Object.keys(patch), ...unset] }, 'topic changed');
  return record;
}
