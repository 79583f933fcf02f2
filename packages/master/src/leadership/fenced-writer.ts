/**
 * Fenced writes (invariant 8): every write the leader makes to partition and range state is
 * one ZooKeeper `multi` that begins with `check(/sluice/leader, epoch)`. A master whose epoch
 * is over (its successor rewrote `/sluice/leader`) changes nothing, learns it is no longer
 * the leader, and steps down.
 *
 * `multiBatched` lets the passes' many small writes (a commit per partition, new ranges per
 * partition) share one multi: ZooKeeper logs each multi as one transaction, and on this
 * machine a pass of 2,500 commits spent a millisecond on each even when they were pipelined
 * (bench/README.md). Writes issued in the same turn of the event loop go as one multi behind
 * one fence check; if it fails, each caller's own ops are sent again alone, so every caller
 * gets exactly the answer its own multi would have had (all-or-nothing per caller, as before).
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

/** Most ops, and data bytes, in one batched multi (ZooKeeper refuses requests over about 1 MB). */
const BATCH_OPS = 500;
const BATCH_BYTES = 512 * 1024;

interface Batch {
  ops: ZkOp[];
  bytes: number;
  sent: boolean;
  callers: Array<{ ops: ZkOp[]; resolve: () => void; reject: (err: unknown) => void }>;
}

export class FencedWriter {
  readonly #zk: ZkSession;
  readonly #epoch: number;
  readonly #onFenced: (err: SluiceError) => void;
  #fenced: SluiceError | null = null;
  #batch: Batch | null = null;

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

  /**
   * Like {@link multi}, but sent in one multi with the other batched writes of this turn of
   * the event loop. The ops of two callers must not touch the same node.
   */
  multiBatched(ops: ZkOp[]): Promise<void> {
    if (this.#fenced) return Promise.reject(this.#fenced);
    return new Promise((resolve, reject) => {
      let b = this.#batch;
      if (!b) {
        const fresh: Batch = { ops: [], bytes: 0, sent: false, callers: [] };
        this.#batch = b = fresh;
        setImmediate(() => this.#flush(fresh));
      }
      b.callers.push({ ops, resolve, reject });
      b.ops.push(...ops);
      for (const o of ops) if (o.op === 'create' || o.op === 'set') b.bytes += o.data?.length ?? 0;
      if (b.ops.length >= BATCH_OPS || b.bytes >= BATCH_BYTES) this.#flush(b);
    });
  }

  #flush(b: Batch): void {
    if (b.sent) return;
    b.sent = true;
    if (this.#batch === b) this.#batch = null;
    const alone = (c: Batch['callers'][number]) => this.multi(c.ops).then(c.resolve, c.reject);
    if (b.callers.length === 1) {
      void alone(b.callers[0]!);
      return;
    }
    this.multi(b.ops).then(
      () => {
        for (const c of b.callers) c.resolve();
      },
      (err) => {
        if (isSluiceError(err, ErrorCodes.NOT_LEADER)) for (const c of b.callers) c.reject(err);
        // Some caller's condition failed (or the request did): each learns its own answer.
        else for (const c of b.callers) void alone(c);
      },
    );
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
