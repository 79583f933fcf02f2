/**
 * Puts one attempt of a range on the BullMQ queue, always *after* its ZooKeeper write
 * (invariant 2), for every kind of line (range-line.ts: a topic partition's, a replay's). The
 * job id is derived from the line, range and attempt, so adding twice is harmless. An add that
 * fails (Redis down) is kept and tried again on the next pass with the same attempt: no worker
 * can hold a job that never reached Redis.
 */

import type { Logger } from '@sluice/shared';
import { RANGE_JOB_NAME, type RangeJobData, type RangeRecord, rangeJobId, rangeLabel } from '@sluice/shared';
import { lineJobData, linePriority, type RangeLine, topicLine } from './range-line.ts';

/** The part of a BullMQ `Queue` the master uses (tests can stand in for it). */
export interface RangeQueue {
  add(name: string, data: RangeJobData, opts: RangeJobOptions): Promise<unknown>;
  getJob(jobId: string): Promise<unknown>;
  /**
   * Removes a job unless a worker holds it (BullMQ's `Queue.remove`: 1 when removed, 0 when
   * it is locked; a job that is not there counts as removed).
   */
  remove(jobId: string): Promise<number>;
}

export interface RangeJobOptions {
  jobId: string;
  attempts: number;
  backoff: { type: 'exponential'; delay: number };
  removeOnComplete: boolean;
  removeOnFail: boolean;
  priority: number;
}

export function jobOptionsOf(data: RangeJobData, priority: number, attempts = 3): RangeJobOptions {
  return {
    jobId: rangeJobId(data),
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

  /**
   * Adds the record's current attempt on its line (the topic partition's own by default).
   * Never throws: a failed add is kept for {@link retryPending}.
   */
  async enqueue(record: RangeRecord, line?: RangeLine): Promise<boolean> {
    const data = lineJobData(line ?? topicLine(record.topic, record.partition), record);
    const opts = jobOptionsOf(data, this.#priority(data), this.#attempts);
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
        await this.#queue.add(RANGE_JOB_NAME, data, jobOptionsOf(data, this.#priority(data), this.#attempts));
        this.#pending.delete(id);
      } catch (err) {
        this.#log.warn({ err, range: rangeLabel(data), job: id }, 'enqueue retry failed');
        return;
      }
    }
  }

  #priority(data: RangeJobData): number {
    return linePriority({ replay: data.replay ?? null }, this.#inFlight(data.topic), data.attempt);
  }

  /** Drops pending adds of ranges no longer current (requeued or pruned). */
  forget(id: string): void {
    this.#pending.delete(id);
  }

  /**
   * A requeue superseded the job `id`: it leaves Redis now unless a worker holds it (that
   * worker meets STALE_ATTEMPT at its next write and its job ends). Otherwise every requeue
   * of a waiting range would leave one more job that a worker takes only to find it stale.
   * Never throws: a job left behind costs a worker one stale look, nothing more.
   */
  async removeSuperseded(id: string): Promise<void> {
    this.forget(id);
    try {
      await this.#queue.remove(id);
    } catch (err) {
      this.#log.warn({ err, job: id }, 'superseded job not removed; a worker will find it stale');
    }
  }
}
