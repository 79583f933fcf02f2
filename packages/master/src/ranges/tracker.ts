/**
 * The tracker (leader only): the only writer of partition state. Per partition it reads the
 * ranges in flight from the committed offset on, and when a contiguous run of them is done
 * (`advanceCommitted`, invariant 5) it advances the committed offset and prunes those range
 * nodes in ONE fenced multi: the partition node set at its version, each covered range node
 * removed at the version read. Their commit records stay in S3.
 *
 * It reads ranges in offset order and stops at the first one not done, so a pass costs about
 * one read per partition when nothing finished.
 */
import {
  advanceCommitted,
  commitTotals,
  decodeJson,
  ErrorCodes,
  encodeJson,
  gapOffsetsOf,
  isBadVersion,
  isNoNode,
  isSluiceError,
  type Logger,
  type PartitionState,
  parseRangeNodeName,
  partitionPath,
  type RangeRecord,
  rangePath,
  type ZkOp,
} from '@sluice/shared';
import type { FencedWriter } from '../leadership/fenced-writer.ts';
import type { MasterMetrics } from '../status/metrics.ts';
import type { PartitionCache, PartitionEntry, Span } from './partition-cache.ts';

/** Weight of the newest committed ranges in the bytes-per-offset moving average. */
const BYTES_PER_OFFSET_WEIGHT = 0.3;

interface Covered {
  start: bigint;
  end: bigint;
  done: boolean;
  record: RangeRecord;
  version: number;
}

/**
 * The partition state after committing `covered` (in offset order, contiguous from the
 * committed offset): the counters of `commitTotals`, plus the size estimate and the newest
 * timestamp, which only a topic's line keeps. Pure.
 */
export function commitState(
  state: PartitionState,
  committed: bigint,
  covered: RangeRecord[],
  nowIso = new Date().toISOString(),
): PartitionState {
  const totals = commitTotals(state, committed, covered);
  let bytesPerOffset = state.bytesPerOffset;
  let maxTs = state.committedMaxTimestamp;
  for (const r of covered) {
    const result = r.result;
    if (!result) continue;
    // Offsets lost to a gap hold no bytes: leave them out of the size estimate.
    const readOffsets = BigInt(r.end) - BigInt(r.start) - gapOffsetsOf(result);
    if (result.records > 0 && readOffsets > 0n) {
      const sample = result.rawBytes / Number(readOffsets);
      bytesPerOffset =
        bytesPerOffset > 0
          ? bytesPerOffset * (1 - BYTES_PER_OFFSET_WEIGHT) + sample * BYTES_PER_OFFSET_WEIGHT
          : sample;
    }
    if (result.maxTimestamp !== null && (maxTs === null || result.maxTimestamp > maxTs)) {
      maxTs = result.maxTimestamp;
    }
  }
  return { v: 1, ...totals, bytesPerOffset, committedMaxTimestamp: maxTs, updatedAt: nowIso };
}

export interface TrackerOptions {
  writer: FencedWriter;
  cache: PartitionCache;
  log: Logger;
  metrics?: MasterMetrics;
  /** Called with the job ids of pruned ranges (the enqueuer forgets pending adds). */
  onPruned?: (range: RangeRecord) => void;
}

export class Tracker {
  readonly #writer: FencedWriter;
  readonly #cache: PartitionCache;
  readonly #log: Logger;
  readonly #metrics: MasterMetrics | undefined;
  readonly #onPruned: ((range: RangeRecord) => void) | undefined;

  constructor(opts: TrackerOptions) {
    this.#writer = opts.writer;
    this.#cache = opts.cache;
    this.#log = opts.log;
    this.#metrics = opts.metrics;
    this.#onPruned = opts.onPruned;
  }

  /** One pass over every cached partition. A NOT_LEADER stops it (the caller steps down). */
  async pass(): Promise<void> {
    for (const entry of this.#cache.all()) {
      try {
        await this.trackPartition(entry);
      } catch (err) {
        if (isSluiceError(err, ErrorCodes.NOT_LEADER)) throw err;
        this.#log.warn({ err, topic: entry.topic, partition: entry.partition }, 'tracking failed');
      }
    }
  }

  /** Commits what is done in one partition. Returns the committed offset. */
  async trackPartition(entry: PartitionEntry): Promise<bigint> {
    const zk = this.#writer.zk;
    let committed = BigInt(entry.state.committedOffset);
    const read: Covered[] = [];
    for (const span of entry.ranges) {
      if (span.end <= committed) continue;
      if (span.start !== committed) break; // a hole: nothing after it can commit yet
      const path = rangePath({ topic: entry.topic, partition: entry.partition, ...span });
      const node = await zk.get(path);
      if (!node) {
        // Only the leader removes range nodes, so the cache is wrong: rebuild it.
        this.#log.warn({ topic: entry.topic, partition: entry.partition, path }, 'range node missing');
        await this.#reload(entry);
        return BigInt(entry.state.committedOffset);
      }
      const record = decodeJson<RangeRecord>(node.data, path);
      if (record.state !== 'done') break;
      read.push({ ...span, done: true, record, version: node.version });
      committed = span.end;
    }
    const before = BigInt(entry.state.committedOffset);
    const { committed: next, covered } = advanceCommitted(before, read);
    if (covered.length === 0) return before;

    const state = commitState(
      entry.state,
      next,
      covered.map((c) => c.record),
    );
    const ops: ZkOp[] = [
      {
        op: 'set',
        path: partitionPath(entry.topic, entry.partition),
        data: encodeJson(state),
        version: entry.version,
      },
      ...covered.map(
        (c): ZkOp => ({
          op: 'remove',
          path: rangePath({ topic: entry.topic, partition: entry.partition, start: c.start, end: c.end }),
          version: c.version,
        }),
      ),
    ];
    try {
      await this.#writer.multi(ops);
    } catch (err) {
      if (isBadVersion(err) || isNoNode(err)) {
        this.#log.warn({ topic: entry.topic, partition: entry.partition }, 'commit raced; rereading');
        await this.#reload(entry);
        return BigInt(entry.state.committedOffset);
      }
      throw err;
    }
    entry.state = state;
    entry.version += 1;
    this.#cache.removeRanges(entry, covered);
    for (const c of covered) this.#onPruned?.(c.record);
    this.#recordMetrics(entry, covered);
    this.#log.debug(
      {
        topic: entry.topic,
        partition: entry.partition,
        committed: state.committedOffset,
        ranges: covered.length,
      },
      'committed',
    );
    return next;
  }

  #recordMetrics(entry: PartitionEntry, covered: Covered[]): void {
    if (!this.#metrics) return;
    let gaps = 0n;
    for (const c of covered) gaps += gapOffsetsOf(c.record.result);
    if (gaps > 0n) this.#metrics.gapOffsets.inc({ topic: entry.topic }, Number(gaps));
    let records = 0;
    let bytes = 0;
    for (const c of covered) {
      records += c.record.result?.records ?? 0;
      bytes += c.record.result?.objectBytes ?? 0;
    }
    this.#metrics.committedRecords.inc({ topic: entry.topic }, records);
    this.#metrics.committedBytes.inc({ topic: entry.topic }, bytes);
    this.#metrics.committedOffset.set(
      { topic: entry.topic, partition: String(entry.partition) },
      Number(entry.state.committedOffset),
    );
  }

  async #reload(entry: PartitionEntry): Promise<void> {
    const zk = this.#writer.zk;
    const path = partitionPath(entry.topic, entry.partition);
    const node = await zk.get(path);
    if (!node) return;
    entry.state = decodeJson<PartitionState>(node.data, path);
    entry.version = node.version;
    const ranges: Span[] = [];
    for (const name of await zk.children(path)) {
      try {
        ranges.push(parseRangeNodeName(name));
      } catch {
        // not a range node
      }
    }
    this.#cache.setRanges(entry, ranges);
  }
}
