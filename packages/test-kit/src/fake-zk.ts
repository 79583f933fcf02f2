/**
 * An in-memory ZooKeeper, so that the code which only needs ZooKeeper (stores, API routes,
 * leader election and the leader's passes) is tested with no server running, and so that the
 * benchmark can time the master's own code at 10,000 partitions and more without ZooKeeper's
 * latency.
 *
 * {@link FakeZk} is the server: one tree of nodes. {@link FakeZk.session} opens a client
 * session on it that implements `ZkSession` of `@sluice/shared`, with what the code relies on:
 * versions and version checks (a check of version 0 really checks), all-or-nothing `multi`,
 * ephemeral nodes that go with their session, sequential nodes, and one-shot watches. A
 * session can be closed or expired ({@link FakeZkSession.expire}) as a real one would be.
 * The server counts every call: those counts are the ZooKeeper load the same calls would put
 * on a real server (the benchmark reports them).
 *
 * Not modelled: ACLs, chroots (each FakeZk is a fresh tree), connection loss.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  ErrorCodes,
  SluiceError,
  ZK_CODES,
  type ZkNode,
  type ZkOp,
  type ZkSession,
  type ZkWatcher,
} from '@sluice/shared';

/** node-zookeeper-client's `Event.type` numbers. */
const EVENT = { NODE_CREATED: 1, NODE_DELETED: 2, NODE_DATA_CHANGED: 3, NODE_CHILDREN_CHANGED: 4 } as const;
const EVENT_NAMES: Record<number, string> = {
  1: 'NODE_CREATED',
  2: 'NODE_DELETED',
  3: 'NODE_DATA_CHANGED',
  4: 'NODE_CHILDREN_CHANGED',
};

/** An error as the real client throws it: `zkCode` is what `zkCode()` and `isNoNode()` read. */
function zkError(code: number, what: string): Error {
  return Object.assign(new Error(`ZooKeeper error ${code}: ${what}`), { zkCode: code });
}

interface StoredNode {
  data: Buffer;
  version: number;
  /** The owning session's id for an ephemeral node, else all zeros. */
  ephemeralOwner: string;
  ctimeMs: number;
  mtimeMs: number;
  /** The next sequence number of a sequential child. */
  nextSequence: number;
}

const NOBODY = '0000000000000000';

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/')) || '/';
}

function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export class FakeZk {
  readonly #nodes = new Map<string, StoredNode>([['/', FakeZk.#node(Buffer.alloc(0), NOBODY)]]);
  readonly #children = new Map<string, Set<string>>();
  readonly #dataWatches = new Map<string, Set<{ session: FakeZkSession; fn: ZkWatcher }>>();
  readonly #childWatches = new Map<string, Set<{ session: FakeZkSession; fn: ZkWatcher }>>();
  readonly #sessions = new Set<FakeZkSession>();
  /** Calls by kind (`get`, `children`, `multi`, `multi.ops`, ...), for load figures. */
  readonly counts: Record<string, number> = {};

  static #node(data: Buffer, owner: string): StoredNode {
    const now = Date.now();
    return { data, version: 0, ephemeralOwner: owner, ctimeMs: now, mtimeMs: now, nextSequence: 0 };
  }

  /** A new client session on this server. */
  session(opts: { sessionTimeoutMs?: number } = {}): FakeZkSession {
    const s = new FakeZkSession(this, opts.sessionTimeoutMs ?? 10_000);
    this.#sessions.add(s);
    return s;
  }

  count(name: string, n = 1): void {
    this.counts[name] = (this.counts[name] ?? 0) + n;
  }

  resetCounts(): void {
    for (const k of Object.keys(this.counts)) delete this.counts[k];
  }

  /** Creates a node and its missing parents, or replaces its data (setup: not counted, no watch fires). */
  put(path: string, data: Buffer = Buffer.alloc(0)): void {
    const existing = this.#nodes.get(path);
    if (existing) {
      existing.data = data;
      return;
    }
    const parent = parentOf(path);
    if (!this.#nodes.has(parent)) this.put(parent);
    this.#insert(path, data, NOBODY);
  }

  /** Overwrites a node as another process's write would (not counted; its watches fire). */
  overwrite(path: string, data: Buffer): void {
    this.setData(path, data, -1);
  }

  /** Every node below `prefix` (setup and inspection, not counted). */
  *below(prefix: string): Iterable<[string, { data: Buffer; version: number }]> {
    for (const e of this.#nodes) if (e[0].startsWith(prefix)) yield e;
  }

  /** A deep copy of every node (to weigh the store itself). */
  clone(): FakeZk {
    const c = new FakeZk();
    for (const [path, n] of this.#nodes) {
      if (path === '/') continue;
      c.put(path, Buffer.from(n.data));
      c.#nodes.get(path)!.version = n.version;
    }
    return c;
  }

  /** Number of nodes, the root included. */
  get size(): number {
    return this.#nodes.size;
  }

  /** The stored node, or undefined (no copy: for the sessions of this server). */
  node(path: string): StoredNode | undefined {
    return this.#nodes.get(path);
  }

  childNames(path: string): string[] {
    return [...(this.#children.get(path) ?? [])].sort();
  }

  watchData(path: string, session: FakeZkSession, fn: ZkWatcher): void {
    FakeZk.#addWatch(this.#dataWatches, path, session, fn);
  }

  watchChildren(path: string, session: FakeZkSession, fn: ZkWatcher): void {
    FakeZk.#addWatch(this.#childWatches, path, session, fn);
  }

  static #addWatch(
    map: Map<string, Set<{ session: FakeZkSession; fn: ZkWatcher }>>,
    path: string,
    session: FakeZkSession,
    fn: ZkWatcher,
  ): void {
    let set = map.get(path);
    if (!set) {
      set = new Set();
      map.set(path, set);
    }
    set.add({ session, fn });
  }

  /**
   * Fires and forgets the watches of `path` in `map`, after the current call returns, but
   * before its caller goes on: ZooKeeper delivers a watch event before any later answer on
   * the session, and the leader's watched reads (leadership/watched-zk.ts) rely on that.
   */
  #fire(map: Map<string, Set<{ session: FakeZkSession; fn: ZkWatcher }>>, path: string, type: number): void {
    const set = map.get(path);
    if (!set) return;
    map.delete(path);
    const event = {
      getType: () => type,
      getName: () => EVENT_NAMES[type] ?? String(type),
      getPath: () => path,
    };
    queueMicrotask(() => {
      for (const w of set) if (w.session.alive) w.fn(event);
    });
  }

  #insert(path: string, data: Buffer, owner: string): void {
    const parent = parentOf(path);
    this.#nodes.set(path, FakeZk.#node(data, owner));
    let kids = this.#children.get(parent);
    if (!kids) {
      kids = new Set();
      this.#children.set(parent, kids);
    }
    kids.add(nameOf(path));
    this.#fire(this.#dataWatches, path, EVENT.NODE_CREATED);
    this.#fire(this.#childWatches, parent, EVENT.NODE_CHILDREN_CHANGED);
  }

  /** Creates one node (parent must exist); returns its path, with the sequence number for a sequential one. */
  createNode(path: string, data: Buffer, owner: string, sequential: boolean): string {
    const parent = parentOf(path);
    const p = this.#nodes.get(parent);
    if (!p) throw zkError(ZK_CODES.NO_NODE, `no parent of ${path}`);
    const real = sequential ? `${path}${String(p.nextSequence++).padStart(10, '0')}` : path;
    if (this.#nodes.has(real)) throw zkError(ZK_CODES.NODE_EXISTS, real);
    this.#insert(real, data, owner);
    return real;
  }

  setData(path: string, data: Buffer, version: number): number {
    const n = this.#nodes.get(path);
    if (!n) throw zkError(ZK_CODES.NO_NODE, path);
    if (version !== -1 && n.version !== version) throw zkError(ZK_CODES.BAD_VERSION, path);
    n.data = data;
    n.version++;
    n.mtimeMs = Date.now();
    this.#fire(this.#dataWatches, path, EVENT.NODE_DATA_CHANGED);
    return n.version;
  }

  removeNode(path: string, version: number): void {
    const n = this.#nodes.get(path);
    if (!n) throw zkError(ZK_CODES.NO_NODE, path);
    if (version !== -1 && n.version !== version) throw zkError(ZK_CODES.BAD_VERSION, path);
    if ((this.#children.get(path)?.size ?? 0) > 0) throw zkError(ZK_CODES.NOT_EMPTY, path);
    this.#nodes.delete(path);
    this.#children.delete(path);
    const parent = parentOf(path);
    this.#children.get(parent)?.delete(nameOf(path));
    this.#fire(this.#dataWatches, path, EVENT.NODE_DELETED);
    this.#fire(this.#childWatches, path, EVENT.NODE_DELETED);
    this.#fire(this.#childWatches, parent, EVENT.NODE_CHILDREN_CHANGED);
  }

  /**
   * All or nothing, each op seeing the ones before it: the ops are checked against a staged
   * view first, and applied only when every one passes. Throws the first failing op's error.
   */
  multi(ops: ZkOp[], owner: string): void {
    const staged = new Map<string, { version: number; kids: number } | null>();
    const view = (path: string) => {
      if (staged.has(path)) return staged.get(path) ?? null;
      const n = this.#nodes.get(path);
      return n ? { version: n.version, kids: this.#children.get(path)?.size ?? 0 } : null;
    };
    for (const op of ops) {
      const n = view(op.path);
      if (op.op === 'create') {
        if (n) throw zkError(ZK_CODES.NODE_EXISTS, op.path);
        const parent = view(parentOf(op.path));
        if (!parent) throw zkError(ZK_CODES.NO_NODE, op.path);
        staged.set(op.path, { version: 0, kids: 0 });
        staged.set(parentOf(op.path), { ...parent, kids: parent.kids + 1 });
      } else if (!n) throw zkError(ZK_CODES.NO_NODE, op.path);
      else if (op.version !== -1 && n.version !== op.version) throw zkError(ZK_CODES.BAD_VERSION, op.path);
      else if (op.op === 'set') staged.set(op.path, { ...n, version: n.version + 1 });
      else if (op.op === 'remove') {
        if (n.kids > 0) throw zkError(ZK_CODES.NOT_EMPTY, op.path);
        staged.set(op.path, null);
        const parent = view(parentOf(op.path));
        if (parent) staged.set(parentOf(op.path), { ...parent, kids: parent.kids - 1 });
      }
    }
    for (const op of ops) {
      if (op.op === 'create')
        this.createNode(op.path, op.data ?? Buffer.alloc(0), op.ephemeral ? owner : NOBODY, false);
      else if (op.op === 'set') this.setData(op.path, op.data, -1);
      else if (op.op === 'remove') this.removeNode(op.path, -1);
    }
  }

  /** Ends a session on the server: its ephemeral nodes go, its watches are dropped. */
  endSession(session: FakeZkSession): void {
    this.#sessions.delete(session);
    for (const [path, n] of [...this.#nodes]) {
      if (n.ephemeralOwner === session.sessionId && this.#nodes.has(path)) this.removeNode(path, -1);
    }
    for (const map of [this.#dataWatches, this.#childWatches]) {
      for (const set of map.values()) for (const w of set) if (w.session === session) set.delete(w);
    }
  }

  /** Closes every session still open (a test's cleanup). */
  async closeAll(): Promise<void> {
    for (const s of [...this.#sessions]) await s.close();
  }
}

/** A client session on a {@link FakeZk}; implements `ZkSession` of `@sluice/shared`. */
export class FakeZkSession extends EventEmitter implements ZkSession {
  readonly #server: FakeZk;
  readonly #id = randomBytes(8).toString('hex');
  readonly #timeoutMs: number;
  #lost: string | null = null;

  constructor(server: FakeZk, sessionTimeoutMs: number) {
    super();
    this.#server = server;
    this.#timeoutMs = sessionTimeoutMs;
  }

  get lostReason(): string | null {
    return this.#lost;
  }

  get alive(): boolean {
    return this.#lost === null;
  }

  get sessionId(): string {
    return this.#id;
  }

  get sessionTimeoutMs(): number {
    return this.#timeoutMs;
  }

  /** The server ends this session as ZooKeeper does when a client is silent too long. */
  expire(): void {
    this.#end('session expired');
  }

  async close(): Promise<void> {
    this.#end('closed');
  }

  #end(reason: string): void {
    if (this.#lost) return;
    this.#lost = reason;
    this.#server.endSession(this);
    this.emit('lost', reason);
  }

  /** Runs `fn` as one call to the server: refused once the session is gone, as ZkSession does. */
  async #call<T>(what: string, fn: () => T): Promise<T> {
    // A real call always takes a trip through the event loop; so does this one.
    await Promise.resolve();
    if (this.#lost) {
      throw new SluiceError(
        ErrorCodes.ZK_SESSION_LOST,
        `ZooKeeper session is gone (${this.#lost}); ${what} not sent`,
        {
          retryable: true,
        },
      );
    }
    this.#server.count(what);
    return fn();
  }

  create(
    path: string,
    data: Buffer = Buffer.alloc(0),
    opts: { ephemeral?: boolean; sequential?: boolean } = {},
  ): Promise<string> {
    return this.#call('create', () =>
      this.#server.createNode(path, data, opts.ephemeral ? this.#id : NOBODY, opts.sequential ?? false),
    );
  }

  mkdirp(path: string): Promise<void> {
    return this.#call('mkdirp', () => {
      let at = '';
      for (const part of path.split('/').filter(Boolean)) {
        at = `${at}/${part}`;
        if (!this.#server.node(at)) this.#server.createNode(at, Buffer.alloc(0), NOBODY, false);
      }
    });
  }

  get(path: string, watcher?: ZkWatcher): Promise<ZkNode | null> {
    return this.#call('get', () => {
      const n = this.#server.node(path);
      if (n && watcher) this.#server.watchData(path, this, watcher);
      return n
        ? {
            data: n.data,
            version: n.version,
            ephemeralOwner: n.ephemeralOwner,
            ctimeMs: n.ctimeMs,
            mtimeMs: n.mtimeMs,
          }
        : null;
    });
  }

  set(path: string, data: Buffer, version: number): Promise<number> {
    return this.#call('set', () => this.#server.setData(path, data, version));
  }

  remove(path: string, version = -1): Promise<void> {
    return this.#call('remove', () => this.#server.removeNode(path, version));
  }

  exists(path: string, watcher?: ZkWatcher): Promise<boolean> {
    return this.#call('exists', () => {
      if (watcher) this.#server.watchData(path, this, watcher);
      return this.#server.node(path) !== undefined;
    });
  }

  children(path: string, watcher?: ZkWatcher): Promise<string[]> {
    return this.#call('children', () => {
      if (!this.#server.node(path)) return [];
      if (watcher) this.#server.watchChildren(path, this, watcher);
      return this.#server.childNames(path);
    });
  }

  async removeRecursive(path: string): Promise<void> {
    for (const c of await this.children(path)) await this.removeRecursive(`${path}/${c}`);
    try {
      await this.remove(path);
    } catch (err) {
      if ((err as { zkCode?: number }).zkCode !== ZK_CODES.NO_NODE) throw err;
    }
  }

  multi(ops: ZkOp[]): Promise<void> {
    return this.#call('multi', () => {
      this.#server.count('multi.ops', ops.length);
      this.#server.multi(ops, this.#id);
    });
  }
}
