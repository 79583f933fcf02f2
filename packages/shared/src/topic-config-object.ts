/**
 * The config object a topic's folder holds beside its commit records
 * (`{prefix}/{topic}/_sluice/config.json`, object-key.ts). ZooKeeper holds the registrations;
 * if its data is lost, these objects and the commit records are all Sluice needs to register
 * every topic again where it left off (`sluice recover`, issue 15). The master rewrites it at
 * registration and on every change, so it always says what ZooKeeper said last.
 *
 * It holds the registered config (no secrets: a topic config has none; a KMS key id is a
 * name, not a key), Kafka's topic id (a re-created topic must not resume the old one's
 * offsets), the past destinations, where each partition started at registration (partitions
 * that never committed start there again, so nothing produced since is skipped), the layout
 * version of the tree that wrote it, and when it was written; once the topic is deleted, when
 * (a topic an operator unregistered is not brought back by recovery).
 */
import { ZK_LAYOUT_VERSION } from './layout-version.ts';
import type { PartitionStart, PastDestination, TopicConfig, TopicRecord } from './topic-config.ts';

/** What `kind` says: an object of another shape at this key is refused, not guessed at. */
export const CONFIG_OBJECT_KIND = 'sluice-topic-config';

export interface TopicConfigObject {
  kind: typeof CONFIG_OBJECT_KIND;
  /** Version of this object's own shape. */
  v: 1;
  /** The ZooKeeper layout of the release that wrote it (layout-version.ts). */
  layoutVersion: number;
  writtenAt: string;
  topicId: string;
  config: TopicConfig;
  pastDestinations: PastDestination[];
  /** The registration's `starts` (topic-config.ts), absent when it had none. */
  starts?: PartitionStart[];
  createdAt: string;
  /**
   * When the topic was unregistered (DELETE): recovery does not register it again. Absent while
   * it is registered; a new registration writes the object without it.
   */
  deletedAt?: string;
}

/** The config object of a stored record, written at `now`. */
export function topicConfigObject(record: TopicRecord, now: Date): TopicConfigObject {
  const {
    topicId,
    paused: _paused,
    state: _state,
    error: _error,
    createdAt,
    updatedAt: _updatedAt,
    resume: _resume,
    starts,
    pastDestinations,
    ...config
  } = record;
  return {
    kind: CONFIG_OBJECT_KIND,
    v: 1,
    layoutVersion: ZK_LAYOUT_VERSION,
    writtenAt: now.toISOString(),
    topicId,
    config,
    pastDestinations: pastDestinations ?? [],
    ...(starts ? { starts } : {}),
    createdAt,
    ...(record.state === 'deleting' ? { deletedAt: record.updatedAt } : {}),
  };
}

/**
 * Reads a config object's text back; a string saying what is wrong with it when it is not one
 * this release can use (not JSON, another shape, a newer version).
 */
export function parseTopicConfigObject(text: string): TopicConfigObject | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'is not JSON';
  }
  const o = value as Partial<TopicConfigObject> | null;
  if (!o || typeof o !== 'object' || o.kind !== CONFIG_OBJECT_KIND)
    return `is not a Sluice topic config object (kind is not "${CONFIG_OBJECT_KIND}")`;
  if (o.v !== 1)
    return `has version ${String(o.v)}, which this release cannot read; recover with a newer release`;
  if (
    typeof o.topicId !== 'string' ||
    !o.config ||
    typeof o.config.topic !== 'string' ||
    !o.config.destination
  )
    return 'lacks its topic id or config';
  return {
    ...(o as TopicConfigObject),
    pastDestinations: Array.isArray(o.pastDestinations) ? o.pastDestinations : [],
  };
}
