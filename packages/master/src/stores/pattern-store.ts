/**
 * Topic patterns in ZooKeeper (`/sluice/patterns/{name}`), as the API writes them and the
 * leader's discovery reads them. Like topic records: creating the node is the "already exists"
 * check, changes are version-checked writes that re-read and re-apply when another master got
 * there first.
 */
import {
  decodeJson,
  ErrorCodes,
  encodeJson,
  isBadVersion,
  isNodeExists,
  isNoNode,
  PATTERNS_PATH,
  type PatternRule,
  patternPath,
  SluiceError,
  type ZkSession,
} from '@sluice/shared';
import type { TopicCreateBody } from '../api/topic-schemas.ts';
import { updateJsonNode } from './versioned-update.ts';

/** What a pattern registers each topic with: a registration's body without its `topic`. */
export type PatternSettings = Omit<TopicCreateBody, 'topic'>;

/** A stored pattern: its rule (topic-pattern.ts), the settings, and when it was made and changed. */
export interface PatternRecord extends PatternRule {
  /** Topics an operator unregistered (DELETE) that this pattern must not register again. */
  deletedTopics: string[];
  settings: PatternSettings;
  updatedAt: string;
}

export function patternNotFound(name: string): SluiceError {
  return new SluiceError(
    ErrorCodes.PATTERN_NOT_FOUND,
    `no topic pattern is named "${name}"; GET /api/v1/patterns lists them`,
  );
}

export async function readPattern(
  zk: ZkSession,
  name: string,
): Promise<{ record: PatternRecord; version: number } | null> {
  const node = await zk.get(patternPath(name));
  if (!node) return null;
  return { record: decodeJson<PatternRecord>(node.data, `pattern node ${name}`), version: node.version };
}

/** Every pattern, sorted by name (none when no pattern was ever made). */
export async function listPatterns(zk: ZkSession): Promise<PatternRecord[]> {
  const names = (await zk.exists(PATTERNS_PATH)) ? (await zk.children(PATTERNS_PATH)).sort() : [];
  const read = await Promise.all(names.map((n) => readPattern(zk, n)));
  return read.flatMap((p) => (p ? [p.record] : []));
}

/** Creates the pattern's node; `PATTERN_EXISTS` when the name is taken. */
export async function createPattern(zk: ZkSession, record: PatternRecord): Promise<void> {
  await zk.mkdirp(PATTERNS_PATH);
  try {
    await zk.create(patternPath(record.name), encodeJson(record));
  } catch (err) {
    if (!isNodeExists(err)) throw err;
    throw new SluiceError(
      ErrorCodes.PATTERN_EXISTS,
      `a topic pattern named "${record.name}" already exists; change it with PATCH /api/v1/patterns/${record.name}, or delete it first`,
    );
  }
}

/** Applies `change` with a version-checked write (re-applied when another writer won). */
export function updatePattern(
  zk: ZkSession,
  name: string,
  change: (record: PatternRecord) => PatternRecord,
): Promise<PatternRecord> {
  return updateJsonNode(zk, patternPath(name), `topic pattern "${name}"`, change, () =>
    patternNotFound(name),
  );
}

/** Removes the pattern's node; the topics it registered stay registered. */
export async function removePattern(zk: ZkSession, name: string): Promise<PatternRecord> {
  const stored = await readPattern(zk, name);
  if (!stored) throw patternNotFound(name);
  try {
    await zk.remove(patternPath(name), stored.version);
  } catch (err) {
    if (isNoNode(err)) throw patternNotFound(name);
    if (isBadVersion(err)) return removePattern(zk, name);
    throw err;
  }
  return stored.record;
}

/**
 * After DELETE of a topic a pattern registered: the pattern remembers it, so its next discovery
 * pass does not register the topic again against the operator's will. Nothing when the pattern
 * is gone.
 */
export async function rememberDeletedTopic(
  zk: ZkSession,
  pattern: string,
  topic: string,
  now: Date,
): Promise<void> {
  try {
    await updatePattern(zk, pattern, (p) =>
      p.deletedTopics.includes(topic)
        ? p
        : { ...p, deletedTopics: [...p.deletedTopics, topic].sort(), updatedAt: now.toISOString() },
    );
  } catch (err) {
    if (!(err instanceof SluiceError && err.code === ErrorCodes.PATTERN_NOT_FOUND)) throw err;
  }
}
