/**
 * Pure: what ZooKeeper and Kafka know of a topic's partitions → the per-partition progress the
 * API shows. Offsets leave as decimal strings; lag is a JSON number.
 */
import { fixedStartOf, type RangeRecord, type RangeState, rangeId, type TopicRecord } from '@sluice/shared';
import type { KafkaTopicView } from '../kafka/kafka-view.ts';
import type { PartitionFlight } from '../stores/partition-reader.ts';

export interface RangeView {
  id: string;
  start: string;
  end: string;
  attempt: number;
  state: RangeState;
  worker: string | null;
  error: string | null;
  failures: number;
  progressOffset: string | null;
  requeueReason: string | null;
  updatedAt: string;
}

export interface PartitionView {
  partition: number;
  /** False until the leader created the partition's state; committedOffset is then where it will start. */
  started: boolean;
  committedOffset: string | null;
  highWatermark: string | null;
  lag: number | null;
  committedRecords: number;
  ranges: RangeView[];
}

export type RangeCounts = Record<RangeState, number>;

export function rangeIdOf(r: Pick<RangeRecord, 'topic' | 'partition' | 'start' | 'end'>): string {
  return rangeId({ topic: r.topic, partition: r.partition, start: BigInt(r.start), end: BigInt(r.end) });
}

export function rangeView(r: RangeRecord): RangeView {
  return {
    id: rangeIdOf(r),
    start: r.start,
    end: r.end,
    attempt: r.attempt,
    state: r.state,
    worker: r.worker,
    error: r.error,
    failures: r.failures,
    progressOffset: r.progressOffset,
    requeueReason: r.requeueReason,
    updatedAt: r.updatedAt,
  };
}

export function rangeCounts(ranges: readonly Pick<RangeRecord, 'state'>[]): RangeCounts {
  const counts: RangeCounts = { planned: 0, active: 0, done: 0, failed: 0 };
  for (const r of ranges) counts[r.state]++;
  return counts;
}

/** highWatermark − committedOffset, or null when either is unknown. */
export function lagOf(highWatermark: bigint | null, committed: bigint | null): number | null {
  if (highWatermark === null || committed === null) return null;
  return Number(highWatermark - committed);
}

/**
 * Where the leader will start a partition it has not started yet (docs/range-lifecycle.md,
 * Planning): at registration, the `starts` offset when the registration found commit records of the
 * partition (topics/topic-resume.ts); else the log start offset for `startFrom: earliest`
 * and for partitions added after the topic was started, the last stable offset for `latest`.
 * Null when Kafka could not say.
 */
export function expectedStartOffset(
  startFrom: TopicRecord['startFrom'],
  topicStarted: boolean,
  offsets: { earliest: bigint; lastStable: bigint } | undefined,
  resumeOffset?: string,
): bigint | null {
  if (!topicStarted && resumeOffset !== undefined) return BigInt(resumeOffset);
  if (!offsets) return null;
  return startFrom === 'latest' && !topicStarted ? offsets.lastStable : offsets.earliest;
}

/** Every partition Kafka has (and any ZooKeeper still tracks), ascending. */
export function partitionViews(
  record: Pick<TopicRecord, 'startFrom' | 'starts'>,
  flights: readonly PartitionFlight[],
  kafka: KafkaTopicView,
): PartitionView[] {
  const byPartition = new Map(flights.map((f) => [f.partition, f]));
  const numbers = new Set<number>([...(kafka.metadata?.partitions ?? []), ...byPartition.keys()]);
  const topicStarted = flights.some((f) => f.state !== null);
  return [...numbers]
    .sort((a, b) => a - b)
    .map((partition) => {
      const flight = byPartition.get(partition);
      const offsets = kafka.offsets.get(partition);
      const committed = flight?.state
        ? BigInt(flight.state.committedOffset)
        : expectedStartOffset(record.startFrom, topicStarted, offsets, fixedStartOf(record, partition));
      const hw = offsets ? offsets.latest : null;
      return {
        partition,
        started: Boolean(flight?.state),
        committedOffset: committed === null ? null : committed.toString(),
        highWatermark: hw === null ? null : hw.toString(),
        lag: lagOf(hw, committed),
        committedRecords: flight?.state?.committedRecords ?? 0,
        ranges: (flight?.ranges ?? [])
          .slice()
          .sort((a, b) => (BigInt(a.start) < BigInt(b.start) ? -1 : 1))
          .map(rangeView),
      };
    });
}
