/**
 * A test's own look into a cluster's ZooKeeper state (its chroot): range nodes, partition
 * states, live workers, the leader. Read-only; fault tests poll it to time what the leader
 * and the workers do.
 */
import {
  decodeJson,
  LEADER_PATH,
  type LeaderRecord,
  type PartitionState,
  parseRangeNodeName,
  partitionPath,
  partitionsPath,
  type RangeRecord,
  WORKERS_PATH,
  ZkSession,
} from '@sluice/shared';

export interface RangeNodeView {
  topic: string;
  partition: number;
  start: bigint;
  end: bigint;
  record: RangeRecord;
  version: number;
}

export class ZkView {
  readonly session: ZkSession;

  private constructor(session: ZkSession) {
    this.session = session;
  }

  /** `connect` with the cluster's chroot, e.g. `cluster.env.SLUICE_ZOOKEEPER`. */
  static async open(connect: string): Promise<ZkView> {
    return new ZkView(await ZkSession.open({ connect, sessionTimeoutMs: 30_000 }));
  }

  async partitions(topic: string): Promise<number[]> {
    return (await this.session.children(partitionsPath(topic)))
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .sort((a, b) => a - b);
  }

  async partitionState(topic: string, partition: number): Promise<PartitionState | null> {
    const node = await this.session.get(partitionPath(topic, partition));
    return node && node.data.length > 0 ? decodeJson<PartitionState>(node.data, 'partition') : null;
  }

  /** Every range node of the topic now (ranges in flight), by partition and start. */
  async ranges(topic: string): Promise<RangeNodeView[]> {
    const out: RangeNodeView[] = [];
    for (const partition of await this.partitions(topic)) {
      const base = partitionPath(topic, partition);
      const names = (await this.session.children(base)).filter((n) => /^\d{20}-\d{20}$/.test(n)).sort();
      const nodes = await Promise.all(names.map((n) => this.session.get(`${base}/${n}`)));
      nodes.forEach((node, i) => {
        if (!node || node.data.length === 0) return;
        const { start, end } = parseRangeNodeName(names[i]!);
        out.push({
          topic,
          partition,
          start,
          end,
          record: decodeJson<RangeRecord>(node.data, names[i]!),
          version: node.version,
        });
      });
    }
    return out;
  }

  /** One range node, or null when it is gone (committed and pruned). */
  async range(topic: string, partition: number, start: bigint, end: bigint): Promise<RangeRecord | null> {
    const name = `${String(start).padStart(20, '0')}-${String(end).padStart(20, '0')}`;
    const node = await this.session.get(`${partitionPath(topic, partition)}/${name}`);
    return node && node.data.length > 0 ? decodeJson<RangeRecord>(node.data, name) : null;
  }

  /**
   * The worker among `candidates` with the most ranges of `topics` active on it now, and those
   * ranges; among those whose ranges `accept` takes, when given, and of those the ones whose
   * ranges `prefer` likes first. Null when none has one.
   */
  async busiestWorker(
    topics: string | readonly string[],
    candidates: Iterable<string>,
    accept: (ranges: RangeNodeView[]) => boolean = () => true,
    prefer: (ranges: RangeNodeView[]) => boolean = () => false,
  ): Promise<{ worker: string; ranges: RangeNodeView[] } | null> {
    const wanted = new Set(candidates);
    const byWorker = new Map<string, RangeNodeView[]>();
    const all = await Promise.all(
      (typeof topics === 'string' ? [topics] : topics).map((t) => this.ranges(t)),
    );
    for (const r of all.flat()) {
      const w = r.record.worker;
      if (r.record.state !== 'active' || !w || !wanted.has(w)) continue;
      byWorker.set(w, [...(byWorker.get(w) ?? []), r]);
    }
    const best = [...byWorker]
      .filter(([, ranges]) => accept(ranges))
      .sort((a, b) => Number(prefer(b[1])) - Number(prefer(a[1])) || b[1].length - a[1].length)[0];
    return best ? { worker: best[0], ranges: best[1] } : null;
  }

  async workers(): Promise<string[]> {
    return (await this.session.children(WORKERS_PATH)).sort();
  }

  /** `/sluice/leader` and its version (the epoch). */
  async leader(): Promise<{ record: LeaderRecord; version: number } | null> {
    const node = await this.session.get(LEADER_PATH);
    return node && node.data.length > 0
      ? { record: decodeJson<LeaderRecord>(node.data, LEADER_PATH), version: node.version }
      : null;
  }

  async close(): Promise<void> {
    await this.session.close();
  }
}
