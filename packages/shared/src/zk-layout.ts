/**
 * The ZooKeeper path layout. Everything lives under `/sluice` (below the connect string's
 * chroot, if any). Topic names are validated with Kafka's rule before they reach a path.
 *
 *   /sluice/layout                                     persistent: {@link LayoutRecord}: the tree's layout version (leader only, fenced)
 *   /sluice/leader                                     persistent: {@link LeaderRecord}; its version is the election epoch
 *   /sluice/election/c-0000000007                      ephemeral sequential: one per master; the lowest leads
 *   /sluice/workers/{workerId}                         ephemeral: {@link WorkerRegistration}
 *   /sluice/topics/{topic}                             persistent: TopicRecord (any master writes; the leader acts)
 *   /sluice/topics/{topic}/partitions/{p}              persistent: PartitionState (leader only, fenced)
 *   /sluice/topics/{topic}/partitions/{p}/{s20}-{e20}  persistent: RangeRecord while in flight; pruned once committed
 *   /sluice/patterns/{name}                            persistent: a topic pattern (any master writes; the leader's discovery reads)
 *   /sluice/retries/{rangeId}                          persistent: an operator's retry request for the leader
 *   /sluice/topics/{topic}/finalizer                   persistent: the hour finalizer's progress (leader only, fenced)
 *   /sluice/topics/{topic}/audit                       persistent: the leader's continuous audit (leader only, fenced)
 *   /sluice/topics/{topic}/verify/{name}               persistent: VerifyMismatch written by a worker (SLUICE_VERIFY_ON_RETRY)
 *   /sluice/replays/{id}                               persistent: a replay (any master creates it; the leader plans it)
 *   /sluice/replays/{id}/partitions/{p}                persistent: the replay's partition progress (leader only, fenced)
 *   /sluice/replays/{id}/partitions/{p}/{s20}-{e20}    persistent: RangeRecord of a replay range while in flight
 *   /sluice/topics-file                                persistent: the leader's last report on SLUICE_TOPICS_FILE (topics-file-loop.ts)
 *
 * A topic's node may have children other than `partitions`; whoever removes the topic removes them.
 * Every JSON node carries its record version `v`; the tree as a whole carries a layout version
 * (layout-version.ts), which the fenced leader migrates once after an upgrade.
 */
import { rangeNodeName } from './offset-range.ts';

export const ROOT = '/sluice';
export const LEADER_PATH = `${ROOT}/leader`;
/** The tree's layout version; absent in a tree written only by releases before layouts were versioned. */
export const LAYOUT_PATH = `${ROOT}/layout`;
export const ELECTION_PATH = `${ROOT}/election`;
export const ELECTION_PREFIX = `${ELECTION_PATH}/c-`;
export const WORKERS_PATH = `${ROOT}/workers`;
export const TOPICS_PATH = `${ROOT}/topics`;
export const RETRIES_PATH = `${ROOT}/retries`;
/**
 * What the leader last did with the topics file (SLUICE_TOPICS_FILE): kept in ZooKeeper so
 * every master's status shows it, and so a new leader does not re-apply a file already applied
 * (API writes made since stay until the file changes). Created on first use.
 */
export const TOPICS_FILE_REPORT_PATH = `${ROOT}/topics-file`;

/**
 * `/sluice/patterns/{name}`: topic patterns (topic-pattern.ts). Created on first use (mkdirp):
 * an installation without patterns has no node, and older releases never look here.
 */
export const PATTERNS_PATH = `${ROOT}/patterns`;

export function patternPath(name: string): string {
  return `${PATTERNS_PATH}/${name}`;
}

/**
 * `/sluice/abandoned/{topic}/{name}`: what a forced DELETE abandoned (`AbandonedRecord`). Kept
 * outside the topic's node on purpose: the topic's node goes with the deletion, this record
 * stays, so the audit of a later registration still knows those offsets were given up.
 * Created on first use (mkdirp), never removed by Sluice.
 */
export const ABANDONED_PATH = `${ROOT}/abandoned`;

export function abandonedTopicPath(topic: string): string {
  return `${ABANDONED_PATH}/${topic}`;
}

export function abandonedPath(topic: string, name: string): string {
  return `${abandonedTopicPath(topic)}/${name}`;
}

/** Paths every program may assume exist once a master has started. */
export const BASE_PATHS = [ROOT, ELECTION_PATH, WORKERS_PATH, TOPICS_PATH, RETRIES_PATH] as const;

export function topicPath(topic: string): string {
  return `${TOPICS_PATH}/${topic}`;
}

export function partitionsPath(topic: string): string {
  return `${topicPath(topic)}/partitions`;
}

export function partitionPath(topic: string, partition: number): string {
  return `${partitionsPath(topic)}/${partition}`;
}

export function rangePath(r: { topic: string; partition: number; start: bigint; end: bigint }): string {
  return `${partitionPath(r.topic, r.partition)}/${rangeNodeName(r)}`;
}

/** Worker ids become path segments: letters, digits, `.`, `_`, `-`, at most 128. */
export function workerIdProblem(id: string): string | null {
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(id) || id === '.' || id === '..') {
    return 'must be 1 to 128 of letters, digits, ".", "_" and "-"';
  }
  return null;
}

export function workerPath(workerId: string): string {
  return `${WORKERS_PATH}/${workerId}`;
}

export const REPLAYS_PATH = `${ROOT}/replays`;

export function finalizerPath(topic: string): string {
  return `${topicPath(topic)}/finalizer`;
}

export function auditStatePath(topic: string): string {
  return `${topicPath(topic)}/audit`;
}

export function verifyMismatchesPath(topic: string): string {
  return `${topicPath(topic)}/verify`;
}

/** `{replay.}{partition}-{s20}-{e20}`: one node per range (and replay) verified with a difference. */
export function verifyMismatchPath(
  r: { topic: string; partition: number; start: bigint; end: bigint },
  replay?: string,
): string {
  return `${verifyMismatchesPath(r.topic)}/${replay ? `${replay}.` : ''}${r.partition}-${rangeNodeName(r)}`;
}

/** Replay ids are path segments and job id parts: `r-` then letters, digits and `-`, at most 64. */
export function replayIdProblem(id: string): string | null {
  return /^r-[a-z0-9-]{1,62}$/.test(id) ? null : 'must be "r-" followed by 1 to 62 of a-z, 0-9 and "-"';
}

export function replayPath(id: string): string {
  return `${REPLAYS_PATH}/${id}`;
}

export function replayPartitionsPath(id: string): string {
  return `${replayPath(id)}/partitions`;
}

export function replayPartitionPath(id: string, partition: number): string {
  return `${replayPartitionsPath(id)}/${partition}`;
}

/** The range node of a replay's range (same record and rules as a topic's range). */
export function replayRangePath(
  id: string,
  r: { topic: string; partition: number; start: bigint; end: bigint },
): string {
  return `${replayPartitionPath(id, r.partition)}/${rangeNodeName(r)}`;
}
