/**
 * The progress heartbeat of an attempt (invariant 7): every `intervalMs`, if the read or an
 * upload moved since the last beat, the attempt writes its next offset to the range node, so
 * the leader's stall check sees it alive. Only real movement counts: a hung read or upload must
 * look stalled and be requeued. A failed beat (the attempt was superseded, the node is gone,
 * ZooKeeper failed) is handed to `onError`, which aborts the attempt.
 */

export interface ProgressHeartbeatOptions {
  intervalMs: number;
  /** Writes the progress (the range node's `progressOffset`). */
  beat(nextOffset: bigint): Promise<unknown>;
  onError(err: unknown): void;
  /** Beats stop once this is aborted. */
  signal: AbortSignal;
}

export class ProgressHeartbeat {
  #nextOffset: bigint;
  #moved = false;
  #beating = false;
  readonly #timer: NodeJS.Timeout;

  constructor(startOffset: bigint, opts: ProgressHeartbeatOptions) {
    this.#nextOffset = startOffset;
    this.#timer = setInterval(() => {
      if (!this.#moved || this.#beating || opts.signal.aborted) return;
      this.#moved = false;
      this.#beating = true;
      opts
        .beat(this.#nextOffset)
        .catch(opts.onError)
        .finally(() => {
          this.#beating = false;
        });
    }, opts.intervalMs);
    this.#timer.unref();
  }

  /** Something moved (bytes went up); with `nextOffset`, the read moved to it. */
  moved(nextOffset?: bigint): void {
    if (nextOffset !== undefined) this.#nextOffset = nextOffset;
    this.#moved = true;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
