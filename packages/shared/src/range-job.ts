/**
 * The BullMQ payload of one attempt of one range: everything a stateless worker needs
 * (invariant 6). Versioned: a worker refuses a payload version it does not know instead of
 * guessing. Offsets travel as decimal strings (JSON has no bigint).
 */
import { ErrorCodes, SluiceError } from './errors.ts';
import type { OffsetRange } from './offset-range.ts';
import { parseOffset } from './offset-range.ts';
import type { OutputSpec } from './topic-config.ts';

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
    throw bad(`has version ${String(d.v)}, this worker reads ${RANGE_JOB_VERSION}`);
  if (typeof d.topic !== 'string' || typeof d.partition !== 'number' || typeof d.attempt !== 'number') {
    throw bad('lacks topic, partition or attempt');
  }
  if (typeof d.start !== 'string' || typeof d.end !== 'string' || !d.output)
    throw bad('lacks start, end or output');
  const start = parseOffset(d.start, 'start');
  const end = parseOffset(d.end, 'end');
  if (end <= start) throw bad(`has end ${end} <= start ${start}`);
  return d as RangeJobData;
}
