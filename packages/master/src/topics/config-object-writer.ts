/**
 * Writes a topic's config object (`{prefix}/{topic}/_sluice/config.json`, see
 * packages/shared/src/topic-config-object.ts) into its current destination after the topic's
 * record changed in ZooKeeper: at registration, on every PATCH and at recovery. It is what
 * `sluice recover` registers the topic from when ZooKeeper's data is lost.
 *
 * It is written into every destination the topic has had (its past ones too): an operator who
 * recovers from a destination the topic left then still gets the topic's current config, and
 * its data goes on where it goes now, not back into the old destination.
 *
 * Written after ZooKeeper, never before: a refused registration must not replace the config
 * object of the topic already registered. A failed write does not undo the change (ZooKeeper
 * is where it counts while it lives); it is logged with the way to write it again.
 */
import {
  configObjectKey,
  destinationsOf,
  errorText,
  type Logger,
  type TopicRecord,
  topicConfigObject,
} from '@sluice/shared';
import type { OutputStore } from '../stores/output-store.ts';

/** Writes the record's config object into each of its destinations; false (after logging why) when S3 refused one. */
export async function writeConfigObject(
  store: Pick<OutputStore, 'putJson'>,
  record: TopicRecord,
  log: Pick<Logger, 'warn'>,
  now = new Date(),
): Promise<boolean> {
  const object = topicConfigObject(record, now);
  let all = true;
  for (const { bucket, prefix } of destinationsOf(record)) {
    const key = configObjectKey(prefix, record.topic);
    try {
      await store.putJson(bucket, key, object, 'replace');
    } catch (err) {
      // A past destination's bucket may be gone; the current one was just proved writable.
      log.warn(
        { topic: record.topic, bucket, key, err: errorText(err) },
        'config object not written; any PATCH of the topic writes it again',
      );
      all = false;
    }
  }
  return all;
}
