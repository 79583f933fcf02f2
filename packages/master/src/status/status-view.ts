/**
 * Pure: what ZooKeeper, Kafka, Redis and the master's own samples know → the status answer
 * (status-schema.ts). Everything here is computed from inputs read once per answer, so the
 * cost of an answer is its reads, which status-service.ts makes in parallel.
 */
import {
  fixedStartOf,
  type LeaderRecord,
  type PartitionOffsets,
  type RangeRecord,
  type RangeState,
  type TopicRecord,
  type WorkerRegistration,
} from '@sluice/shared';
import { RECENT_FAILURES, type StatusAnswer } from '../api/status-schema.ts';
import type { KafkaTopicView } from '../kafka/kafka-view.ts';
import type { TimeQuery } from '../kafka/record-times.ts';
import type { PartitionFlight } from '../stores/partition-reader.ts';
import { workerReadiness } from '../stores/worker-registrations.ts';
import type { integrityTopicProperties } from './integrity-status.ts';
import type { mirrorTopicProperties } from './mirror-status.ts';
import { expectedStartOffset, lagOf, rangeCounts, rangeIdOf } from './partition-view.ts';
import type { RatePoint, ThroughputView } from './throughput.ts';

/**
 * The answer's parts, as the schema says them (api/status-schema.ts): written once, there.
 * A topic's integrity fields and the replays are added afterwards (integrity-status.ts), and
 * so is its group mirror (mirror-status.ts).
 */
type TopicAnswer = StatusAnswer['topics'][number];
export type RangeCounts = TopicAnswer['ranges'];
export type PartitionStatus = TopicAnswer['partitions'][number];
export type TopicStatus = Omit<
  TopicAnswer,
  keyof typeof integrityTopicProperties | keyof typeof mirrorTopicProperties
>;
export type WorkerStatus = StatusAnswer['workers'][number];
export type FailureStatus = StatusAnswer['recentFailures'][number];
export type GapStatus = StatusAnswer['gaps'][number];
export type QueueCounts = StatusAnswer['queue'];
export type Status = Omit<StatusAnswer, 'topics' | 'replays'> & { topics: TopicStatus[] };

export interface StatusInput {
  nowMs: number;
  master: { id: string; leader: boolean };
  leader: LeaderRecord | null;
  topics: readonly TopicRecord[];
  flights: ReadonlyMap<string, readonly PartitionFlight[]>;
  kafka: ReadonlyMap<string, KafkaTopicView>;
  workers: readonly WorkerRegistration[];
  queue: { queue: QueueCounts; queueError: string | null };
  /** Kafka timestamp (ms) of the record at a partition's committed offset, when known. */
  recordTime: (topic: string, partition: number) => number | null;
  throughput: { topic(topic: string): ThroughputView; total(): ThroughputView; history(): RatePoint[] };
}

interface Progress {
  partition: number;
  flight: PartitionFlight | undefined;
  committed: bigint | null;
  highWatermark: bigint | null;
  earliest: bigint | null;
}

/** Per partition (every one Kafka has, and any ZooKeeper still tracks): where it stands. */
function progressOf(
  record: Pick<TopicRecord, 'startFrom' | 'starts'>,
  flights: readonly PartitionFlight[],
  kafka: KafkaTopicView | undefined,
): Progress[] {
  const byPartition = new Map(flights.map((f) => [f.partition, f]));
  const numbers = new Set<number>([...(kafka?.metadata?.partitions ?? []), ...byPartition.keys()]);
  const topicStarted = flights.some((f) => f.state !== null);
  return [...numbers]
    .sort((a, b) => a - b)
    .map((partition) => {
      const flight = byPartition.get(partition);
      const offsets = kafka?.offsets.get(partition);
      const committed = flight?.state
        ? BigInt(flight.state.committedOffset)
        : expectedStartOffset(record.startFrom, topicStarted, offsets, fixedStartOf(record, partition));
      return {
        partition,
        flight,
        committed,
        highWatermark: offsets ? offsets.latest : null,
        earliest: offsets ? offsets.earliest : null,
      };
    });
}

/**
 * The partitions whose oldest uncommitted record's time is wanted: those behind, at their
 * committed offset (or the log start, when retention has already passed it).
 */
export function timeQueries(
  topics: readonly TopicRecord[],
  flights: ReadonlyMap<string, readonly PartitionFlight[]>,
  kafka: ReadonlyMap<string, KafkaTopicView>,
): TimeQuery[] {
  const out: TimeQuery[] = [];
  for (const t of topics) {
    for (const p of progressOf(t, flights.get(t.topic) ?? [], kafka.get(t.topic))) {
      if (p.committed === null || p.highWatermark === null || p.highWatermark <= p.committed) continue;
      const offset = p.earliest !== null && p.earliest > p.committed ? p.earliest : p.committed;
      if (offset < p.highWatermark) out.push({ topic: t.topic, partition: p.partition, offset });
    }
  }
  return out;
}

function lagMsOf(lag: number | null, recordTimeMs: number | null, nowMs: number): number | null {
  if (lag === null) return null;
  if (lag <= 0) return 0;
  return recordTimeMs === null ? null : Math.max(0, nowMs - recordTimeMs);
}

/**
 * Per partition, the time lag an answer shows (`lagMs`, as {@link buildStatus} computes it),
 * without the rest of the answer: the leader's /metrics gauges between answers.
 */
export function partitionTimeLags(
  input: Pick<StatusInput, 'nowMs' | 'topics' | 'flights' | 'kafka' | 'recordTime'>,
): Array<{ topic: string; partition: number; lagMs: number | null }> {
  const out: Array<{ topic: string; partition: number; lagMs: number | null }> = [];
  for (const t of input.topics) {
    for (const p of progressOf(t, input.flights.get(t.topic) ?? [], input.kafka.get(t.topic))) {
      const lag = lagOf(p.highWatermark, p.committed);
      out.push({
        topic: t.topic,
        partition: p.partition,
        lagMs: lagMsOf(lag, input.recordTime(t.topic, p.partition), input.nowMs),
      });
    }
  }
  return out;
}

/**
 * The offsets of partitions that were caught up (committed at or past the high watermark), for
 * the next look to ask only their watermark (`KnownOffsets`): while it stays, such a partition
 * stays caught up (the committed offset only grows), and its log start offset, which only a
 * partition behind needs, does not matter.
 */
export function caughtUpOffsets(
  flights: ReadonlyMap<string, readonly PartitionFlight[]>,
  kafka: ReadonlyMap<string, KafkaTopicView>,
): Map<string, Map<number, PartitionOffsets>> {
  const out = new Map<string, Map<number, PartitionOffsets>>();
  for (const [topic, view] of kafka) {
    const quiet = new Map<number, PartitionOffsets>();
    for (const f of flights.get(topic) ?? []) {
      const o = view.offsets.get(f.partition);
      if (o && f.state && BigInt(f.state.committedOffset) >= o.latest && o.lastStable === o.latest)
        quiet.set(f.partition, o);
    }
    if (quiet.size > 0) out.set(topic, quiet);
  }
  return out;
}

function maxKnown(values: Array<number | null>): number | null {
  let max: number | null = null;
  for (const v of values) if (v !== null && (max === null || v > max)) max = v;
  return max;
}

function sumOrNull(values: Array<number | null>): number | null {
  return values.some((v) => v === null) ? null : (values as number[]).reduce((a, b) => a + b, 0);
}

function addCounts(into: RangeCounts, c: RangeCounts): void {
  for (const k of Object.keys(into) as RangeState[]) into[k] += c[k];
}

const byUpdatedDesc = (a: RangeRecord, b: RangeRecord) =>
  a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0;

export function buildStatus(input: StatusInput): Status {
  const { nowMs } = input;
  const allRanges: RangeRecord[] = [];
  const gaps: GapStatus[] = [];
  const totalRanges: RangeCounts = { planned: 0, active: 0, done: 0, failed: 0 };
  let totalGaps = 0n;
  let partitionCount = 0;

  const topics = input.topics.map((record): TopicStatus => {
    const flights = input.flights.get(record.topic) ?? [];
    const kafka = input.kafka.get(record.topic);
    const topicRanges: RangeCounts = { planned: 0, active: 0, done: 0, failed: 0 };
    const partitions = progressOf(record, flights, kafka).map((p): PartitionStatus => {
      const ranges = [...(p.flight?.ranges ?? [])].sort((a, b) =>
        BigInt(a.start) < BigInt(b.start) ? -1 : 1,
      );
      allRanges.push(...ranges);
      const counts = rangeCounts(ranges);
      addCounts(topicRanges, counts);
      const state = p.flight?.state ?? null;
      const lag = lagOf(p.highWatermark, p.committed);
      const headRange =
        p.committed === null ? undefined : ranges.find((r) => BigInt(r.start) === p.committed);
      const lost = BigInt(state?.gapOffsets ?? '0');
      totalGaps += lost;
      const uncommitted = ranges.flatMap((r) =>
        r.state === 'done' && r.result
          ? r.result.gaps.map((g) => ({ rangeId: rangeIdOf(r), start: g.start, end: g.end, cause: g.cause }))
          : [],
      );
      if (lost > 0n || uncommitted.length > 0) {
        gaps.push({ topic: record.topic, partition: p.partition, lostOffsets: lost.toString(), uncommitted });
      }
      return {
        partition: p.partition,
        started: state !== null,
        committedOffset: p.committed === null ? null : p.committed.toString(),
        highWatermark: p.highWatermark === null ? null : p.highWatermark.toString(),
        lag,
        lagMs: lagMsOf(lag, input.recordTime(record.topic, p.partition), nowMs),
        committedRecords: state?.committedRecords ?? 0,
        committedBytes: state?.committedBytes ?? 0,
        eventTimeFallbacks: state?.eventTimeFallbacks ?? 0,
        rejectedRecords: state?.rejectedRecords ?? 0,
        gapOffsets: lost.toString(),
        ranges: counts,
        head: headRange
          ? {
              id: rangeIdOf(headRange),
              state: headRange.state,
              attempt: headRange.attempt,
              worker: headRange.worker,
              failures: headRange.failures,
              error: headRange.error,
              progressOffset: headRange.progressOffset,
              updatedAt: headRange.updatedAt,
            }
          : null,
      };
    });
    partitionCount += partitions.length;
    addCounts(totalRanges, topicRanges);
    return {
      topic: record.topic,
      pattern: record.pattern ?? null,
      state: record.state,
      paused: record.paused,
      error: record.error,
      kafkaError: kafka?.error ?? null,
      flushIntervalMs: record.flushIntervalMs,
      lag: sumOrNull(partitions.map((p) => p.lag)),
      lagMs: maxKnown(partitions.map((p) => p.lagMs)),
      committedRecords: partitions.reduce((n, p) => n + p.committedRecords, 0),
      committedBytes: partitions.reduce((n, p) => n + p.committedBytes, 0),
      eventTimeFallbacks: partitions.reduce((n, p) => n + p.eventTimeFallbacks, 0),
      rejectedRecords: partitions.reduce((n, p) => n + p.rejectedRecords, 0),
      ranges: topicRanges,
      throughput: input.throughput.topic(record.topic),
      partitions,
    };
  });

  const active = new Map<string, { n: number; heartbeat: string | null }>();
  for (const r of allRanges) {
    if (r.state !== 'active' || !r.worker) continue;
    const a = active.get(r.worker) ?? { n: 0, heartbeat: null };
    a.n++;
    const beat = r.progressAt ?? r.startedAt;
    if (beat && (a.heartbeat === null || beat > a.heartbeat)) a.heartbeat = beat;
    active.set(r.worker, a);
  }
  const workers = input.workers.map((w): WorkerStatus => {
    const started = Date.parse(w.startedAt);
    return {
      id: w.id,
      host: w.host,
      version: w.version,
      concurrency: w.concurrency,
      httpAddress: w.httpAddress,
      activeRanges: active.get(w.id)?.n ?? 0,
      startedAt: w.startedAt,
      uptimeSeconds: Number.isFinite(started) ? Math.max(0, Math.round((nowMs - started) / 1000)) : 0,
      lastHeartbeat: active.get(w.id)?.heartbeat ?? null,
      ...workerReadiness(w),
    };
  });

  const failed = allRanges.filter((r) => r.state === 'failed' || (r.state !== 'done' && r.error !== null));
  const recentFailures = failed
    .sort(byUpdatedDesc)
    .slice(0, RECENT_FAILURES)
    .map((r) => ({
      id: rangeIdOf(r),
      topic: r.topic,
      partition: r.partition,
      state: r.state,
      attempt: r.attempt,
      failures: r.failures,
      worker: r.worker,
      error: r.error,
      requeueReason: r.requeueReason,
      updatedAt: r.updatedAt,
    }));

  return {
    generatedAt: new Date(nowMs).toISOString(),
    master: input.master,
    leader: input.leader,
    summary: {
      topics: topics.length,
      partitions: partitionCount,
      lag: sumOrNull(topics.map((t) => t.lag)),
      lagMs: maxKnown(topics.map((t) => t.lagMs)),
      ranges: totalRanges,
      workers: workers.length,
      failures: failed.length,
      gapOffsets: totalGaps.toString(),
    },
    throughput: { ...input.throughput.total(), history: input.throughput.history() },
    topics,
    workers,
    recentFailures,
    gaps,
    queue: input.queue.queue,
    queueError: input.queue.queueError,
  };
}

/** Per topic, the committed totals over its partitions (what throughput is sampled from). */
export function committedTotals(
  flights: ReadonlyMap<string, readonly PartitionFlight[]>,
): Map<string, { records: number; bytes: number }> {
  const out = new Map<string, { records: number; bytes: number }>();
  for (const [topic, parts] of flights) {
    let records = 0;
    let bytes = 0;
    for (const p of parts) {
      records += p.state?.committedRecords ?? 0;
      bytes += p.state?.committedBytes ?? 0;
    }
    out.set(topic, { records, bytes });
  }
  return out;
}
