/**
 * An in-memory stand-in for ZkSession with the calls the leader's planning and tracking
 * make (get, children, exists, multi), so the master's own code can be timed at 10,000
 * partitions and more without ZooKeeper's latency. It counts every call: those counts are
 * the ZooKeeper load the same passes would put on a real server.
 */
import type { ZkNode, ZkOp } from '@sluice/shared';

function zkError(code: number, what: string): Error {
  return Object.assign(new Error(what), { zkCode: code });
}

const NO_NODE = -101;
const BAD_VERSION = -103;
const NODE_EXISTS = -110;

export class FakeZk {
  readonly #nodes = new Map<string, { data: Buffer; version: number }>();
  readonly #children = new Map<string, Set<string>>();
  readonly counts: Record<string, number> = {};

  #count(name: string, n = 1): void {
    this.counts[name] = (this.counts[name] ?? 0) + n;
  }

  resetCounts(): void {
    for (const k of Object.keys(this.counts)) delete this.counts[k];
  }

  #parent(path: string): string {
    return path.slice(0, path.lastIndexOf('/')) || '/';
  }

  /** Creates a node and its missing parents (setup, not counted). */
  put(path: string, data: Buffer = Buffer.alloc(0)): void {
    const parent = this.#parent(path);
    if (parent !== '/' && !this.#nodes.has(parent)) this.put(parent);
    this.#nodes.set(path, { data, version: 0 });
    let kids = this.#children.get(parent);
    if (!kids) {
      kids = new Set();
      this.#children.set(parent, kids);
    }
    kids.add(path.slice(parent.length + (parent === '/' ? 0 : 1)));
  }

  /** Overwrites a node as a worker's write would (not counted as the leader's). */
  overwrite(path: string, data: Buffer): void {
    const n = this.#nodes.get(path);
    if (!n) throw zkError(NO_NODE, path);
    n.data = data;
    n.version++;
  }

  #remove(path: string): void {
    this.#nodes.delete(path);
    const parent = this.#parent(path);
    this.#children.get(parent)?.delete(path.slice(parent.length + 1));
  }

  /** Every node below `prefix` (setup and inspection, not counted). */
  *below(prefix: string): Iterable<[string, { data: Buffer; version: number }]> {
    for (const e of this.#nodes) if (e[0].startsWith(prefix)) yield e;
  }

  /** A deep copy of every node (to weigh the store itself). */
  clone(): FakeZk {
    const c = new FakeZk();
    for (const [path, n] of this.#nodes) {
      c.put(path, Buffer.from(n.data));
      c.overwrite(path, c.#nodes.get(path)!.data);
    }
    return c;
  }

  get size(): number {
    return this.#nodes.size;
  }

  async get(path: string): Promise<ZkNode | null> {
    this.#count('get');
    const n = this.#nodes.get(path);
    return n ? { data: n.data, version: n.version, ephemeralOwner: '0', ctimeMs: 0, mtimeMs: 0 } : null;
  }

  async exists(path: string): Promise<boolean> {
    this.#count('exists');
    return this.#nodes.has(path);
  }

  async children(path: string): Promise<string[]> {
    this.#count('children');
    if (!this.#nodes.has(path)) throw zkError(NO_NODE, path);
    return [...(this.#children.get(path) ?? [])];
  }

  async multi(ops: ZkOp[]): Promise<void> {
    this.#count('multi');
    this.#count('multi.ops', ops.length);
    // All or nothing, each op seeing the ones before it: checked against a staged view.
    const staged = new Map<string, { version: number } | null>();
    const view = (path: string) => (staged.has(path) ? staged.get(path) : this.#nodes.get(path)) ?? null;
    for (const op of ops) {
      const n = view(op.path);
      if (op.op === 'create') {
        if (n) throw zkError(NODE_EXISTS, op.path);
        if (this.#parent(op.path) !== '/' && !view(this.#parent(op.path))) throw zkError(NO_NODE, op.path);
        staged.set(op.path, { version: 0 });
      } else if (!n) throw zkError(NO_NODE, op.path);
      else if (op.version !== -1 && n.version !== op.version) throw zkError(BAD_VERSION, op.path);
      else if (op.op === 'set') staged.set(op.path, { version: n.version + 1 });
      else if (op.op === 'remove') staged.set(op.path, null);
    }
    for (const op of ops) {
      if (op.op === 'create') this.put(op.path, op.data ?? Buffer.alloc(0));
      else if (op.op === 'set') {
        const n = this.#nodes.get(op.path)!;
        n.data = op.data;
        n.version++;
      } else if (op.op === 'remove') this.#remove(op.path);
    }
  }
}
