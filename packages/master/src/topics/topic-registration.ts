/**
 * Registering one topic, the one path every registration takes: POST /api/v1/topics and the
 * topic patterns' discovery (pattern-discovery.ts) alike, so that a topic a pattern brings in
 * is validated, checked against Kafka and S3, and started (or resumed after its commit records)
 * by exactly the rules of a registration by name.
 */
import type { Logger, TopicConfig, TopicRecord } from '@sluice/shared';
import type { ApiDeps } from '../api/api-deps.ts';
import type { TopicCreateBody } from '../api/topic-schemas.ts';
import { requireTopicMetadata } from '../kafka/kafka-view.ts';
import type { OutputStore } from '../stores/output-store.ts';
import { createTopic } from '../stores/topic-store.ts';
import { writeConfigObject } from './config-object-writer.ts';
import { checkTopicEventTime } from './event-time-check.ts';
import { refuseFolderInUse, topicFolder } from './output-folders.ts';
import { newTopicRecord, refuseTinyRanges, topicConfigFromBody } from './topic-request.ts';
import { resumingRegistration } from './topic-resume.ts';

/** What a registration needs of the master. */
export type RegistrationDeps = Pick<ApiDeps, 'zk' | 'kafka' | 'config' | 'checkDestination'>;

/**
 * The checks that need neither Kafka nor S3: range minimums, the config's own rules, and a
 * destination folder of another topic or running replay. Returns the config to register.
 */
export async function checkedRegistration(
  deps: RegistrationDeps,
  body: TopicCreateBody,
): Promise<TopicConfig> {
  refuseTinyRanges(body, deps.config);
  const config = topicConfigFromBody(body);
  await refuseFolderInUse(deps.zk(), topicFolder(config), config.topic);
  return config;
}

/**
 * Registers `body`'s topic: looks it up in Kafka, proves the destination writable, decides
 * each partition's start, checks event time, stores the record (with `pattern` when a pattern
 * brought it in) and the config object in S3. Throws the SluiceError to answer with.
 */
export async function registerTopic(
  deps: RegistrationDeps,
  store: OutputStore,
  body: TopicCreateBody,
  log: Pick<Logger, 'info' | 'warn'>,
  pattern?: string,
): Promise<TopicRecord> {
  const config = await checkedRegistration(deps, body);
  const meta = await requireTopicMetadata(deps.kafka, config.topic);
  const fresh = {
    ...newTopicRecord(config, meta.topicId, new Date()),
    ...(pattern !== undefined ? { pattern } : {}),
  };
  await deps.checkDestination(fresh.topic, fresh);
  const record = await resumingRegistration(deps.kafka, store, fresh, meta.partitions, body.resume ?? true);
  await checkTopicEventTime(deps.kafka, deps.config, record, meta.partitions, 'starts');
  await createTopic(deps.zk(), record);
  await writeConfigObject(store, record, log);
  log.info(
    { topic: record.topic, topicId: record.topicId, starts: record.starts, pattern },
    'topic registered',
  );
  return record;
}
