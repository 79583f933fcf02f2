/**
 * A replay: an offset window of a registered topic exported again, to another prefix or with
 * another format or compression, as ordinary ranges with their own commit records, while the
 * topic's own ingestion carries on. Pure: records, window resolution, destination rules.
 *
 * ZooKeeper (zk-layout.ts):
 *
 *   /sluice/replays/{id}                               ReplayRecord: the request, resolved to fixed
 *                                                      offsets per partition when it was made
 *   /sluice/replays/{id}/partitions/{p}                ReplayPartitionState (leader only, fenced)
 *   /sluice/replays/{id}/partitions/{p}/{s20}-{e20}    RangeRecord, exactly as a topic's range
 *
 * Any master creates the first two levels in one multi (like a topic registration); the leader
 * plans the window's ranges (replay-runner.ts), commits and supervises them by the rules of
 * exactly-once.ts, and marks the replay done. Workers find a replay's range node through the
 * job's `replay` field. Keys follow the same grammar under the replay's prefix, the topic's
 * name included: `{replayPrefix}/{topic}/dt=…/{topic}-{p}-{s20}-{e20}.jsonl.gz`, commit records
 * under `{replayPrefix}/{topic}/_sluice/commits/`.
 */
import type { OutputSpec } from '@sluice/shared';

export type ReplayState = 'running' | 'done' | 'cancelled';

/** What was asked for; offsets as decimal strings, timestamps in ms. */
export interface ReplayWindow {
  partition: number | null;
  fromOffset: string | null;
  toOffset: string | null;
  fromTimestamp: number | null;
  toTimestamp: number | null;
}

/** One partition's fixed offsets, [start, end). */
export interface ReplayPartitionPlan {
  partition: number;
  start: string;
  end: string;
}

export interface ReplayRecord {
  v: 1;
  id: string;
  topic: string;
  topicId: string;
  output: OutputSpec;
  maxRangeMessages: number;
  maxRangeBytes: number;
  window: ReplayWindow;
  partitions: ReplayPartitionPlan[];
  /** What resolving the window changed (bounds moved to what Kafka still has). */
  notes: string[];
  state: ReplayState;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

/** `/sluice/replays/{id}/partitions/{p}`: like a topic's PartitionState, with the fixed end. */
export interface ReplayPartitionState {
  v: 1;
  partition: number;
  start: string;
  end: string;
  /** First offset of the window not yet in S3. */
  committedOffset: string;
  committedRecords: number;
  committedBytes: number;
  committedRanges: number;
  gapOffsets: string;
  updatedAt: string;
}

/** `r-{time}-{random}`: sortable by creation, a valid path segment and job id part. */
export function newReplayId(nowMs: number, random: string): string {
  return `r-${nowMs.toString(36)}-${random.toLowerCase().replace(/[^a-z0-9]/g, '')}`;
}

export interface KafkaBounds {
  partition: number;
  earliest: bigint;
  lastStable: bigint;
  /** First offset with a timestamp at or after the window's start / end (null: none, or not asked). */
  atFrom?: bigint | null;
  atTo?: bigint | null;
}

/**
 * The window resolved against what Kafka has now, one plan per partition. Offsets below the
 * log start are gone (retention) and offsets at or beyond the last stable offset cannot be
 * read yet: the bounds move inside, and a note says so. A timestamp window is the offsets
 * from the first record at or after `fromTimestamp` to the first at or after `toTimestamp`
 * (Kafka's ListOffsets by time; records with older timestamps among them are included).
 */
export function resolveWindow(
  w: ReplayWindow,
  bounds: readonly KafkaBounds[],
): { partitions: ReplayPartitionPlan[]; notes: string[] } {
  const notes: string[] = [];
  const partitions: ReplayPartitionPlan[] = [];
  for (const b of [...bounds].sort((x, y) => x.partition - y.partition)) {
    if (w.partition !== null && b.partition !== w.partition) continue;
    let start: bigint;
    let end: bigint;
    if (w.fromTimestamp !== null || w.toTimestamp !== null) {
      start = w.fromTimestamp === null ? b.earliest : (b.atFrom ?? b.lastStable);
      end = w.toTimestamp === null ? b.lastStable : (b.atTo ?? b.lastStable);
    } else {
      start = w.fromOffset === null ? b.earliest : BigInt(w.fromOffset);
      end = w.toOffset === null ? b.lastStable : BigInt(w.toOffset);
    }
    if (start < b.earliest) {
      notes.push(
        `partition ${b.partition}: offsets ${start} to ${b.earliest} are deleted in Kafka; the replay starts at ${b.earliest}`,
      );
      start = b.earliest;
    }
    if (end > b.lastStable) {
      notes.push(
        `partition ${b.partition}: the window ends at ${end}, Kafka can give up to ${b.lastStable} now; the replay ends there`,
      );
      end = b.lastStable;
    }
    if (start > end) start = end;
    partitions.push({ partition: b.partition, start: start.toString(), end: end.toString() });
  }
  return { partitions, notes };
}

export function initialPartitionState(plan: ReplayPartitionPlan, nowIso: string): ReplayPartitionState {
  return {
    v: 1,
    partition: plan.partition,
    start: plan.start,
    end: plan.end,
    committedOffset: plan.start,
    committedRecords: 0,
    committedBytes: 0,
    committedRanges: 0,
    gapOffsets: '0',
    updatedAt: nowIso,
  };
}
