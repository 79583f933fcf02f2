/**
 * Topic records in ZooKeeper (`/sluice/topics/{topic}`), as the API reads and writes them. Any
 * master may write here; the leader watches the node and acts on what it finds. Creating the
 * node is the "already registered" check; changes are version-checked `setData`s that re-read
 * and re-apply on `BAD_VERSION`, so two masters changing one topic never lose an update.
 */
import {
  decodeJson,
  ErrorCodes,
  encodeJson,
  isNodeExists,
  isNoNode,
  SluiceError,
  TOPICS_PATH,
  type TopicRecord,
  topicPath,
  type ZkSession,
} from '@sluice/shared';
import { updateJsonNode } from './versioned-update.ts';

export interface StoredTopic {
  record: TopicRecord;
  version: number;
}

export function notRegistered(topic: string): SluiceError {
  return new SluiceError(
    ErrorCodes.TOPIC_NOT_REGISTERED,
    `topic "${topic}" is not registered with Sluice; register it with POST /api/v1/topics`,
  );
}

export async function readTopic(zk: ZkSession, topic: string): Promise<StoredTopic | null> {
  const node = await zk.get(topicPath(topic));
  if (!node) return null;
  return { record: decodeJson<TopicRecord>(node.data, `topic node ${topic}`), version: node.version };
}

/** Every registered topic, sorted by name. A topic removed while listing is left out. */
export async function listTopics(zk: ZkSession): Promise<StoredTopic[]> {
  const names = (await zk.children(TOPICS_PATH)).sort();
  const topics = await Promise.all(names.map((n) => readTopic(zk, n)));
  return topics.filter((t): t is StoredTopic => t !== null);
}

/** Creates the topic's node; `TOPIC_EXISTS` when it is already registered (or being deleted). */
export async function createTopic(zk: ZkSession, record: TopicRecord): Promise<void> {
  const path = topicPath(record.topic);
  for (let i = 0; ; i++) {
    try {
      await zk.create(path, encodeJson(record));
      return;
    } catch (err) {
      if (isNoNode(err) && i === 0) {
        // No master has created the base paths yet in this ZooKeeper.
        await zk.mkdirp(TOPICS_PATH);
        continue;
      }
      if (!isNodeExists(err)) throw err;
      const existing = await readTopic(zk, record.topic);
      const deleting = existing?.record.state === 'deleting';
      throw new SluiceError(
        ErrorCodes.TOPIC_EXISTS,
        deleting
          ? `topic "${record.topic}" is still being deleted; register it again once GET /api/v1/topics/${record.topic} answers 404`
          : `topic "${record.topic}" is already registered; change it with PATCH /api/v1/topics/${record.topic}`,
      );
    }
  }
}

/**
 * Applies `change` to the stored record with a version-checked write, re-reading and
 * re-applying it when another writer got there first. Returns the record as written (or as
 * read, when `change` returned it unchanged).
 */
export function updateTopic(
  zk: ZkSession,
  topic: string,
  change: (record: TopicRecord) => TopicRecord,
): Promise<TopicRecord> {
  return updateJsonNode(zk, topicPath(topic), `topic "${topic}"`, change, () => notRegistered(topic));
}
