/**
 * A promise-based ZooKeeper session over node-zookeeper-client, with the fixes Sluice needs.
 *
 * What the library gets wrong, and what this file does about it:
 *  - After `SESSION_EXPIRED` the client never reconnects. A session here is one ZooKeeper
 *    session: when it expires the owner builds a new `ZkSession` and re-creates its
 *    ephemeral nodes and watches (`onLost`).
 *  - It may not notice a network partition. A watchdog pings (`exists /`) every sixth of the
 *    session timeout; when nothing was heard for two thirds of it, the session declares itself
 *    lost and closes (self-fencing, invariant 7), before the server expires it.
 *  - Its `Transaction.check/setData/remove` treat version 0 as "any version" (`version || -1`).
 *    {@link ZkSession.multi} writes the version into the op itself, so a check of version 0
 *    really checks.
 *  - Reconnecting after a ZooKeeper restart can hang, and under load some clients then lose
 *    their session (seen in the ZooKeeper-restart fault test): the library keeps the bytes of
 *    a frame cut by the lost connection and parses them as the start of the next connection's
 *    ConnectResponse, and it has no timeout for the handshake, while a server that is still
 *    starting may accept a connection and never answer it (ZooKeeper 3.9 fails to close it).
 *    {@link ReconnectGuard} drops the leftover bytes and ends a handshake that got no answer.
 */
import { EventEmitter } from 'node:events';
import zookeeper from 'node-zookeeper-client';
import { ErrorCodes, SluiceError } from './errors.ts';

const { CreateMode, Exception } = zookeeper;

export const ZK_CODES = {
  NO_NODE: -101,
  BAD_VERSION: -103,
  NODE_EXISTS: -110,
  NOT_EMPTY: -111,
  CONNECTION_LOSS: -4,
  OPERATION_TIMEOUT: -7,
  SESSION_EXPIRED: -112,
} as const;

export function zkCode(err: unknown): number | undefined {
  if (err && typeof err === 'object' && typeof (err as { getCode?: unknown }).getCode === 'function') {
    return (err as { getCode(): number }).getCode();
  }
  const c = (err as { zkCode?: unknown } | null)?.zkCode;
  return typeof c === 'number' ? c : undefined;
}

export const isNoNode = (e: unknown) => zkCode(e) === ZK_CODES.NO_NODE;
export const isNodeExists = (e: unknown) => zkCode(e) === ZK_CODES.NODE_EXISTS;
export const isBadVersion = (e: unknown) => zkCode(e) === ZK_CODES.BAD_VERSION;

export interface ZkNode {
  data: Buffer;
  version: number;
  /** Session id of the owner for an ephemeral node, else all zeros. */
  ephemeralOwner: string;
  ctimeMs: number;
  mtimeMs: number;
}

export type ZkOp =
  | { op: 'create'; path: string; data?: Buffer; ephemeral?: boolean }
  | { op: 'set'; path: string; data: Buffer; version: number }
  | { op: 'check'; path: string; version: number }
  | { op: 'remove'; path: string; version: number };

export interface ZkSessionOptions {
  /** Connect string: `host:port[,host:port...][/chroot]`. */
  connect: string;
  sessionTimeoutMs: number;
  /** Per-call timeout. @defaultValue the session timeout */
  callTimeoutMs?: number;
  /** How long {@link ZkSession.open} waits for the first connection. @defaultValue 15 s */
  connectTimeoutMs?: number;
  /**
   * `user:password` for ZooKeeper digest authentication, or empty. With it, nodes this
   * session creates are readable and writable only by that user (creator ACL).
   */
  digest?: string;
}

/** node-zookeeper-client's ConnectionManager states (`lib/ConnectionManager.js`). */
const CM_DISCONNECTED = 0;
const CM_CONNECTING = 1;
const CM_CONNECTED = 2;
const CM_CONNECTED_READ_ONLY = 3;

interface ConnectionManagerInternals extends EventEmitter {
  pendingBuffer: Buffer | null;
  socket: { destroy(): void } | null;
}

/** Repairs node-zookeeper-client 1.1.3's reconnection (see the file header). */
class ReconnectGuard {
  readonly #cm: ConnectionManagerInternals | undefined;
  #connectingSince: number | null = null;

  constructor(client: zookeeper.Client) {
    const cm = (client as unknown as { connectionManager?: ConnectionManagerInternals }).connectionManager;
    this.#cm = cm;
    cm?.on('state', (state: number) => {
      // A connection ended or a new one begins: nothing received so far belongs to the next one.
      if (state === CM_DISCONNECTED || state === CM_CONNECTING) cm.pendingBuffer = null;
      if (state === CM_CONNECTING) this.#connectingSince = Date.now();
      else if (state === CM_CONNECTED || state === CM_CONNECTED_READ_ONLY) this.#connectingSince = null;
    });
  }

  /** Ends a connection attempt older than `limitMs` (the library then tries again). True when it did. */
  unstick(limitMs: number): boolean {
    const since = this.#connectingSince;
    if (since === null || Date.now() - since <= limitMs) return false;
    this.#connectingSince = Date.now();
    this.#cm?.socket?.destroy();
    return true;
  }

  /**
   * After `close()`: the library waits for the server to end the connection, which a server
   * that never answered will not do; the socket would stay open for good (and keep the
   * process alive).
   */
  abandon(afterMs: number): void {
    setTimeout(() => this.#cm?.socket?.destroy(), afterMs).unref();
  }
}

function statTimeMs(buf: Buffer | undefined): number {
  return buf && buf.length === 8 ? Number(buf.readBigInt64BE(0)) : 0;
}

function toNode(data: Buffer | undefined, stat: zookeeper.Stat): ZkNode {
  return {
    data: data ?? Buffer.alloc(0),
    version: stat.version,
    ephemeralOwner: stat.ephemeralOwner.toString('hex'),
    ctimeMs: statTimeMs(stat.ctime),
    mtimeMs: statTimeMs(stat.mtime),
  };
}

/** What a watch reports; node-zookeeper-client's `Event` has this shape. */
export interface ZkWatchEvent {
  getType(): number;
  getName(): string;
  getPath(): string;
}

/** A one-shot watch: called once, on the next change of the node or its children. */
export type ZkWatcher = (event: ZkWatchEvent) => void;

/**
 * The ZooKeeper session as Sluice's code uses it. The stores, the leader and the workers take
 * this interface rather than the client class, so that their tests can run against an
 * in-memory ZooKeeper (`@sluice/test-kit`'s fake) with no server. {@link ZkSession.open} gives
 * the real one.
 *
 * Events: `lost` (reason; once: the session expired, was fenced by the watchdog, or was
 * closed), `disconnected`, `connected`.
 */
export interface ZkSession {
  /** Why the session is gone, or null while it lives. */
  readonly lostReason: string | null;
  readonly alive: boolean;
  readonly sessionId: string;
  readonly sessionTimeoutMs: number;
  /** Ends the session (its ephemeral nodes go at once). */
  close(): Promise<void>;
  /** Creates a node; returns its path (with the sequence number for a sequential one). */
  create(path: string, data?: Buffer, opts?: { ephemeral?: boolean; sequential?: boolean }): Promise<string>;
  /** Creates the node and any missing parents; no error when it exists. */
  mkdirp(path: string): Promise<void>;
  /** The node's data and version, or null when it does not exist. */
  get(path: string, watcher?: ZkWatcher): Promise<ZkNode | null>;
  /** Sets data if the node is at `version` (-1: any). Returns the new version. */
  set(path: string, data: Buffer, version: number): Promise<number>;
  remove(path: string, version?: number): Promise<void>;
  exists(path: string, watcher?: ZkWatcher): Promise<boolean>;
  /** Child names, or [] when the node does not exist. */
  children(path: string, watcher?: ZkWatcher): Promise<string[]>;
  /** Removes a node and everything below it (not atomic; for cleanup). */
  removeRecursive(path: string): Promise<void>;
  /**
   * All-or-nothing multi-op. Throws the first failing op's error (with `zkCode`) and changes
   * nothing when any check, version or existence condition fails.
   */
  multi(ops: ZkOp[]): Promise<void>;
  on(event: 'lost', listener: (reason: string) => void): this;
  on(event: 'connected' | 'disconnected', listener: () => void): this;
  once(event: 'lost', listener: (reason: string) => void): this;
  once(event: 'connected' | 'disconnected', listener: () => void): this;
  off(event: 'lost', listener: (reason: string) => void): this;
  off(event: 'connected' | 'disconnected', listener: () => void): this;
}

/** Opens a real session: see {@link ZkClientSession.open}. */
export const ZkSession = {
  open: (options: ZkSessionOptions): Promise<ZkSession> => ZkClientSession.open(options),
};

/** {@link ZkSession} over node-zookeeper-client, with the fixes listed at the top of this file. */
export class ZkClientSession extends EventEmitter implements ZkSession {
  readonly #client: zookeeper.Client;
  readonly #opts: Required<ZkSessionOptions>;
  readonly #acls: zookeeper.ACL[];
  readonly #guard: ReconnectGuard;
  #lost: string | null = null;
  #lastHeardMs = Date.now();
  #watchdog: NodeJS.Timeout | null = null;
  #pinging = false;

  private constructor(opts: Required<ZkSessionOptions>) {
    super();
    this.#opts = opts;
    this.#client = zookeeper.createClient(opts.connect, {
      sessionTimeout: opts.sessionTimeoutMs,
      spinDelay: 250,
      retries: 0,
    });
    this.#guard = new ReconnectGuard(this.#client);
    if (opts.digest) {
      this.#client.addAuthInfo('digest', Buffer.from(opts.digest));
      this.#acls = [new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id('auth', ''))];
    } else {
      // The library's default (ACL.OPEN_ACL_UNSAFE, missing from its type definitions).
      this.#acls = (zookeeper.ACL as unknown as { OPEN_ACL_UNSAFE: zookeeper.ACL[] }).OPEN_ACL_UNSAFE;
    }
  }

  /** Opens a session, creating the chroot of the connect string first when it is missing. */
  static async open(options: ZkSessionOptions): Promise<ZkClientSession> {
    const opts: Required<ZkSessionOptions> = {
      callTimeoutMs: options.sessionTimeoutMs,
      connectTimeoutMs: 15_000,
      digest: '',
      ...options,
    };
    const slash = opts.connect.indexOf('/');
    if (slash >= 0 && opts.connect.slice(slash) !== '/') {
      const base = await ZkClientSession.#connectRaw({ ...opts, connect: opts.connect.slice(0, slash) });
      try {
        await base.mkdirp(opts.connect.slice(slash).replace(/\/$/, ''));
      } finally {
        await base.close();
      }
    }
    return ZkClientSession.#connectRaw(opts);
  }

  static async #connectRaw(opts: Required<ZkSessionOptions>): Promise<ZkClientSession> {
    const s = new ZkClientSession(opts);
    await s.#connect();
    return s;
  }

  #connect(): Promise<void> {
    const c = this.#client;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        c.close();
        reject(
          new SluiceError(
            ErrorCodes.UNAVAILABLE,
            `ZooKeeper at ${this.#opts.connect} did not answer within ${this.#opts.connectTimeoutMs} ms; check SLUICE_ZOOKEEPER and that ZooKeeper is running`,
            { retryable: true },
          ),
        );
      }, this.#opts.connectTimeoutMs);
      c.once('connected', () => {
        clearTimeout(timer);
        this.#lastHeardMs = Date.now();
        this.#startWatchdog();
        resolve();
      });
      c.on('state', (state) => {
        if (state === zookeeper.State.SYNC_CONNECTED) {
          this.#lastHeardMs = Date.now();
          this.emit('connected');
        } else if (state === zookeeper.State.DISCONNECTED) {
          this.emit('disconnected');
        } else if (state === zookeeper.State.EXPIRED) {
          this.#markLost('session expired');
        } else if (state === zookeeper.State.AUTH_FAILED) {
          this.#markLost('authentication failed');
        }
      });
      c.connect();
    });
  }

  #startWatchdog(): void {
    const every = Math.max(100, Math.floor(this.#opts.sessionTimeoutMs / 6));
    const limit = Math.floor((this.#opts.sessionTimeoutMs * 2) / 3);
    // A healthy server answers a handshake in milliseconds; give up on one well before `limit`,
    // so that a second attempt can still resume the session.
    const handshakeLimit = Math.max(1_000, Math.floor(this.#opts.sessionTimeoutMs / 4));
    this.#watchdog = setInterval(() => {
      if (this.#lost) return;
      if (Date.now() - this.#lastHeardMs > limit) {
        this.#markLost(
          `no answer from ZooKeeper for ${Date.now() - this.#lastHeardMs} ms (limit ${limit} ms)`,
        );
        return;
      }
      this.#guard.unstick(handshakeLimit);
      if (this.#pinging) return;
      this.#pinging = true;
      this.#client.exists('/', (err) => {
        this.#pinging = false;
        if (!err) this.#lastHeardMs = Date.now();
      });
    }, every);
    this.#watchdog.unref();
  }

  #markLost(reason: string): void {
    if (this.#lost) return;
    this.#lost = reason;
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.#watchdog = null;
    try {
      this.#client.close();
    } catch {
      // already closed
    }
    this.#guard.abandon(1_000);
    this.emit('lost', reason);
  }

  /** Why the session is gone, or null while it lives. */
  get lostReason(): string | null {
    return this.#lost;
  }

  get alive(): boolean {
    return this.#lost === null;
  }

  get sessionId(): string {
    return this.#client.getSessionId().toString('hex');
  }

  get sessionTimeoutMs(): number {
    return this.#opts.sessionTimeoutMs;
  }

  /** Ends the session (its ephemeral nodes go at once). */
  async close(): Promise<void> {
    if (this.#lost) return;
    this.#lost = 'closed';
    if (this.#watchdog) clearInterval(this.#watchdog);
    await new Promise<void>((resolve) => {
      const done = setTimeout(resolve, 2_000);
      this.#client.once('disconnected', () => {
        clearTimeout(done);
        resolve();
      });
      this.#client.close();
    });
    this.#guard.abandon(0);
    this.emit('lost', 'closed');
  }

  #call<T>(what: string, fn: (cb: (err: unknown, value?: T) => void) => void): Promise<T> {
    if (this.#lost) {
      return Promise.reject(
        new SluiceError(
          ErrorCodes.ZK_SESSION_LOST,
          `ZooKeeper session is gone (${this.#lost}); ${what} not sent`,
          {
            retryable: true,
          },
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new SluiceError(ErrorCodes.ZK, `ZooKeeper ${what} timed out after ${this.#opts.callTimeoutMs} ms`, {
            retryable: true,
          }),
        );
      }, this.#opts.callTimeoutMs);
      fn((err, value) => {
        clearTimeout(timer);
        if (err) {
          const code = zkCode(err);
          if (code === ZK_CODES.SESSION_EXPIRED) this.#markLost('session expired');
          if (code !== undefined) (err as { zkCode?: number }).zkCode = code;
          reject(err);
        } else {
          this.#lastHeardMs = Date.now();
          resolve(value as T);
        }
      });
    });
  }

  create(
    path: string,
    data: Buffer = Buffer.alloc(0),
    opts: { ephemeral?: boolean; sequential?: boolean } = {},
  ) {
    const mode = opts.ephemeral
      ? opts.sequential
        ? CreateMode.EPHEMERAL_SEQUENTIAL
        : CreateMode.EPHEMERAL
      : opts.sequential
        ? CreateMode.PERSISTENT_SEQUENTIAL
        : CreateMode.PERSISTENT;
    return this.#call<string>(`create ${path}`, (cb) =>
      this.#client.create(path, data, this.#acls, mode, cb),
    );
  }

  /** Creates the node and any missing parents; no error when it exists. */
  async mkdirp(path: string): Promise<void> {
    await this.#call<string>(`mkdirp ${path}`, (cb) => this.#client.mkdirp(path, this.#acls, cb));
  }

  /** The node's data and version, or null when it does not exist. */
  async get(path: string, watcher?: ZkWatcher): Promise<ZkNode | null> {
    try {
      return await this.#call<ZkNode>(`getData ${path}`, (cb) => {
        const done = (err: unknown, data?: Buffer, stat?: zookeeper.Stat) =>
          err ? cb(err) : cb(null, toNode(data, stat as zookeeper.Stat));
        if (watcher) this.#client.getData(path, watcher, done);
        else this.#client.getData(path, done);
      });
    } catch (err) {
      if (isNoNode(err)) return null;
      throw err;
    }
  }

  /** Sets data if the node is at `version` (-1: any). Returns the new version. */
  async set(path: string, data: Buffer, version: number): Promise<number> {
    const stat = await this.#call<zookeeper.Stat>(`setData ${path}`, (cb) =>
      this.#client.setData(path, data, version, cb),
    );
    return stat.version;
  }

  async remove(path: string, version = -1): Promise<void> {
    await this.#call<void>(`remove ${path}`, (cb) => this.#client.remove(path, version, cb));
  }

  async exists(path: string, watcher?: ZkWatcher): Promise<boolean> {
    const stat = await this.#call<zookeeper.Stat | null>(`exists ${path}`, (cb) => {
      if (watcher) this.#client.exists(path, watcher, cb);
      else this.#client.exists(path, cb);
    });
    return Boolean(stat);
  }

  /** Child names, or [] when the node does not exist. */
  async children(path: string, watcher?: ZkWatcher): Promise<string[]> {
    try {
      return await this.#call<string[]>(`getChildren ${path}`, (cb) => {
        if (watcher) this.#client.getChildren(path, watcher, cb);
        else this.#client.getChildren(path, cb);
      });
    } catch (err) {
      if (isNoNode(err)) return [];
      throw err;
    }
  }

  /**
   * With digest auth, gives `path` (and with `below`, every node under it) this session's
   * creator ACL where it is still open to anyone (`world:anyone`, as nodes made before
   * SLUICE_ZOOKEEPER_DIGEST was set are). Returns the paths it closed; without digest auth it
   * changes nothing. Not part of ZkSession: only the programs' start calls it.
   *
   * Post-order (children first, the node itself last), and a node that is already closed ends
   * the walk there: a closed node was made with a digest (its children came after it, with the
   * digest too) or closed by a walk that finished everything below it first. So every start
   * after the first costs one getACL, not two calls per node of a tree that at scale holds
   * tens of thousands of partitions and ranges, in every master and worker that starts.
   */
  async closeOpenNodes(path: string, below = true): Promise<string[]> {
    if (!this.#opts.digest) return [];
    let acls: zookeeper.ACL[];
    try {
      acls = await this.#call<zookeeper.ACL[]>(`getACL ${path}`, (cb) => this.#client.getACL(path, cb));
    } catch (err) {
      if (isNoNode(err)) return [];
      throw err;
    }
    if (!acls.some((a) => a.id.scheme === 'world')) return [];
    const closed: string[] = [];
    if (below) {
      for (const c of await this.children(path))
        closed.push(...(await this.closeOpenNodes(`${path === '/' ? '' : path}/${c}`)));
    }
    try {
      await this.#call<zookeeper.Stat>(`setACL ${path}`, (cb) =>
        this.#client.setACL(path, this.#acls, -1, cb),
      );
    } catch (err) {
      if (isNoNode(err)) return closed; // removed meanwhile (a range committed and pruned)
      if (zkCode(err) !== -102 /* NO_AUTH */) throw err;
      throw new SluiceError(
        ErrorCodes.ZK,
        `ZooKeeper node ${path} may not be changed by the user of SLUICE_ZOOKEEPER_DIGEST; give it that user's ACL (zkCli.sh: addauth digest <user:password>, then setAcl ${path} auth::cdrwa) or set the digest it was made with`,
      );
    }
    closed.push(path);
    return closed;
  }

  /** Removes a node and everything below it (not atomic; for cleanup). */
  async removeRecursive(path: string): Promise<void> {
    for (const c of await this.children(path)) await this.removeRecursive(`${path}/${c}`);
    try {
      await this.remove(path);
    } catch (err) {
      if (!isNoNode(err)) throw err;
    }
  }

  /**
   * All-or-nothing multi-op. Throws the first failing op's error (with `zkCode`) and changes
   * nothing when any check, version or existence condition fails.
   */
  multi(ops: ZkOp[]): Promise<void> {
    return this.#call<void>(`multi of ${ops.length} ops`, (cb) => {
      const tx = this.#client.transaction();
      const raw = (tx as unknown as { ops: Array<{ version?: number }> }).ops;
      for (const o of ops) {
        if (o.op === 'create') {
          tx.create(
            o.path,
            o.data ?? Buffer.alloc(0),
            this.#acls,
            o.ephemeral ? CreateMode.EPHEMERAL : CreateMode.PERSISTENT,
          );
        } else if (o.op === 'set') {
          tx.setData(o.path, o.data, o.version);
          raw[raw.length - 1]!.version = o.version;
        } else if (o.op === 'check') {
          tx.check(o.path, o.version);
          raw[raw.length - 1]!.version = o.version;
        } else {
          tx.remove(o.path, o.version);
          raw[raw.length - 1]!.version = o.version;
        }
      }
      tx.commit((err) => cb(err));
    });
  }
}

export { Exception as ZkException };
