/**
 * The BullMQ payload of one attempt of one range: everything a stateless worker needs
 * (invariant 6). Offsets travel as decimal strings (JSON has no bigint).
 *
 * Versioned (`v`), for upgrades in place: a worker refuses a payload version it does not know
 * instead of guessing (error log, `errors{kind="SLUICE_ERR_BAD_JOB"}`, the job fails at once
 * and is removed; the leader's reconcile pass then requeues the range as `queue-lost`, so the
 * range is never dropped). Workers of every release ignore fields they do not know, so a
 * field may be added without a new version only if a worker that ignores it still does the
 * right thing; any other change to the payload raises {@link RANGE_JOB_VERSION}, and the
 * release that raises it must read the previous version too (workers upgrade before masters).
 */
import { ErrorCodes, SluiceError } from './errors.ts';
import type { OffsetRange } from './offset-range.ts';
import { jobId, parseOffset } from './offset-range.ts';
import type { OutputSpec } from './topic-config.ts';
import { rangePath, replayIdProblem, replayRangePath } from './zk-layout.ts';

export const RANGE_JOB_VERSION = 1;
/** The BullMQ queue's name; its Redis key prefix is the `SLUICE_QUEUE_PREFIX` setting. */
export const RANGE_QUEUE_NAME = 'ranges';
/** Job name inside the queue. */
export const RANGE_JOB_NAME = 'range';

export interface RangeJobData {
  v: typeof RANGE_JOB_VERSION;
  topic: string;
  /** Kafka topic id at planning time: a worker refuses to read a re-created topic. */
  topicId: string;
  partition: number;
  start: string;
  end: string;
  /** The range's attempt number (from ZooKeeper); results of older attempts are refused. */
  attempt: number;
  /** Output snapshot planned with the range. */
  output: OutputSpec;
  plannedAt: string;
  /**
   * The replay this range belongs to (its node is then below `/sluice/replays/{replay}`, see
   * {@link rangeJobNodePath}); absent for a topic's own ranges. Optional, so that payloads of
   * version 1 without it keep their meaning.
   */
  replay?: string;
}

/** The ZooKeeper node of the job's range: the topic's, or the replay's. */
export function rangeJobNodePath(
  job: Pick<RangeJobData, 'topic' | 'partition' | 'start' | 'end' | 'replay'>,
): string {
  const range = {
    topic: job.topic,
    partition: job.partition,
    start: BigInt(job.start),
    end: BigInt(job.end),
  };
  return job.replay ? replayRangePath(job.replay, range) : rangePath(range);
}

/** The BullMQ job id of the job's attempt; a replay's ranges get their own ids, apart from the topic's. */
export function rangeJobId(
  job: Pick<RangeJobData, 'topic' | 'partition' | 'start' | 'end' | 'attempt' | 'replay'>,
): string {
  const id = jobId(
    { topic: job.topic, partition: job.partition, start: BigInt(job.start), end: BigInt(job.end) },
    job.attempt,
  );
  return job.replay ? `${job.replay}-${id}` : id;
}

export function rangeOfJob(job: RangeJobData): OffsetRange {
  return { topic: job.topic, partition: job.partition, start: BigInt(job.start), end: BigInt(job.end) };
}

/** Checks a payload taken from Redis before a worker acts on it. */
export function parseRangeJob(data: unknown): RangeJobData {
  const bad = (why: string) =>
    new SluiceError(
      ErrorCodes.BAD_JOB,
      `range job payload ${why}; was it enqueued by a newer Sluice master?`,
      {
        retryable: false,
      },
    );
  if (typeof data !== 'object' || data === null) throw bad('is not an object');
  const d = data as Partial<RangeJobData>;
  if (d.v !== RANGE_JOB_VERSION)
    throw bad(
      `has version ${String(d.v)}, this worker reads ${RANGE_JOB_VERSION} (upgrade workers before masters, see "Upgrading" in the README)`,
    );
  if (typeof d.topic !== 'string' || typeof d.partition !== 'number' || typeof d.attempt !== 'number') {
    throw bad('lacks topic, partition or attempt');
  }
  if (typeof d.start !== 'string' || typeof d.end !== 'string' || !d.output)
    throw bad('lacks start, end or output');
  const start = parseOffset(d.start, 'start');
  const end = parseOffset(d.end, 'end');
  if (end <= start) throw bad(`has end ${end} <= start ${start}`);
  if (d.replay !== undefined && (typeof d.replay !== 'string' || replayIdProblem(d.replay) !== null)) {
    throw bad(`has replay ${JSON.stringify(d.replay)}, which is not a replay id`);
  }
  return d as RangeJobData;
}
