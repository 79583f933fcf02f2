/**
 * Reads a topic's partition states and ranges in flight from ZooKeeper
 * (`/sluice/topics/{t}/partitions/{p}[/{s20}-{e20}]`). Reads run in parallel; a node that
 * vanishes between listing and reading (a range committed and pruned meanwhile) is left out.
 */
import {
  decodeJson,
  type PartitionState,
  parseRangeNodeName,
  partitionPath,
  partitionsPath,
  type RangeRecord,
  type ZkNode,
  type ZkSession,
} from '@sluice/shared';

/**
 * Partition states by the node answer they were decoded from. The status service reads through
 * a watched session (leadership/watched-zk.ts), which answers a node that did not change with
 * the same object: its samples and time-lag refreshes (every 5 and 15 s) then decode only the
 * partitions that changed, not all of them (bench/README.md, idle master). Shared between
 * answers, so never changed by a reader.
 */
const decoded = new WeakMap<ZkNode, PartitionState>();

function stateOf(node: ZkNode, topic: string, partition: number): PartitionState | null {
  if (node.data.length === 0) return null;
  let state = decoded.get(node);
  if (!state) {
    state = decodeJson<PartitionState>(node.data, `partition node ${topic}/${partition}`);
    decoded.set(node, state);
  }
  return state;
}

export interface PartitionFlight {
  partition: number;
  /** Null when the node has no data yet. */
  state: PartitionState | null;
  /** Ranges in flight, by start offset (empty unless asked for). */
  ranges: RangeRecord[];
  /** Names of the range nodes (counted even when not read). */
  rangeCount: number;
}

function isRangeName(name: string): boolean {
  try {
    parseRangeNodeName(name);
    return true;
  } catch {
    return false;
  }
}

async function readRanges(zk: ZkSession, base: string, names: string[]): Promise<RangeRecord[]> {
  const nodes = await Promise.all(names.map((n) => zk.get(`${base}/${n}`)));
  const out: RangeRecord[] = [];
  for (const [i, node] of nodes.entries()) {
    if (node && node.data.length > 0) out.push(decodeJson<RangeRecord>(node.data, `range node ${names[i]}`));
  }
  return out;
}

async function readPartition(
  zk: ZkSession,
  topic: string,
  partition: number,
  withRanges: boolean,
): Promise<PartitionFlight | null> {
  const path = partitionPath(topic, partition);
  const [node, children] = await Promise.all([zk.get(path), zk.children(path)]);
  if (!node) return null;
  const names = children.filter(isRangeName).sort();
  return {
    partition,
    state: stateOf(node, topic, partition),
    ranges: withRanges ? await readRanges(zk, path, names) : [],
    rangeCount: names.length,
  };
}

/** The partitions the leader has started for `topic`, ascending. */
export async function readPartitions(
  zk: ZkSession,
  topic: string,
  opts: { withRanges: boolean },
): Promise<PartitionFlight[]> {
  const numbers = (await zk.children(partitionsPath(topic)))
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
  const parts = await Promise.all(numbers.map((p) => readPartition(zk, topic, p, opts.withRanges)));
  return parts.filter((p): p is PartitionFlight => p !== null);
}

/** {@link readPartitions} of several topics at once, by topic. */
export async function readTopicsPartitions(
  zk: ZkSession,
  topics: readonly string[],
  opts: { withRanges: boolean },
): Promise<Map<string, PartitionFlight[]>> {
  const all = await Promise.all(topics.map((t) => readPartitions(zk, t, opts)));
  return new Map(topics.map((t, i) => [t, all[i]!]));
}
