/**
 * A range's ZooKeeper node as one worker attempt sees it. Every change is a rule from
 * exactly-once.ts applied to the record read, written with a version-checked `setData`; on
 * `BAD_VERSION` (someone else wrote in between: the leader requeued, or the attempt's own
 * earlier write whose answer was lost) the node is read again and the rule applied again, so
 * a superseded attempt meets `SLUICE_ERR_STALE_ATTEMPT` at its next write.
 */
import {
  decodeJson,
  ErrorCodes,
  encodeJson,
  errorText,
  isBadVersion,
  isNoNode,
  type RangeRecord,
  SluiceError,
  type ZkSession,
} from '@sluice/shared';

type RangeRule = (record: RangeRecord) => RangeRecord;

/** Attempts of one change before giving up on a node that keeps changing under us. */
const MAX_RETRIES = 20;

function rangeGone(path: string): SluiceError {
  return new SluiceError(
    ErrorCodes.RANGE_NOT_FOUND,
    `range node ${path} is gone: the range was committed and pruned`,
    { retryable: false },
  );
}

function zkError(err: unknown, what: string): unknown {
  if (err instanceof SluiceError) return err;
  return new SluiceError(ErrorCodes.ZK, `${what} failed: ${errorText(err)}`, { retryable: true, cause: err });
}

export class RangeNode {
  readonly #path: string;
  readonly #zk: () => ZkSession;
  #record: RangeRecord | null = null;
  #version = -1;
  /** Changes run one at a time (heartbeat and key recording share the node). */
  #tail: Promise<unknown> = Promise.resolve();

  /** `zk` returns the current session (a new one after the old was lost). */
  constructor(zk: () => ZkSession, path: string) {
    this.#zk = zk;
    this.#path = path;
  }

  /** The record as last read or written. */
  get record(): RangeRecord | null {
    return this.#record;
  }

  /** Reads the node; null when it does not exist. */
  async read(): Promise<RangeRecord | null> {
    let node: Awaited<ReturnType<ZkSession['get']>>;
    try {
      node = await this.#zk().get(this.#path);
    } catch (err) {
      throw zkError(err, `read range node ${this.#path}`);
    }
    if (node === null) {
      this.#record = null;
      this.#version = -1;
      return null;
    }
    this.#record = decodeJson<RangeRecord>(node.data, `range node ${this.#path}`);
    this.#version = node.version;
    return this.#record;
  }

  /**
   * Applies `rule` to the current record and writes the result at the version read. The rule
   * may throw (stale attempt, wrong state); returning the record unchanged writes nothing.
   * Throws `SLUICE_ERR_RANGE_NOT_FOUND` when the node is gone.
   */
  update(rule: RangeRule): Promise<RangeRecord> {
    const run = this.#tail.then(
      () => this.#apply(rule),
      () => this.#apply(rule),
    );
    this.#tail = run.catch(() => {});
    return run;
  }

  async #apply(rule: RangeRule): Promise<RangeRecord> {
    for (let i = 0; ; i++) {
      if (this.#record === null) {
        if ((await this.read()) === null) throw rangeGone(this.#path);
      }
      const current = this.#record!;
      const next = rule(current);
      if (next === current) return current;
      try {
        this.#version = await this.#zk().set(this.#path, encodeJson(next), this.#version);
        this.#record = next;
        return next;
      } catch (err) {
        // Whatever happened, the cached version can no longer be trusted.
        this.#record = null;
        if (isNoNode(err)) throw rangeGone(this.#path);
        if (!isBadVersion(err) || i >= MAX_RETRIES) throw zkError(err, `write range node ${this.#path}`);
      }
    }
  }
}
