/**
 * Each writer's folder is its own: a topic writes under `{prefix}/{topic}/` of its bucket and a
 * running replay under its own, and no two of these folders may be equal or one inside the
 * other. Object keys are offsets, so two writers in one folder would name the same objects and
 * commit records, and the audit and the finalizer of either would take the other's objects for
 * their own. This is the one check, used by topic registration, a topic's destination change
 * and replays.
 */
import { ErrorCodes, SluiceError, topicRoot, type ZkSession } from '@sluice/shared';
import { listReplays } from '../stores/replay-store.ts';
import { listTopics } from '../stores/topic-store.ts';

export interface OutputFolder {
  /** What the folder belongs to, for the message: `topic "clicks"`, `replay r-…`. */
  what: string;
  bucket: string;
  /** `{prefix}/{topic}/` */
  root: string;
}

/** A topic's folder: `{prefix}/{topic}/` of its destination bucket. */
export function topicFolder(t: {
  topic: string;
  destination: { bucket: string; prefix: string };
}): OutputFolder {
  return {
    what: `topic "${t.topic}"`,
    bucket: t.destination.bucket,
    root: topicRoot(t.destination.prefix, t.topic),
  };
}

/**
 * Why `dest` may not be written, or null: it is inside a folder another writer owns, or holds
 * one. The message names the other writer and its folder.
 */
export function destinationConflict(dest: OutputFolder, others: readonly OutputFolder[]): string | null {
  for (const o of others) {
    if (o.bucket !== dest.bucket) continue;
    if (dest.root.startsWith(o.root)) {
      return `s3://${dest.bucket}/${dest.root} is inside the folder of ${o.what} (s3://${o.bucket}/${o.root}); choose a prefix outside it (each topic and replay writes to a folder of its own)`;
    }
    if (o.root.startsWith(dest.root)) {
      return `s3://${dest.bucket}/${dest.root} holds the folder of ${o.what} (s3://${o.bucket}/${o.root}); choose a prefix that does not hold it`;
    }
  }
  return null;
}

/**
 * The folders written now: every registered topic's (one being deleted still finishes its
 * ranges there) and every running replay's, except the topic named `exceptTopic` (a topic
 * changing its own destination, or registered again under its own name).
 */
export async function foldersInUse(zk: ZkSession, exceptTopic?: string): Promise<OutputFolder[]> {
  const [topics, replays] = await Promise.all([listTopics(zk), listReplays(zk)]);
  return [
    ...topics.filter((t) => t.record.topic !== exceptTopic).map((t) => topicFolder(t.record)),
    ...replays
      .filter((r) => r.state === 'running')
      .map((r) => ({
        what: `replay ${r.id}`,
        bucket: r.output.destination.bucket,
        root: topicRoot(r.output.destination.prefix, r.topic),
      })),
  ];
}

/**
 * Refuses (409 SLUICE_ERR_DESTINATION_OVERLAP) a folder that overlaps one in use. Two requests
 * racing each other can both pass: the check guards against mistakes, not against a second
 * operator typing the same prefix in the same second.
 */
export async function refuseFolderInUse(
  zk: ZkSession,
  dest: OutputFolder,
  exceptTopic?: string,
): Promise<void> {
  const conflict = destinationConflict(dest, await foldersInUse(zk, exceptTopic));
  if (conflict) {
    throw new SluiceError(ErrorCodes.DESTINATION_OVERLAP, `destination.prefix: ${conflict}`);
  }
}
