/**
 * Writes a topic's config object (`{prefix}/{topic}/_sluice/config.json`, see
 * packages/shared/src/topic-config-object.ts) into its current destination after the topic's
 * record changed in ZooKeeper: at registration, on every PATCH and at recovery. It is what
 * `sluice recover` registers the topic from when ZooKeeper's data is lost.
 *
 * Written after ZooKeeper, never before: a refused registration must not replace the config
 * object of the topic already registered. A failed write does not undo the change (ZooKeeper
 * is where it counts while it lives); it is logged with the way to write it again.
 */
import { configObjectKey, errorText, type Logger, type TopicRecord, topicConfigObject } from '@sluice/shared';
import type { OutputStore } from '../stores/output-store.ts';

/** Writes the record's config object; false (after logging why) when S3 refused it. */
export async function writeConfigObject(
  store: Pick<OutputStore, 'putJson'>,
  record: TopicRecord,
  log: Pick<Logger, 'warn'>,
  now = new Date(),
): Promise<boolean> {
  const { bucket, prefix } = record.destination;
  const key = configObjectKey(prefix, record.topic);
  try {
    await store.putJson(bucket, key, topicConfigObject(record, now), 'replace');
    return true;
  } catch (err) {
    log.warn(
      { topic: record.topic, bucket, key, err: errorText(err) },
      'config object not written; any PATCH of the topic writes it again',
    );
    return false;
  }
}
