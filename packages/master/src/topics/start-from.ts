/**
 * The object forms of `startFrom` (issue 16, "Start where the old pipeline stopped") resolved to
 * one offset per partition at registration: named offsets, the first offset at or after a time,
 * or a consumer group's committed offsets. The result is stored in the record's `starts`
 * (topic-resume.ts), so the leader plans from fixed offsets: a restart, another leader or the
 * group moving on later change nothing. Partitions added to the topic later start at their log
 * start, as for every topic (planning-loop.ts).
 *
 * The checks against Kafka's offsets are pure ({@link namedOffsetStarts}, {@link groupStarts});
 * {@link resolveStartFrom} asks Kafka and applies them.
 */
import {
  type ConsumerGroupView,
  ErrorCodes,
  type KafkaAdmin,
  type PartitionOffsets,
  type Problem,
  type ResolvedBy,
  SluiceError,
  type StartFrom,
  type StartFromOffsets,
  type StartPosition,
  startPositionOf,
  startTimestampMs,
  ValidationError,
} from '@sluice/shared';

/** Where one partition starts, and what decided it. */
export interface ResolvedStart {
  offset: bigint;
  resolvedBy: ResolvedBy;
}

/** The offset of `earliest` (log start) or `latest` (last stable offset: Sluice plans below it). */
export function positionOffset(position: StartPosition, o: PartitionOffsets): bigint {
  return position === 'latest' ? o.lastStable : o.earliest;
}

/** `offset`, or the log start when it lies below it (bigints: Math.max takes numbers only). */
function notBelowLogStart(offset: bigint, o: PartitionOffsets): bigint {
  return offset < o.earliest ? o.earliest : offset;
}

function partitionList(partitions: readonly number[]): string {
  const sorted = [...partitions].sort((a, b) => a - b);
  const contiguous = sorted.every((p, i) => p === i);
  return contiguous && sorted.length > 2 ? `0 to ${sorted.length - 1}` : sorted.join(', ');
}

/**
 * Pure: `startFrom.offsets` against Kafka's offsets. `pending` are the partitions whose start it
 * decides (the others resume after commit records); `all` every partition the topic has, for
 * refusing a named partition it lacks. Every problem is reported at once
 * (SLUICE_ERR_START_FROM_UNUSABLE, 422).
 */
export function namedOffsetStarts(
  topic: string,
  spec: StartFromOffsets,
  pending: readonly PartitionOffsets[],
  all: readonly number[],
): Map<number, ResolvedStart> {
  const problems: Problem[] = [];
  const out = new Map<number, ResolvedStart>();
  for (const key of Object.keys(spec.offsets)) {
    if (!all.includes(Number(key))) {
      problems.push({
        path: `startFrom.offsets.${key}`,
        message: `topic "${topic}" has no partition ${key} (its partitions are ${partitionList(all)}); name only those`,
      });
    }
  }
  const fallback = spec.fallback ?? 'earliest';
  for (const o of pending) {
    const named = spec.offsets[String(o.partition)];
    if (named === undefined) {
      out.set(o.partition, { offset: positionOffset(fallback, o), resolvedBy: 'fallback' });
      continue;
    }
    const asked = BigInt(named);
    if (asked >= o.earliest && asked <= o.latest) {
      out.set(o.partition, { offset: asked, resolvedBy: 'offsets' });
    } else if (spec.outOfRange === 'clamp') {
      out.set(o.partition, {
        offset: asked < o.earliest ? o.earliest : o.latest,
        resolvedBy: 'offsets-clamped',
      });
    } else {
      problems.push({
        path: `startFrom.offsets.${o.partition}`,
        message: `offset ${asked} is outside partition ${o.partition}'s log, which holds ${o.earliest} (log start) to ${o.latest} (high watermark); choose an offset in that range, or add "outOfRange": "clamp" to start at the nearer end`,
      });
    }
  }
  if (problems.length > 0) throw new ValidationError(problems, ErrorCodes.START_FROM_UNUSABLE);
  return out;
}

/** Pure: where the first offsets at or after a time put each partition (no record that new: the high watermark). */
export function timestampStarts(
  pending: readonly PartitionOffsets[],
  atTime: ReadonlyMap<number, bigint | null>,
): Map<number, ResolvedStart> {
  const out = new Map<number, ResolvedStart>();
  for (const o of pending) {
    const found = atTime.get(o.partition) ?? null;
    // A record older than the log start cannot be the answer; Kafka never says so, but be sure.
    const offset = found === null ? o.latest : notBelowLogStart(found, o);
    out.set(o.partition, { offset, resolvedBy: 'timestamp' });
  }
  return out;
}

function describeCommand(group: string): string {
  return `kafka-consumer-groups.sh --bootstrap-server <brokers> --describe --group ${JSON.stringify(group)}`;
}

/**
 * Pure: a consumer group's view against Kafka's offsets. Refused while the group has members
 * (SLUICE_ERR_CONSUMER_GROUP_ACTIVE, 409: the old consumer would keep committing past where
 * Sluice starts), when it committed nothing for the pending partitions (an unknown or mistyped
 * group: SLUICE_ERR_START_FROM_UNUSABLE, 422), and when a committed offset lies beyond the
 * high watermark (the topic was truncated or re-created since). A committed offset below the
 * log start (retention deleted records the old consumer had not read) is kept: the leader plans
 * the deleted span as a range of its own, whose commit record and the audit report the gap
 * (cause retention), so the loss is on record rather than hidden by a later start.
 */
export function groupStarts(
  topic: string,
  view: ConsumerGroupView,
  fallback: StartPosition,
  pending: readonly PartitionOffsets[],
): Map<number, ResolvedStart> {
  if (view.members > 0) {
    const who = view.memberClients.slice(0, 5).join(', ');
    throw new SluiceError(
      ErrorCodes.CONSUMER_GROUP_ACTIVE,
      `consumer group ${JSON.stringify(view.group)} has ${view.members} member${view.members === 1 ? '' : 's'} now (state ${view.state}; ${who}): stop the consumer that uses it first (it would keep committing while Sluice starts from its offsets), check with ${describeCommand(view.group)} that it has no active members, then register again`,
    );
  }
  const named = pending.filter((o) => view.offsets.has(o.partition));
  if (pending.length > 0 && named.length === 0) {
    throw new SluiceError(
      ErrorCodes.START_FROM_UNUSABLE,
      `startFrom.consumerGroup: consumer group ${JSON.stringify(view.group)} has no committed offsets for topic "${topic}"${view.state === 'Dead' ? ' (Kafka does not know the group)' : ''}; check the group id and what it committed with ${describeCommand(view.group)} (kafka-consumer-groups.sh --list lists the groups), or use "startFrom": "earliest" or "latest"`,
    );
  }
  const problems: Problem[] = [];
  const out = new Map<number, ResolvedStart>();
  for (const o of pending) {
    const committed = view.offsets.get(o.partition);
    if (committed === undefined) {
      out.set(o.partition, { offset: positionOffset(fallback, o), resolvedBy: 'fallback' });
    } else if (committed > o.latest) {
      problems.push({
        path: 'startFrom.consumerGroup',
        message: `group ${JSON.stringify(view.group)} committed offset ${committed} for partition ${o.partition}, beyond its high watermark ${o.latest} (the topic was truncated or re-created since); reset the group's offsets or give "startFrom": { "offsets": … }`,
      });
    } else {
      out.set(o.partition, {
        offset: committed,
        resolvedBy: 'consumerGroup',
      });
    }
  }
  if (problems.length > 0) throw new ValidationError(problems, ErrorCodes.START_FROM_UNUSABLE);
  return out;
}

/**
 * Where an object form of `startFrom` starts each of the `pending` partitions (none for
 * `earliest`/`latest`: the leader takes those as it finds them). `all`: every partition the
 * topic has.
 */
export async function resolveStartFrom(
  kafka: Pick<KafkaAdmin, 'offsetsAtTime' | 'consumerGroup'>,
  topic: string,
  startFrom: StartFrom,
  pending: readonly PartitionOffsets[],
  all: readonly number[],
): Promise<Map<number, ResolvedStart>> {
  if (typeof startFrom === 'string') return new Map();
  if ('offsets' in startFrom) return namedOffsetStarts(topic, startFrom, pending, all);
  if (pending.length === 0) return new Map();
  const partitions = pending.map((o) => o.partition);
  if ('timestamp' in startFrom) {
    const ms = startTimestampMs(startFrom.timestamp) as number; // validated with the request
    return timestampStarts(pending, await kafka.offsetsAtTime(topic, partitions, ms));
  }
  const view = await kafka.consumerGroup(startFrom.consumerGroup, topic, partitions);
  return groupStarts(topic, view, startPositionOf(startFrom), pending);
}
