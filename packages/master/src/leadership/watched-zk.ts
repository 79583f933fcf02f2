/**
 * ZooKeeper reads of what changes rarely, answered from memory while a watch says nothing
 * changed. The leader's (LEADER_WATCHED): the topic list (`/sluice/topics`'s children), the
 * replay list, each topic node, and each range node (a topic's or a replay's); the status service's
 * (STATUS_WATCHED) also every partition node and its range names, which it read in full for
 * each answer and throughput sample, the bulk of an idle master's cost. Without it every pass read every registered
 * topic and the first range in flight of every partition, and every supervisor sweep read
 * every range in flight: ZooKeeper requests per pass grew with all partitions, not with
 * those that changed (bench/README.md, "the leader at scale").
 *
 * Why this is safe for exactly-once: a cached answer is one ZooKeeper gave on this session,
 * and ZooKeeper delivers a node's watch event before any later answer that reflects its
 * change, so a cached node is never older than what a read issued at the watch's last
 * delivery would have returned. Every write the leader makes stays a fenced multi checked
 * against the version read (fenced-writer.ts): a stale node can cost a refused write (and a
 * re-read), never a wrong one. The leader's own writes through this session drop what they
 * touch before and after they are sent. One instance lives for one leadership term on one
 * session; `refresh()` (at each reconcile) forgets every cached answer as a belt over the
 * watches, keeping the watches themselves so that re-reading does not stack them.
 */
import type { ZkNode, ZkOp, ZkSession, ZkWatcher } from '@sluice/shared';
import { REPLAYS_PATH, TOPICS_PATH } from '@sluice/shared';

/** Range nodes are named `{start:020}-{end:020}`; topic nodes sit right under TOPICS_PATH. */
const RANGE_NODE = /\/\d{20}-\d{20}$/;
const TOPIC_NODE = new RegExp(`^${TOPICS_PATH}/[^/]+$`);
const PARTITIONS_NODE = new RegExp(`^${TOPICS_PATH}/[^/]+/partitions$`);
const PARTITION_NODE = new RegExp(`^${TOPICS_PATH}/[^/]+/partitions/\\d+$`);

/** Which reads are answered from memory. */
export interface WatchedPaths {
  /** Nodes whose data and version are cached. */
  nodes: (path: string) => boolean;
  /** Nodes whose child names are cached. */
  children: (path: string) => boolean;
}

/**
 * The leader's: the topic list, topic nodes and range nodes, and the replay list (the replay
 * runner looks at it every plan interval, and it is empty in most installations).
 */
export const LEADER_WATCHED: WatchedPaths = {
  nodes: (p) => RANGE_NODE.test(p) || TOPIC_NODE.test(p),
  children: (p) => p === TOPICS_PATH || p === REPLAYS_PATH,
};

/**
 * The status service's (status-service.ts), which reads every partition node and its range
 * names for each answer and throughput sample: those too, and the partitions lists.
 */
export const STATUS_WATCHED: WatchedPaths = {
  nodes: (p) => LEADER_WATCHED.nodes(p) || PARTITION_NODE.test(p),
  children: (p) => p === TOPICS_PATH || PARTITIONS_NODE.test(p) || PARTITION_NODE.test(p),
};

export class WatchedZk implements ZkSession {
  readonly #zk: ZkSession;
  readonly #paths: WatchedPaths;
  /** Paths whose data watch is set and has not fired. */
  readonly #watched = new Set<string>();
  readonly #nodes = new Map<string, ZkNode>();
  /** Paths whose child watch (or, for an empty list, existence watch) is set and has not fired. */
  readonly #childWatched = new Set<string>();
  readonly #children = new Map<string, string[]>();

  constructor(zk: ZkSession, paths: WatchedPaths = LEADER_WATCHED) {
    this.#zk = zk;
    this.#paths = paths;
  }

  /** The session this one reads through. */
  get session(): ZkSession {
    return this.#zk;
  }

  /** Forgets every cached answer (the watches stay set): the next reads go to ZooKeeper. */
  refresh(): void {
    this.#nodes.clear();
    this.#children.clear();
  }

  get lostReason(): string | null {
    return this.#zk.lostReason;
  }

  get alive(): boolean {
    return this.#zk.alive;
  }

  get sessionId(): string {
    return this.#zk.sessionId;
  }

  get sessionTimeoutMs(): number {
    return this.#zk.sessionTimeoutMs;
  }

  close(): Promise<void> {
    return this.#zk.close();
  }

  async get(path: string, watcher?: ZkWatcher): Promise<ZkNode | null> {
    if (watcher || !this.#paths.nodes(path)) return this.#zk.get(path, watcher);
    const hit = this.#nodes.get(path);
    if (hit) return hit;
    const watch = !this.#watched.has(path);
    const node = await this.#zk.get(
      path,
      watch
        ? () => {
            this.#watched.delete(path);
            this.#nodes.delete(path);
          }
        : undefined,
    );
    // ZooKeeper sets a data watch only on a node that exists.
    if (node && watch) this.#watched.add(path);
    if (node && this.#watched.has(path)) this.#nodes.set(path, node);
    return node;
  }

  async children(path: string, watcher?: ZkWatcher): Promise<string[]> {
    if (watcher || !this.#paths.children(path)) return this.#zk.children(path, watcher);
    const hit = this.#children.get(path);
    if (hit) return [...hit];
    const watch = !this.#childWatched.has(path);
    const fired = () => {
      this.#childWatched.delete(path);
      this.#children.delete(path);
    };
    let names = await this.#zk.children(path, watch ? fired : undefined);
    if (watch) {
      // An empty answer may be a node that does not exist, on which no child watch is left:
      // an existence watch then tells when it is created. If it exists by now (created
      // meanwhile, or simply childless), its children are read again with a watch that holds.
      if (names.length === 0 && (await this.#zk.exists(path, fired)))
        names = await this.#zk.children(path, fired);
      this.#childWatched.add(path);
    }
    if (this.#childWatched.has(path)) this.#children.set(path, names);
    return [...names];
  }

  #drop(path: string): void {
    this.#nodes.delete(path);
    this.#children.delete(path);
    const parent = path.slice(0, path.lastIndexOf('/')) || '/';
    this.#children.delete(parent);
  }

  async #changing<T>(paths: readonly string[], fn: () => Promise<T>): Promise<T> {
    for (const p of paths) this.#drop(p);
    try {
      return await fn();
    } finally {
      for (const p of paths) this.#drop(p);
    }
  }

  create(path: string, data?: Buffer, opts?: { ephemeral?: boolean; sequential?: boolean }) {
    return this.#changing([path], () => this.#zk.create(path, data, opts));
  }

  mkdirp(path: string): Promise<void> {
    return this.#changing([path], () => this.#zk.mkdirp(path));
  }

  set(path: string, data: Buffer, version: number): Promise<number> {
    return this.#changing([path], () => this.#zk.set(path, data, version));
  }

  remove(path: string, version?: number): Promise<void> {
    return this.#changing([path], () => this.#zk.remove(path, version));
  }

  exists(path: string, watcher?: ZkWatcher): Promise<boolean> {
    return this.#zk.exists(path, watcher);
  }

  removeRecursive(path: string): Promise<void> {
    return this.#changing([path], async () => {
      await this.#zk.removeRecursive(path);
      for (const p of this.#nodes.keys()) if (p.startsWith(`${path}/`)) this.#nodes.delete(p);
      for (const p of this.#children.keys()) if (p.startsWith(`${path}/`)) this.#children.delete(p);
    });
  }

  multi(ops: ZkOp[]): Promise<void> {
    return this.#changing(
      ops.map((o) => o.path),
      () => this.#zk.multi(ops),
    );
  }

  on(event: 'lost', listener: (reason: string) => void): this;
  on(event: 'connected' | 'disconnected', listener: () => void): this;
  on(event: 'lost' | 'connected' | 'disconnected', listener: (reason: string) => void): this {
    this.#zk.on(event as 'lost', listener);
    return this;
  }

  once(event: 'lost', listener: (reason: string) => void): this;
  once(event: 'connected' | 'disconnected', listener: () => void): this;
  once(event: 'lost' | 'connected' | 'disconnected', listener: (reason: string) => void): this {
    this.#zk.once(event as 'lost', listener);
    return this;
  }

  off(event: 'lost', listener: (reason: string) => void): this;
  off(event: 'connected' | 'disconnected', listener: () => void): this;
  off(event: 'lost' | 'connected' | 'disconnected', listener: (reason: string) => void): this {
    this.#zk.off(event as 'lost', listener);
    return this;
  }
}
