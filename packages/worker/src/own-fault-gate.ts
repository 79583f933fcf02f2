/**
 * The worker's stop-and-probe state machine for failures of its own (issue 15, point 3). A
 * worker whose S3 credentials were wrong stayed ready, took every job, failed each at once and
 * so grabbed every requeued range while a good worker beside it waited. Now the first attempt
 * that fails for a reason of the worker's own (attempt-fault.ts) closes the gate:
 *
 *   ready ──report(fault)──▶ not ready: pause the queue worker (no new job), publish
 *                            `ready: false` and the reason (ZooKeeper registration, /readyz)
 *         ◀──probe passes── probe after 1 s, doubling up to `maxDelayMs`; a failed probe
 *                            keeps the gate closed with its own error as the reason
 *
 * Reports while closed change nothing (the first reason and its probe stand). Opening resumes
 * the queue worker through the owner's `resume`, which declines while other reasons hold it
 * paused (a lost ZooKeeper session, shutting down).
 */
import { errorText, type Logger } from '@sluice/shared';

/** A failure of the worker's own: what failed, and the check that passes once it is fixed. */
export interface OwnFault {
  reason: string;
  probe: () => Promise<void>;
}

export interface OwnFaultGateOptions {
  /** Stop taking jobs (jobs in hand go on: they fail or finish on their own). */
  pause: () => Promise<void>;
  /** Take jobs again. */
  resume: () => Promise<void>;
  /** Tell the leader and the operator (the ZooKeeper registration); failures are logged. */
  publish: (ready: boolean, reason: string | null) => Promise<void>;
  log: Logger;
  /** First delay before a probe. @defaultValue 1000 */
  minDelayMs?: number;
  /** Longest delay between probes. */
  maxDelayMs: number;
  /** Waits between probes (tests). @defaultValue a timer */
  sleep?: (ms: number) => Promise<void>;
}

export class OwnFaultGate {
  readonly #o: OwnFaultGateOptions;
  #reason: string | null = null;
  #stopped = false;
  #probing: Promise<void> | null = null;
  #wake: (() => void) | null = null;

  constructor(opts: OwnFaultGateOptions) {
    this.#o = opts;
  }

  /** Null while the worker may take jobs; otherwise why not. */
  get notReadyReason(): string | null {
    return this.#reason;
  }

  /** Closes the gate for `fault` and starts probing, unless it is closed already. */
  report(fault: OwnFault): void {
    if (this.#stopped || this.#reason !== null) return;
    this.#reason = fault.reason;
    this.#o.log.warn(
      { reason: fault.reason },
      'an attempt failed for a reason of this worker; taking no jobs until a probe passes',
    );
    this.#probing = this.#close(fault).finally(() => {
      this.#probing = null;
    });
  }

  async #close(fault: OwnFault): Promise<void> {
    const { log } = this.#o;
    await this.#o.pause().catch((err) => log.warn({ err: errorText(err) }, 'queue pause failed'));
    await this.#publish();
    let delay = this.#o.minDelayMs ?? 1_000;
    while (!this.#stopped) {
      await this.#sleep(delay);
      if (this.#stopped) return;
      try {
        await fault.probe();
      } catch (err) {
        const reason = `${fault.reason}; last probe: ${errorText(err)}`;
        if (reason !== this.#reason) {
          this.#reason = reason;
          await this.#publish();
        }
        delay = Math.min(delay * 2, this.#o.maxDelayMs);
        log.warn({ err: errorText(err), retryInMs: delay }, 'probe failed; still taking no jobs');
        continue;
      }
      this.#reason = null;
      log.info('probe passed; taking jobs again');
      await this.#publish();
      await this.#o.resume().catch((err) => log.warn({ err: errorText(err) }, 'queue resume failed'));
      return;
    }
  }

  async #publish(): Promise<void> {
    await this.#o
      .publish(this.#reason === null, this.#reason)
      .catch((err) => this.#o.log.warn({ err: errorText(err) }, 'could not publish readiness'));
  }

  #sleep(ms: number): Promise<void> {
    if (this.#o.sleep) return this.#o.sleep(ms);
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Stops probing (shutdown); the gate stays as it is. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#probing;
  }
}
