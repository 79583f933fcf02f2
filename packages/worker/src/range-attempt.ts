/**
 * The ZooKeeper side of one attempt of one range: read the node and decide (act, stale, done,
 * gone), take the attempt, record keys before their upload, beat progress, complete or fail.
 * Each is a rule of exactly-once.ts applied by {@link RangeNode} with a version-checked write,
 * so a superseded attempt meets `SLUICE_ERR_STALE_ATTEMPT` at its next write and a pruned node
 * `SLUICE_ERR_RANGE_NOT_FOUND`; {@link endsJobQuietly} tells the processor those end the job
 * without error (someone else owns the range).
 */
import {
  complete,
  decideJob,
  ErrorCodes,
  errorText,
  fail,
  isSluiceError,
  type JobDecision,
  type Logger,
  progress,
  type RangeJobData,
  type RangeRecord,
  type RangeResult,
  rangeJobNodePath,
  recordKeys,
  start,
  type ZkSession,
} from '@sluice/shared';
import { RangeNode } from './range-node.ts';

/** A stale attempt or a pruned node: the job ends quietly. Null for any other error. */
export function endsJobQuietly(err: unknown): 'stale' | 'gone' | null {
  if (isSluiceError(err, ErrorCodes.STALE_ATTEMPT)) return 'stale';
  if (isSluiceError(err, ErrorCodes.RANGE_NOT_FOUND)) return 'gone';
  return null;
}

export class RangeAttempt {
  readonly attempt: number;
  readonly #node: RangeNode;

  /** `zk` returns the current session (a new one after the old was lost). */
  constructor(zk: () => ZkSession, job: RangeJobData) {
    this.attempt = job.attempt;
    // A replay's range lives below its replay, a topic's below its partition.
    this.#node = new RangeNode(zk, rangeJobNodePath(job));
  }

  /** Step 1: reads the node; what the job does with it, and the record when there is one. */
  async decide(): Promise<{ decision: JobDecision; record: RangeRecord | null }> {
    const record = await this.#node.read();
    return { decision: decideJob(record, this.attempt), record };
  }

  /** Step 3: takes the attempt; returns the node as taken (with the keys earlier attempts recorded). */
  take(worker: string): Promise<RangeRecord> {
    return this.#node.update((r) => start(r, this.attempt, worker));
  }

  /** Invariant 4: records keys before any of their bytes go up. */
  async recordKeys(keys: readonly string[]): Promise<void> {
    await this.#node.update((r) => recordKeys(r, this.attempt, [...keys]));
  }

  /** The heartbeat: the attempt read up to `nextOffset` and is alive. */
  async progress(nextOffset: bigint): Promise<void> {
    await this.#node.update((r) => progress(r, this.attempt, nextOffset));
  }

  /** Step 7: done. Done already (our own write whose answer was lost) is fine. */
  async complete(result: RangeResult, log: Logger): Promise<void> {
    try {
      await this.#node.update((r) => complete(r, this.attempt, result));
    } catch (err) {
      // Done is terminal: if it is done already (our own write whose answer was lost), fine.
      if (isSluiceError(err, ErrorCodes.RANGE_STATE) && this.#node.record?.state === 'done') {
        log.debug('range was already marked done');
        return;
      }
      throw err;
    }
  }

  /**
   * Marks the attempt failed: by the range (its last BullMQ attempt failed; the leader requeues
   * it after a backoff) or by this worker's own fault (requeued at once, failures unchanged). A
   * stale attempt, a pruned node or a done range is left alone.
   */
  async fail(error: unknown, fault: 'range' | 'worker' = 'range'): Promise<void> {
    try {
      await this.#node.update((r) => fail(r, this.attempt, errorText(error), fault));
    } catch (err) {
      if (endsJobQuietly(err) !== null || isSluiceError(err, ErrorCodes.RANGE_STATE)) return;
      throw err;
    }
  }
}
