/**
 * Puts one attempt of a range on the BullMQ queue, always *after* its ZooKeeper write
 * (invariant 2). The job id is derived from the range and attempt, so adding twice is
 * harmless. An add that fails (Redis down) is kept and tried again on the next pass with the
 * same attempt: no worker can hold a job that never reached Redis.
 */

import type { Logger } from '@sluice/shared';
import {
  jobId,
  RANGE_JOB_NAME,
  RANGE_JOB_VERSION,
  type RangeJobData,
  type RangeRecord,
  rangeLabel,
  rangeOfJob,
} from '@sluice/shared';

/** The part of a BullMQ `Queue` the master uses (tests can stand in for it). */
export interface RangeQueue {
  add(name: string, data: RangeJobData, opts: RangeJobOptions): Promise<unknown>;
  getJob(jobId: string): Promise<unknown>;
}

export interface RangeJobOptions {
  jobId: string;
  attempts: number;
  backoff: { type: 'exponential'; delay: number };
  removeOnComplete: boolean;
  removeOnFail: boolean;
  priority: number;
}

/** BullMQ's highest priority number is 2^21 - 1; stay clearly below it. */
export const MAX_PRIORITY = 2_000_000;

/**
 * Fair share: a lower number runs first, so a topic with few ranges in flight is not starved
 * by another topic's backlog.
 */
export function fairPriority(topicRangesInFlight: number): number {
  return Math.min(MAX_PRIORITY, 1 + Math.max(0, topicRangesInFlight));
}

export function jobDataOf(record: RangeRecord): RangeJobData {
  return {
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
}

export function jobOptionsOf(data: RangeJobData, priority: number, attempts = 3): RangeJobOptions {
  return {
    jobId: jobId(rangeOfJob(data), data.attempt),
    attempts,
    backoff: { type: 'exponential', delay: 1_000 },
    removeOnComplete: true,
    removeOnFail: true,
    priority,
  };
}

export class RangeEnqueuer {
  readonly #queue: RangeQueue;
  readonly #inFlight: (topic: string) => number;
  readonly #log: Logger;
  readonly #pending = new Map<string, RangeJobData>();
  readonly #attempts: number;

  /** `inFlight(topic)`: the topic's ranges in flight now, for the fair-share priority. */
  constructor(queue: RangeQueue, inFlight: (topic: string) => number, log: Logger, attempts = 3) {
    this.#queue = queue;
    this.#attempts = attempts;
    this.#inFlight = inFlight;
    this.#log = log;
  }

  /** Adds the record's current attempt. Never throws: a failed add is kept for {@link retryPending}. */
  async enqueue(record: RangeRecord): Promise<boolean> {
    const data = jobDataOf(record);
    const opts = jobOptionsOf(data, fairPriority(this.#inFlight(record.topic)), this.#attempts);
    try {
      await this.#queue.add(RANGE_JOB_NAME, data, opts);
      this.#pending.delete(opts.jobId);
      return true;
    } catch (err) {
      this.#pending.set(opts.jobId, data);
      this.#log.warn({ err, range: rangeLabel(data), job: opts.jobId }, 'enqueue failed; will retry');
      return false;
    }
  }

  /** Job ids whose add has not succeeded yet. */
  isPending(id: string): boolean {
    return this.#pending.has(id);
  }

  async retryPending(): Promise<void> {
    for (const [id, data] of [...this.#pending]) {
      try {
        await this.#queue.add(
          RANGE_JOB_NAME,
          data,
          jobOptionsOf(data, fairPriority(this.#inFlight(data.topic)), this.#attempts),
        );
        this.#pending.delete(id);
      } catch (err) {
        this.#log.warn({ err, range: rangeLabel(data), job: id }, 'enqueue retry failed');
        return;
      }
    }
  }

  /** Drops pending adds of ranges no longer current (requeued or pruned). */
  forget(id: string): void {
    this.#pending.delete(id);
  }
}
