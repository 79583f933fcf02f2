/**
 * Fenced writes (invariant 8): every write the leader makes to partition and range state is
 * one ZooKeeper `multi` that begins with `check(/sluice/leader, epoch)`. A master whose epoch
 * is over (its successor rewrote `/sluice/leader`) changes nothing, learns it is no longer
 * the leader, and steps down.
 */
import {
  ErrorCodes,
  isBadVersion,
  isNoNode,
  isSluiceError,
  LEADER_PATH,
  SluiceError,
  type ZkOp,
  type ZkSession,
} from '@sluice/shared';

export class FencedWriter {
  readonly #zk: ZkSession;
  readonly #epoch: number;
  readonly #onFenced: (err: SluiceError) => void;
  #fenced: SluiceError | null = null;

  /** `onFenced` runs once, when a write shows that the epoch is over. */
  constructor(zk: ZkSession, epoch: number, onFenced: (err: SluiceError) => void) {
    this.#zk = zk;
    this.#epoch = epoch;
    this.#onFenced = onFenced;
  }

  get epoch(): number {
    return this.#epoch;
  }

  get zk(): ZkSession {
    return this.#zk;
  }

  /**
   * Applies `ops` only if this epoch still holds. Throws `SLUICE_ERR_NOT_LEADER` when it does
   * not (nothing changed); any other failing op's ZooKeeper error is thrown as is.
   */
  async multi(ops: ZkOp[]): Promise<void> {
    if (this.#fenced) throw this.#fenced;
    try {
      await this.#zk.multi([{ op: 'check', path: LEADER_PATH, version: this.#epoch }, ...ops]);
    } catch (err) {
      // The multi does not say which op failed: a BAD_VERSION or NO_NODE could be the fence
      // or one of the caller's own conditions. The leader node's version tells.
      if (isBadVersion(err) || isNoNode(err)) {
        if (!(await this.#stillLeader())) throw this.#fence();
      }
      if (isSluiceError(err, ErrorCodes.ZK_SESSION_LOST)) throw this.#fence(err);
      throw err;
    }
  }

  async #stillLeader(): Promise<boolean> {
    try {
      const node = await this.#zk.get(LEADER_PATH);
      return node !== null && node.version === this.#epoch;
    } catch {
      // Cannot tell; a leader that cannot read its own fence must not go on writing.
      return false;
    }
  }

  #fence(cause?: unknown): SluiceError {
    if (!this.#fenced) {
      this.#fenced = new SluiceError(
        ErrorCodes.NOT_LEADER,
        `this master's leader epoch ${this.#epoch} is over (another master leads, or the ZooKeeper session was lost); the write was refused and changed nothing`,
        { retryable: false, cause, details: { epoch: this.#epoch } },
      );
      this.#onFenced(this.#fenced);
    }
    return this.#fenced;
  }
}
