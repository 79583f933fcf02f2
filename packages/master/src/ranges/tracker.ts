/**
 * The tracker (leader only): the only writer of partition state. Per partition it reads the
 * ranges in flight from the committed offset on, and when a contiguous run of them is done
 * (`advanceCommitted`, invariant 5) it advances the committed offset and prunes those range
 * nodes in ONE fenced multi (`commitLine` of range-engine.ts, which commits a replay's lines
 * too): the partition node set at its version, each covered range node removed at the
 * version read. Their commit records stay in S3.
 *
 * It reads ranges in offset order and stops at the first one not done; the leader's session
 * answers reads of range nodes that did not change from memory (leadership/watched-zk.ts), so
 * a pass costs ZooKeeper requests only for the ranges that changed. Partitions are tracked
 * up to ZK_PIPELINE at once: ZooKeeper takes many requests on one session, and a pass that
 * awaited them one by one took a round trip per commit (bench/README.md).
 */
import {
  commitTotals,
  decodeJson,
  ErrorCodes,
  gapOffsetsOf,
  isSluiceError,
  type Logger,
  mapLimit,
  type PartitionState,
  parseRangeNodeName,
  partitionPath,
  type RangeRecord,
} from '@sluice/shared';
import type { FencedWriter } from '../leadership/fenced-writer.ts';
import type { MasterMetrics } from '../status/metrics.ts';
import type { PartitionCache, PartitionEntry, Span } from './partition-cache.ts';
import { commitLine, type LineRange, readRange } from './range-engine.ts';
import { lineRangePath, topicLine } from './range-line.ts';

/**
 * Requests the leader keeps outstanding on its ZooKeeper session in a pass: enough to hide a
 * round trip (and let the server group writes into one log flush), few enough that a pass of
 * 50,000 partitions does not queue them all at once.
 */
export const ZK_PIPELINE = 256;

/** Weight of the newest committed ranges in the bytes-per-offset moving average. */
const BYTES_PER_OFFSET_WEIGHT = 0.3;

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
  const next: PartitionState = {
    v: 1,
    ...totals,
    bytesPerOffset,
    committedMaxTimestamp: maxTs,
    updatedAt: nowIso,
  };
  // Where the line began never changes; the audit tiles commit records from it.
  if (state.startOffset !== undefined) next.startOffset = state.startOffset;
  return next;
}

export interface TrackerOptions {
  writer: FencedWriter;
  cache: PartitionCache;
  log: Logger;
  metrics?: MasterMetrics;
  /** Called with the job ids of pruned ranges (the enqueuer forgets pending adds). */
  onPruned?: (range: RangeRecord) => void;
  /**
   * Called after a partition's committed offset advanced in ZooKeeper (the group mirror marks
   * the topic). Must not throw or wait: the commit is already done.
   */
  onCommitted?: (topic: string, partition: number) => void;
}

export class Tracker {
  readonly #writer: FencedWriter;
  readonly #cache: PartitionCache;
  readonly #log: Logger;
  readonly #metrics: MasterMetrics | undefined;
  readonly #onPruned: ((range: RangeRecord) => void) | undefined;
  readonly #onCommitted: ((topic: string, partition: number) => void) | undefined;

  constructor(opts: TrackerOptions) {
    this.#writer = opts.writer;
    this.#cache = opts.cache;
    this.#log = opts.log;
    this.#metrics = opts.metrics;
    this.#onPruned = opts.onPruned;
    this.#onCommitted = opts.onCommitted;
  }

  /**
   * One pass over every cached partition with a range in flight, in two steps: the done
   * ranges of each are read (ZK_PIPELINE reads at a time; unchanged ones cost nothing), then
   * every commit is issued at once, so that the fenced writer sends them in a few batched
   * multis instead of one round trip each. A NOT_LEADER stops it (the caller steps down).
   */
  async pass(): Promise<void> {
    const busy = this.#cache.all().filter((e) => e.ranges.length > 0);
    const guarded =
      <T>(fn: (entry: PartitionEntry) => Promise<T>) =>
      async (entry: PartitionEntry): Promise<T | null> => {
        try {
          return await fn(entry);
        } catch (err) {
          if (isSluiceError(err, ErrorCodes.NOT_LEADER)) throw err;
          this.#log.warn({ err, topic: entry.topic, partition: entry.partition }, 'tracking failed');
          return null;
        }
      };
    const read = await mapLimit(
      busy,
      ZK_PIPELINE,
      guarded((e) => this.#readDone(e)),
    );
    await Promise.all(busy.map((e, i) => (read[i] ? guarded((x) => this.#commit(x, read[i]!))(e) : null)));
  }

  /** Commits what is done in one partition. Returns the committed offset. */
  async trackPartition(entry: PartitionEntry): Promise<bigint> {
    const read = await this.#readDone(entry);
    return read ? this.#commit(entry, read) : BigInt(entry.state.committedOffset);
  }

  /**
   * The contiguous run of done ranges from the committed offset, plus the first one not done
   * (read, so that its watch is set); null when the cache was wrong and was reloaded.
   */
  async #readDone(entry: PartitionEntry): Promise<LineRange[] | null> {
    const zk = this.#writer.zk;
    const line = topicLine(entry.topic, entry.partition);
    let committed = BigInt(entry.state.committedOffset);
    const read: LineRange[] = [];
    for (const span of entry.ranges) {
      if (span.end <= committed) continue;
      if (span.start !== committed) break; // a hole: nothing after it can commit yet
      const r = await readRange(zk, line, span);
      if (!r) {
        // Only the leader removes range nodes, so the cache is wrong: rebuild it.
        const path = lineRangePath(line, span);
        this.#log.warn({ topic: entry.topic, partition: entry.partition, path }, 'range node missing');
        await this.#reload(entry);
        return null;
      }
      if (r.record.state !== 'done') break;
      read.push(r);
      committed = span.end;
    }
    return read;
  }

  async #commit(entry: PartitionEntry, read: LineRange[]): Promise<bigint> {
    const line = topicLine(entry.topic, entry.partition);
    const before = BigInt(entry.state.committedOffset);
    const state0 = entry.state;
    const c = await commitLine(this.#writer, line, before, entry.version, read, (next, covered) =>
      commitState(state0, next, covered),
    );
    if (c === null) return before;
    if (c === 'raced') {
      this.#log.warn({ topic: entry.topic, partition: entry.partition }, 'commit raced; rereading');
      await this.#reload(entry);
      return BigInt(entry.state.committedOffset);
    }
    const { state, covered } = c;
    entry.state = state;
    entry.version += 1;
    this.#cache.removeRanges(entry, covered);
    for (const r of covered) this.#onPruned?.(r.record);
    this.#recordMetrics(entry, covered);
    this.#onCommitted?.(entry.topic, entry.partition);
    this.#log.debug(
      {
        topic: entry.topic,
        partition: entry.partition,
        committed: state.committedOffset,
        ranges: covered.length,
      },
      'committed',
    );
    return c.committed;
  }

  #recordMetrics(entry: PartitionEntry, covered: readonly LineRange[]): void {
    if (!this.#metrics) return;
    let gaps = 0n;
    for (const c of covered) gaps += gapOffsetsOf(c.record.result);
    if (gaps > 0n) this.#metrics.gapOffsets.inc({ topic: entry.topic }, Number(gaps));
    let records = 0;
    let bytes = 0;
    let fallbacks = 0;
    let rejected = 0;
    for (const c of covered) {
      rejected += c.record.result?.rejected?.records ?? 0;
      records += c.record.result?.records ?? 0;
      bytes += c.record.result?.objectBytes ?? 0;
      fallbacks += c.record.result?.eventTimeFallbacks ?? 0;
    }
    this.#metrics.committedRecords.inc({ topic: entry.topic }, records);
    // Counted from 0 for every topic that has committed, so a rate() or an alert sees the series.
    this.#metrics.eventTimeFallbacks.inc({ topic: entry.topic }, fallbacks);
    this.#metrics.rejectedRecords.inc({ topic: entry.topic }, rejected);
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
