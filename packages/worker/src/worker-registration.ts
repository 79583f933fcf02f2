/**
 * The worker's presence in ZooKeeper: the ephemeral `/sluice/workers/{id}` holding its
 * {@link WorkerRegistration} (invariant 7). The leader watches these nodes; when one vanishes
 * it requeues that worker's active ranges at once.
 *
 * When the session is lost (expired, or self-fenced by the ZkSession watchdog after two
 * thirds of the session timeout without an answer) the worker must stop acting on its
 * ranges, because the leader is about to give them to someone else. `lost` is emitted first
 * (the owner stops taking jobs and aborts active ranges); then a new session is opened, the
 * node re-created, and `restored` emitted (the owner resumes). node-zookeeper-client never
 * reconnects an expired session, hence a new ZkSession each time.
 */
import { EventEmitter } from 'node:events';
import {
  ErrorCodes,
  encodeJson,
  errorText,
  isNodeExists,
  type Logger,
  SluiceError,
  WORKERS_PATH,
  type WorkerRegistration,
  workerPath,
  ZkSession,
} from '@sluice/shared';

export interface RegisterWorkerOptions {
  connect: string;
  sessionTimeoutMs: number;
  /** ZooKeeper digest credentials (`user:password`), or empty. */
  digest?: string;
  registration: WorkerRegistration;
  log: Logger;
  /** Delay before reopening a lost session, doubling up to 10 s. @defaultValue 500 */
  retryDelayMs?: number;
}

/**
 * Events: `lost` (reason) when the session is gone and work must stop; `restored` when a new
 * session holds the node again.
 */
export class WorkerPresence extends EventEmitter {
  readonly #opts: RegisterWorkerOptions;
  #session: ZkSession;
  #stopped = false;
  #restoring: Promise<void> | null = null;
  #publishing: Promise<void> = Promise.resolve();

  private constructor(opts: RegisterWorkerOptions, session: ZkSession) {
    super();
    this.#opts = opts;
    this.#session = session;
  }

  /** Opens a session and creates the worker's node. */
  static async register(opts: RegisterWorkerOptions): Promise<WorkerPresence> {
    const session = await openAndCreate(opts);
    const presence = new WorkerPresence(opts, session);
    presence.#watch(session);
    opts.log.info({ session: session.sessionId }, 'worker registered');
    return presence;
  }

  /** The current session; after a loss, the new one once restored. */
  get session(): ZkSession {
    return this.#session;
  }

  /** True while a session holds the worker's node. */
  get alive(): boolean {
    return !this.#stopped && this.#session.alive;
  }

  #watch(session: ZkSession): void {
    session.once('lost', (reason: string) => {
      if (this.#stopped || session !== this.#session) return;
      this.#opts.log.warn({ reason }, 'zookeeper session lost; fencing');
      this.emit('lost', reason);
      this.#restoring = this.#restore().finally(() => {
        this.#restoring = null;
      });
    });
  }

  async #restore(): Promise<void> {
    let delay = this.#opts.retryDelayMs ?? 500;
    while (!this.#stopped) {
      try {
        const session = await openAndCreate(this.#opts);
        if (this.#stopped) {
          await session.close();
          return;
        }
        this.#session = session;
        this.#watch(session);
        this.#opts.log.info({ session: session.sessionId }, 'worker registered again');
        this.emit('restored');
        return;
      } catch (err) {
        this.#opts.log.warn({ err: errorText(err), retryInMs: delay }, 'cannot register yet');
        await new Promise((r) => setTimeout(r, delay).unref());
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  /**
   * Publishes whether the worker takes jobs (own-fault-gate.ts) in its node, for the status
   * page; a node re-created after a lost session carries it too. Writes are serialized so the
   * node ends with the last state asked for.
   */
  setReadiness(ready: boolean, reason: string | null): Promise<void> {
    this.#opts.registration = { ...this.#opts.registration, ready, notReadyReason: reason };
    this.#publishing = this.#publishing
      .catch(() => {})
      .then(async () => {
        if (!this.alive) return;
        const data = encodeJson(this.#opts.registration);
        await this.#session.set(workerPath(this.#opts.registration.id), data, -1);
      });
    return this.#publishing;
  }

  /** Closes the session: the node goes at once, and nothing is re-created. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#restoring;
    await this.#session.close();
  }
}

/** Opens a session and creates the node; waits out a node a dead session of ours still holds. */
async function openAndCreate(opts: RegisterWorkerOptions): Promise<ZkSession> {
  const session = await ZkSession.open({
    connect: opts.connect,
    sessionTimeoutMs: opts.sessionTimeoutMs,
    digest: opts.digest ?? '',
  });
  try {
    await session.mkdirp(WORKERS_PATH);
    const path = workerPath(opts.registration.id);
    const data = encodeJson(opts.registration);
    // A node of a previous session (ours after a network partition, or a restarted pod's
    // with the same id) stays until ZooKeeper expires that session.
    const deadline = Date.now() + opts.sessionTimeoutMs + 5_000;
    for (;;) {
      try {
        await session.create(path, data, { ephemeral: true });
        return session;
      } catch (err) {
        if (!isNodeExists(err)) throw err;
        if (Date.now() > deadline) {
          throw new SluiceError(
            ErrorCodes.CONFIG,
            `worker node ${path} is held by another live session: two workers share the id "${opts.registration.id}"; give each a unique SLUICE_WORKER_ID`,
            { retryable: false },
          );
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } catch (err) {
    await session.close();
    throw err;
  }
}

/** Registers this worker in ZooKeeper; see {@link WorkerPresence}. */
export function registerWorker(opts: RegisterWorkerOptions): Promise<WorkerPresence> {
  return WorkerPresence.register(opts);
}
