/**
 * A line of ranges (DESIGN.md "One range engine"): the offsets of one partition that Sluice
 * copies as a sequence of ranges tiling them. A topic partition's own line is open (it grows
 * with the partition); a replay's line is its fixed window of one partition. Everything that
 * differs between the two is here, so that planning, tracking, supervision and enqueueing
 * (range-engine.ts, planning-loop.ts, tracker.ts, supervisor.ts, range-enqueuer.ts) are
 * written once for both:
 *
 *                 topic partition                    replay window
 *   state node    /sluice/topics/{t}/partitions/{p}  /sluice/replays/{id}/partitions/{p}
 *   range node    {state node}/{s20}-{e20}           {state node}/{s20}-{e20}
 *   job id        {t}-{p}-{s}-{e}-a{n}               {id}-{t}-{p}-{s}-{e}-a{n}
 *   job payload   no `replay` field                  `replay: id`
 *   priority      a retried attempt first, then      below every topic range, a
 *                 fair share by ranges in flight     retried attempt first
 *   end           open                               fixed
 *
 * The paths, ids and payloads are those of zk-layout.ts and range-job.ts, byte for byte: a
 * running installation keeps its nodes and jobs.
 */
import {
  type OffsetRange,
  partitionPath,
  RANGE_JOB_VERSION,
  type RangeJobData,
  type RangeRecord,
  rangeJobId,
  rangePath,
  replayPartitionPath,
  replayRangePath,
} from '@sluice/shared';

export interface RangeLine {
  topic: string;
  partition: number;
  /** The replay whose window this line is; null for the topic partition's own line. */
  replay: string | null;
  /** The line's state node; its children are the line's range nodes. */
  statePath: string;
  /** First offset after a replay's window; null for an open line. */
  end: bigint | null;
}

/** A topic partition's own line. */
export function topicLine(topic: string, partition: number): RangeLine {
  return { topic, partition, replay: null, statePath: partitionPath(topic, partition), end: null };
}

/** One partition of a replay's window, `[start, end)` fixed when the replay was made. */
export function replayLine(replay: string, topic: string, partition: number, end: bigint): RangeLine {
  return { topic, partition, replay, statePath: replayPartitionPath(replay, partition), end };
}

/** The range node of a span of the line. */
export function lineRangePath(line: RangeLine, span: { start: bigint; end: bigint }): string {
  const range: OffsetRange = { topic: line.topic, partition: line.partition, ...span };
  return line.replay === null ? rangePath(range) : replayRangePath(line.replay, range);
}

/** The job payload of the range's current attempt; a replay's carries `replay` (range-job.ts). */
export function lineJobData(line: Pick<RangeLine, 'replay'>, record: RangeRecord): RangeJobData {
  const data: RangeJobData = {
    v: RANGE_JOB_VERSION,
    topic: record.topic,
    topicId: record.topicId,
    partition: record.partition,
    start: record.start,
    end: record.end,
    attempt: record.attempt,
    output: record.output,
    plannedAt: record.plannedAt,
  };
  return line.replay === null ? data : { ...data, replay: line.replay };
}

/** The BullMQ job id of the range's current attempt on its line. */
export function lineJobId(line: Pick<RangeLine, 'replay'>, record: RangeRecord): string {
  return rangeJobId(lineJobData(line, record));
}

/** BullMQ's highest priority number is 2^21 - 1; stay clearly below it. */
export const MAX_PRIORITY = 2_000_000;

/** Replay ranges run after every topic range waiting (BullMQ: a lower number runs first). */
export const REPLAY_PRIORITY = Math.floor(MAX_PRIORITY / 2);

/**
 * A topic range's attempt after the first (its worker died or stalled, its upload failed, or
 * an operator retried it) runs before every new range: it has waited once already, and the
 * time to reassign a dead worker's range must not depend on another topic's backlog.
 */
export const RETRY_PRIORITY = 1;

/**
 * Fair share: a lower number runs first, so a topic with few ranges in flight is not starved
 * by another topic's backlog. Starts above {@link RETRY_PRIORITY}.
 */
export function fairPriority(topicRangesInFlight: number): number {
  return Math.min(MAX_PRIORITY, RETRY_PRIORITY + 1 + Math.max(0, topicRangesInFlight));
}

/**
 * The queue priority of an attempt on the line; `topicRangesInFlight` counts for a topic's own
 * line only. Retried attempts go first within their kind: topics' before every new topic range,
 * replays' before the other replay ranges (and still after every topic range).
 */
export function linePriority(
  line: Pick<RangeLine, 'replay'>,
  topicRangesInFlight: number,
  attempt = 1,
): number {
  if (line.replay !== null) return attempt > 1 ? REPLAY_PRIORITY - 1 : REPLAY_PRIORITY;
  return attempt > 1 ? RETRY_PRIORITY : fairPriority(topicRangesInFlight);
}
