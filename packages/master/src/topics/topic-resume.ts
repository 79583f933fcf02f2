/**
 * Where a registration starts each partition when the destination already holds commit
 * records of this topic (issue 15 point 1). A topic deleted and registered again must not
 * copy again what S3 has (other range keys would duplicate it) nor skip what was produced
 * while it was unregistered: S3's commit records are the truth of a topic's past.
 *
 * Per partition, the commit records under `{prefix}/{topic}/_sluice/commits/partition={p}/`
 * (of the current destination and every past one) of the same Kafka topic id (a re-created topic's offsets start again: its old incarnation's
 * records say nothing of the new one) are walked in offset order from the first; the
 * partition resumes at the end of that contiguous run. Ranges a forced DELETE abandoned (their
 * records beside the commit records, `_sluice/abandoned/`, topic-abandon.ts) join the run as
 * commit records do: a done range above an abandoned one keeps its commit record, and
 * resuming at the abandoned offsets would copy it again under other keys. Abandoned offsets
 * stay abandoned (the audit says so); a replay copies them while Kafka has them. Partitions
 * without such records start where `startFrom` says (its object forms resolved here, once:
 * start-from.ts); so do all when the request says `resume: false`.
 */
import {
  type AbandonedRecord,
  abandonedFolder,
  commitsFolder,
  configObjectKey,
  type Destination,
  destinationsOf,
  isNoSuchBucket,
  type KafkaAdmin,
  type PartitionOffsets,
  type PastDestination,
  parseCommitRecordKey,
  parseTopicConfigObject,
  type ResolvedBy,
  type StartFrom,
  type TopicRecord,
} from '@sluice/shared';
import type { ListedCommit } from '../integrity/audit.ts';
import type { OutputStore } from '../stores/output-store.ts';
import { type ResolvedStart, resolveStartFrom } from './start-from.ts';

/** Where one partition starts (the record's `starts`, with the offset as a number). */
interface Start {
  partition: number;
  startOffset: bigint;
  resumed: boolean;
  resolvedBy?: ResolvedBy;
}

/** Commit records read at once. */
const READ_CONCURRENCY = 8;

/** What a partition's commit records of one topic id say (see {@link commitRunOf}). */
export interface CommitRun {
  /** The end of the contiguous run of commit records from the first one: where the partition resumes. */
  end: bigint;
  /** Commit records of this topic id the partition has, in every destination read. */
  commitRecords: number;
  /** The first offsets no commit record covers after the run, when records lie beyond them. */
  hole: { from: bigint; to: bigint } | null;
}

/** Pure: the run of a partition's commit record spans `[start, end)` (any order, overlaps allowed). */
export function commitRunOf(spans: ReadonlyArray<{ start: bigint; end: bigint }>): CommitRun {
  const sorted = [...spans].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  let reach = sorted[0]!.end;
  let hole: CommitRun['hole'] = null;
  for (const s of sorted) {
    if (s.start > reach) {
      hole = { from: reach, to: s.start };
      break;
    }
    if (s.end > reach) reach = s.end;
  }
  return { end: reach, commitRecords: sorted.length, hole };
}

/**
 * Per partition, the run of commit records of `topicId` in all of `destinations` (a topic's
 * current and past destinations: a destination change splits its past between them);
 * partitions without any are absent.
 */
export async function commitRuns(
  store: Pick<OutputStore, 'list' | 'commits' | 'text'>,
  destinations: readonly Destination[],
  topic: string,
  topicId: string,
): Promise<Map<number, CommitRun>> {
  const spans = new Map<number, Array<{ start: bigint; end: bigint }>>();
  for (const destination of destinations) {
    for (const c of await destinationCommits(store, destination, topic)) {
      // Unreadable records and those of another incarnation do not count as this topic's past.
      if (c.record === null || c.record.topicId !== topicId) continue;
      const k = parseCommitRecordKey(c.key)!;
      const list = spans.get(k.partition) ?? [];
      list.push({ start: k.start, end: k.end });
      spans.set(k.partition, list);
    }
  }
  const counts = new Map([...spans].map(([p, list]) => [p, list.length]));
  // Abandoned ranges join the run like commit records (see the header); they are not commit records.
  for (const destination of destinations) {
    for (const r of await abandonedRanges(store, destination, topic, topicId)) {
      const list = spans.get(r.partition) ?? [];
      list.push({ start: BigInt(r.start), end: BigInt(r.end) });
      spans.set(r.partition, list);
    }
  }
  return new Map(
    [...spans].map(([partition, list]) => [
      partition,
      { ...commitRunOf(list), commitRecords: counts.get(partition) ?? 0 },
    ]),
  );
}

/** The commit records of `topic` in one destination (none when its bucket does not exist). */
async function destinationCommits(
  store: Pick<OutputStore, 'list' | 'commits'>,
  destination: Destination,
  topic: string,
): Promise<ListedCommit[]> {
  let listed: Awaited<ReturnType<OutputStore['list']>>;
  try {
    listed = await store.list(destination.bucket, commitsFolder(destination.prefix, topic));
  } catch (err) {
    // A bucket that does not exist holds no past; whether it may be registered is not decided here.
    if (isNoSuchBucket(err)) return [];
    throw err;
  }
  const keys = listed.map((l) => l.key).filter((k) => parseCommitRecordKey(k) !== null);
  return store.commits(destination.bucket, keys, READ_CONCURRENCY);
}

/**
 * Per partition, the end of the contiguous run of commit records of `topicId` from its first
 * one; partitions without any are absent.
 */
export async function committedEnds(
  store: Pick<OutputStore, 'list' | 'commits' | 'text'>,
  destinations: readonly Destination[],
  topic: string,
  topicId: string,
): Promise<Map<number, bigint>> {
  const runs = await commitRuns(store, destinations, topic, topicId);
  return new Map([...runs].map(([p, r]) => [p, r.end]));
}

/**
 * The records of ranges forced deletions abandoned (topic-abandon.ts) beside `topic`'s commit
 * records in one destination; none when its bucket is gone. `keys`: a listing of the topic's
 * folder the caller already made (the audit's), instead of listing again.
 */
export async function abandonedRecordsIn(
  store: Pick<OutputStore, 'list' | 'text'>,
  destination: Destination,
  topic: string,
  keys?: readonly string[],
): Promise<AbandonedRecord[]> {
  const folder = abandonedFolder(destination.prefix, topic);
  let listed: readonly string[];
  try {
    listed = keys ?? (await store.list(destination.bucket, folder)).map((o) => o.key);
  } catch (err) {
    if (isNoSuchBucket(err)) return []; // a bucket gone holds no record
    throw err;
  }
  const out: AbandonedRecord[] = [];
  for (const key of listed) {
    if (!key.startsWith(folder) || !key.endsWith('.json')) continue;
    const text = await store.text(destination.bucket, key);
    if (text === null) continue;
    try {
      out.push(JSON.parse(text) as AbandonedRecord);
    } catch {
      // not JSON: not a record Sluice wrote
    }
  }
  return out;
}

/** The ranges of `topicId` that forced deletions abandoned, from their records in the destination. */
async function abandonedRanges(
  store: Pick<OutputStore, 'list' | 'text'>,
  destination: Destination,
  topic: string,
  topicId: string,
): Promise<AbandonedRecord['ranges']> {
  return (await abandonedRecordsIn(store, destination, topic))
    .filter((rec) => rec.topicId === topicId && Array.isArray(rec.ranges))
    .flatMap((rec) => rec.ranges);
}

/**
 * Where each partition starts: after its commit records when it has some (and `resume`); else
 * where an earlier registration started it (`origin`: recovery, whose partitions that never
 * committed must not skip what was produced since); else where an object form of `startFrom`
 * resolved it (`resolved`, start-from.ts); else per `startFrom`.
 */
export function partitionStarts(
  offsets: readonly PartitionOffsets[],
  startFrom: StartFrom,
  ends: ReadonlyMap<number, bigint>,
  resume: boolean,
  origin: ReadonlyMap<number, bigint> = new Map(),
  resolved: ReadonlyMap<number, ResolvedStart> = new Map(),
): Start[] {
  return offsets.map((o) => {
    const end = resume ? (ends.get(o.partition) ?? origin.get(o.partition)) : undefined;
    if (end !== undefined) return { partition: o.partition, startOffset: end, resumed: true };
    const r = resolved.get(o.partition);
    if (r) return { partition: o.partition, startOffset: r.offset, resumed: false, resolvedBy: r.resolvedBy };
    return {
      partition: o.partition,
      startOffset: startFrom === 'latest' ? o.lastStable : o.earliest,
      resumed: false,
    };
  });
}

/**
 * {@link partitionStarts} after resolving an object form of `startFrom` for the partitions that
 * do not resume (Kafka is asked only when some partition needs it). The registration and its
 * dry run both start here. Recovery (an `origin`) resolves nothing: the registration it repeats
 * resolved its partitions then, and one it did not know was added later, so it starts at its
 * log start like any partition added later (the old group may be long gone by now).
 */
export async function registrationStarts(
  kafka: KafkaAdmin,
  topic: string,
  startFrom: StartFrom,
  offsets: readonly PartitionOffsets[],
  ends: ReadonlyMap<number, bigint>,
  resume: boolean,
  origin: ReadonlyMap<number, bigint> = new Map(),
): Promise<Start[]> {
  const recovering = origin.size > 0;
  const pending = recovering ? [] : offsets.filter((o) => !(resume && ends.has(o.partition)));
  const all = offsets.map((o) => o.partition);
  const resolved = await resolveStartFrom(kafka, topic, startFrom, pending, all);
  return partitionStarts(offsets, startFrom, ends, resume, origin, resolved);
}

/**
 * The past destinations the config object in the record's destination lists, when it is one of
 * this topic id: a topic that moved and is registered again (after ZooKeeper lost it, say) keeps
 * its past in the destinations it left. None when there is no such object (or bucket).
 */
export async function knownPastDestinations(
  store: Pick<OutputStore, 'text'>,
  record: Pick<TopicRecord, 'topic' | 'topicId' | 'destination'>,
): Promise<PastDestination[]> {
  const { bucket, prefix } = record.destination;
  let text: string | null;
  try {
    text = await store.text(bucket, configObjectKey(prefix, record.topic));
  } catch (err) {
    if (isNoSuchBucket(err)) return [];
    throw err;
  }
  if (text === null) return [];
  const known = parseTopicConfigObject(text);
  if (typeof known === 'string' || known.topicId !== record.topicId) return [];
  return known.pastDestinations;
}

/**
 * A new record with its resume decision: `resume`, and `starts` (where each partition starts;
 * the leader starts the `resumed` ones there). The registration answers with it.
 */
export async function resumingRegistration(
  kafka: KafkaAdmin,
  store: Pick<OutputStore, 'list' | 'commits' | 'text'>,
  record: TopicRecord,
  partitions: number[],
  resume: boolean,
  opts: { runs?: ReadonlyMap<number, CommitRun>; origin?: ReadonlyMap<number, bigint> } = {},
): Promise<TopicRecord> {
  if (resume && !opts.runs && !record.pastDestinations?.length) {
    const past = await knownPastDestinations(store, record);
    if (past.length > 0) record = { ...record, pastDestinations: past };
  }
  // Read with `resume: false` too: where the commit records end is what the audit reports then.
  const [offsets, runs] = await Promise.all([
    kafka.offsets(record.topic, partitions),
    opts.runs ?? commitRuns(store, destinationsOf(record), record.topic, record.topicId),
  ]);
  const ends = new Map([...runs].map(([p, r]) => [p, r.end]));
  const starts = await registrationStarts(
    kafka,
    record.topic,
    record.startFrom,
    offsets,
    ends,
    resume,
    opts.origin,
  );
  return {
    ...record,
    resume,
    starts: starts.map((s) => {
      const end = resume ? undefined : ends.get(s.partition);
      return {
        ...s,
        startOffset: s.startOffset.toString(),
        ...(end === undefined ? {} : { commitRecordsEnd: end.toString() }),
      };
    }),
  };
}
