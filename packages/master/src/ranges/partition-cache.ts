/**
 * The leader's in-memory view of partitions and their ranges in flight, for one leadership
 * term. It is built from ZooKeeper when a topic is first seen in the term and then kept by
 * the leader's own fenced writes: only the leader creates and removes range nodes and writes
 * partition state, so while its epoch holds nothing else changes them. (Workers change the
 * *contents* of range nodes, which is why range records are read, not cached.)
 */
import {
  decodeJson,
  type PartitionOffsets,
  type PartitionState,
  parseRangeNodeName,
  partitionPath,
  partitionsPath,
  type ZkSession,
} from '@sluice/shared';
import type { Arrival } from './planner.ts';

export interface Span {
  start: bigint;
  end: bigint;
}

export interface PartitionEntry {
  topic: string;
  partition: number;
  state: PartitionState;
  /** Version of the partition node as last written or read. */
  version: number;
  /** Ranges in flight, sorted by start. */
  ranges: Span[];
  /** When unplanned offsets became visible (planner.ts). Not persisted. */
  arrivals: Arrival[];
  /**
   * Kafka's offsets and the committed offset when planning last looked (planning-loop.ts);
   * kept as it is while they stay, so a quiet pass allocates nothing per partition.
   */
  seen?: PartitionOffsets & { committed: string };
}

interface TopicEntry {
  partitionsNode: boolean;
  partitions: Map<number, PartitionEntry>;
  /**
   * Ranges in flight over the topic's partitions, kept by every method that changes
   * `ranges`: the enqueuer asks it for each range it adds, and summing the partitions each
   * time made a pass quadratic in a topic's partitions (bench/README.md).
   */
  inFlight: number;
  /** `partitions` by number, made on first use after a change (a pass asks it several times). */
  sorted: PartitionEntry[] | null;
}

const byStart = (a: Span, b: Span) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0);

export class PartitionCache {
  readonly #topics = new Map<string, TopicEntry>();

  has(topic: string): boolean {
    return this.#topics.has(topic);
  }

  topics(): string[] {
    return [...this.#topics.keys()];
  }

  /** Reads a topic's partitions and range node names from ZooKeeper (replacing what is cached). */
  async load(zk: ZkSession, topic: string): Promise<void> {
    const partitionsNode = await zk.exists(partitionsPath(topic));
    const partitions = new Map<number, PartitionEntry>();
    let inFlight = 0;
    if (partitionsNode) {
      for (const name of await zk.children(partitionsPath(topic))) {
        if (!/^\d{1,10}$/.test(name)) continue;
        const partition = Number(name);
        const path = partitionPath(topic, partition);
        const node = await zk.get(path);
        if (!node) continue;
        const ranges: Span[] = [];
        for (const child of await zk.children(path)) {
          try {
            ranges.push(parseRangeNodeName(child));
          } catch {
            // not a range node; nothing Sluice writes, so leave it alone
          }
        }
        partitions.set(partition, {
          topic,
          partition,
          state: decodeJson<PartitionState>(node.data, path),
          version: node.version,
          ranges: ranges.sort(byStart),
          arrivals: [],
        });
        inFlight += ranges.length;
      }
    }
    this.#topics.set(topic, { partitionsNode, partitions, inFlight, sorted: null });
  }

  /** Loads the topic unless it is cached already. */
  async ensure(zk: ZkSession, topic: string): Promise<void> {
    if (!this.#topics.has(topic)) await this.load(zk, topic);
  }

  forget(topic: string): void {
    this.#topics.delete(topic);
  }

  hasPartitionsNode(topic: string): boolean {
    return this.#topics.get(topic)?.partitionsNode ?? false;
  }

  /** A topic's partitions by number (the same array until partitions are added: do not change it). */
  partitions(topic: string): readonly PartitionEntry[] {
    const t = this.#topics.get(topic);
    if (!t) return [];
    t.sorted ??= [...t.partitions.values()].sort((a, b) => a.partition - b.partition);
    return t.sorted;
  }

  all(): PartitionEntry[] {
    return this.topics().flatMap((t) => this.partitions(t));
  }

  get(topic: string, partition: number): PartitionEntry | undefined {
    return this.#topics.get(topic)?.partitions.get(partition);
  }

  /** Records partition nodes this leader created. */
  addPartitions(
    topic: string,
    entries: Array<{ partition: number; state: PartitionState; version: number }>,
  ) {
    let t = this.#topics.get(topic);
    if (!t) {
      t = { partitionsNode: true, partitions: new Map(), inFlight: 0, sorted: null };
      this.#topics.set(topic, t);
    }
    t.partitionsNode = true;
    t.sorted = null;
    for (const e of entries) {
      t.inFlight -= t.partitions.get(e.partition)?.ranges.length ?? 0;
      t.partitions.set(e.partition, { topic, ...e, ranges: [], arrivals: [] });
    }
  }

  /** The end of the last range in flight, or the committed offset when there is none. */
  planned(entry: PartitionEntry): bigint {
    const last = entry.ranges[entry.ranges.length - 1];
    return last ? last.end : BigInt(entry.state.committedOffset);
  }

  addRanges(entry: PartitionEntry, spans: Span[]): void {
    this.setRanges(entry, [...entry.ranges, ...spans.map((s) => ({ start: s.start, end: s.end }))]);
  }

  removeRanges(entry: PartitionEntry, spans: Span[]): void {
    const gone = new Set(spans.map((s) => `${s.start}-${s.end}`));
    this.setRanges(
      entry,
      entry.ranges.filter((r) => !gone.has(`${r.start}-${r.end}`)),
    );
  }

  /** Replaces a partition's ranges in flight (sorted here). Every change of `ranges` goes through this. */
  setRanges(entry: PartitionEntry, ranges: Span[]): void {
    const t = this.#topics.get(entry.topic);
    if (t && t.partitions.get(entry.partition) === entry) t.inFlight += ranges.length - entry.ranges.length;
    entry.ranges = ranges.sort(byStart);
  }

  /** Ranges in flight over all partitions of a topic (fair-share priority, deletion). */
  inFlight(topic: string): number {
    return this.#topics.get(topic)?.inFlight ?? 0;
  }
}
