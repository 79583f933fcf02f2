/**
 * Where a registration starts each partition when the destination already holds commit
 * records of this topic (issue 15 point 1). A topic deleted and registered again must not
 * copy again what S3 has (other range keys would duplicate it) nor skip what was produced
 * while it was unregistered: S3's commit records are the truth of a topic's past.
 *
 * Per partition, the commit records under `{prefix}/{topic}/_sluice/commits/partition={p}/`
 * of the same Kafka topic id (a re-created topic's offsets start again: its old incarnation's
 * records say nothing of the new one) are walked in offset order from the first; the
 * partition resumes at the end of that contiguous run. Ranges a forced DELETE abandoned (their
 * records beside the commit records, `_sluice/abandoned/`, topic-abandon.ts) join the run as
 * commit records do: a done range above an abandoned one keeps its commit record, and
 * resuming at the abandoned offsets would copy it again under other keys. Abandoned offsets
 * stay abandoned (the audit says so); a replay copies them while Kafka has them. Partitions
 * without such records start where `startFrom` says; so do all when the request says
 * `resume: false`.
 */
import {
  type AbandonedRecord,
  abandonedFolder,
  commitsFolder,
  type Destination,
  type KafkaAdmin,
  type PartitionOffsets,
  parseCommitRecordKey,
  SluiceError,
  type StartFrom,
  type TopicRecord,
} from '@sluice/shared';
import type { OutputStore } from '../stores/output-store.ts';

/** Where one partition starts (the record's `starts`, with the offset as a number). */
interface Start {
  partition: number;
  startOffset: bigint;
  resumed: boolean;
}

/** Commit records read at once. */
const READ_CONCURRENCY = 8;

/**
 * Per partition, the end of the contiguous run of commit records of `topicId` from its first
 * one; partitions without any are absent.
 */
export async function committedEnds(
  store: Pick<OutputStore, 'list' | 'commits' | 'text'>,
  destination: Destination,
  topic: string,
  topicId: string,
): Promise<Map<number, bigint>> {
  let listed: Awaited<ReturnType<OutputStore['list']>>;
  try {
    listed = await store.list(destination.bucket, commitsFolder(destination.prefix, topic));
  } catch (err) {
    // A bucket that does not exist holds no past; whether it may be registered is not decided here.
    if (err instanceof SluiceError && (err.cause as { name?: string } | undefined)?.name === 'NoSuchBucket')
      return new Map();
    throw err;
  }
  const keys = listed.map((l) => l.key).filter((k) => parseCommitRecordKey(k) !== null);
  const commits = await store.commits(destination.bucket, keys, READ_CONCURRENCY);
  const spans = new Map<number, Array<{ start: bigint; end: bigint }>>();
  for (const c of commits) {
    // Unreadable records and those of another incarnation do not count as this topic's past.
    if (c.record === null || c.record.topicId !== topicId) continue;
    const k = parseCommitRecordKey(c.key)!;
    const list = spans.get(k.partition) ?? [];
    list.push({ start: k.start, end: k.end });
    spans.set(k.partition, list);
  }
  for (const r of await abandonedRanges(store, destination, topic, topicId)) {
    const list = spans.get(r.partition) ?? [];
    list.push({ start: BigInt(r.start), end: BigInt(r.end) });
    spans.set(r.partition, list);
  }
  const ends = new Map<number, bigint>();
  for (const [partition, list] of spans) {
    list.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    let reach = list[0]!.end;
    for (const s of list) {
      if (s.start > reach) break;
      if (s.end > reach) reach = s.end;
    }
    ends.set(partition, reach);
  }
  return ends;
}

/** The ranges of `topicId` that forced deletions abandoned, from their records in the destination. */
async function abandonedRanges(
  store: Pick<OutputStore, 'list' | 'text'>,
  destination: Destination,
  topic: string,
  topicId: string,
): Promise<AbandonedRecord['ranges']> {
  const out: AbandonedRecord['ranges'] = [];
  const folder = abandonedFolder(destination.prefix, topic);
  for (const { key } of await store.list(destination.bucket, folder)) {
    if (!key.endsWith('.json')) continue;
    const text = await store.text(destination.bucket, key);
    if (text === null) continue;
    let rec: AbandonedRecord;
    try {
      rec = JSON.parse(text) as AbandonedRecord;
    } catch {
      continue; // not a record Sluice wrote
    }
    if (rec.topicId === topicId && Array.isArray(rec.ranges)) out.push(...rec.ranges);
  }
  return out;
}

/** Where each partition starts: after its commit records when it has some (and `resume`), else per `startFrom`. */
export function partitionStarts(
  offsets: readonly PartitionOffsets[],
  startFrom: StartFrom,
  ends: ReadonlyMap<number, bigint>,
  resume: boolean,
): Start[] {
  return offsets.map((o) => {
    const end = resume ? ends.get(o.partition) : undefined;
    if (end !== undefined) return { partition: o.partition, startOffset: end, resumed: true };
    return {
      partition: o.partition,
      startOffset: startFrom === 'latest' ? o.lastStable : o.earliest,
      resumed: false,
    };
  });
}

/**
 * A new record with its resume decision: `resume`, and `starts` (where each partition starts;
 * the leader starts the `resumed` ones there). The registration answers with it.
 */
export async function resumingRegistration(
  kafka: KafkaAdmin,
  store: OutputStore,
  record: TopicRecord,
  partitions: number[],
  resume: boolean,
): Promise<TopicRecord> {
  // Read with `resume: false` too: where the commit records end is what the audit reports then.
  const [offsets, ends] = await Promise.all([
    kafka.offsets(record.topic, partitions),
    committedEnds(store, record.destination, record.topic, record.topicId),
  ]);
  const starts = partitionStarts(offsets, record.startFrom, ends, resume);
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
