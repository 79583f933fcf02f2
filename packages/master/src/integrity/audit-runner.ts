/**
 * An audit of one topic on demand (`GET /api/v1/topics/{topic}/audit`, `sluice audit`): reads
 * what ZooKeeper and S3 hold and hands it to the pure {@link auditTopic}.
 *
 * Order matters for a topic that is being written while it is audited: the partition states
 * are read first, then the commit records are listed, then the objects. A range that commits
 * meanwhile then has its start at or above the committed offset read, so its objects count
 * as in flight, never as extra, and its commit record, if listed, is checked like any other.
 *
 * Whole topic: one listing of `{prefix}/{topic}/` gives every key and size (extra objects are
 * looked for). With a window (partition or offsets) only the commit records of the window are
 * read and each object they list is checked with a HEAD request; extra objects are not looked
 * for then.
 *
 * Records of abandoned ranges (forced deletions, topic-abandon.ts) come from ZooKeeper (every
 * destination the topic had) and from `_sluice/abandoned/` of the audited folder.
 * A topic whose destination changed (`pastDestinations`) has its first ranges' commit records
 * in the destinations it left: those are read too (commit records in the window, a HEAD of
 * each object they list), so its offset line is checked whole.
 */
import {
  type AbandonedRecord,
  abandonedPath,
  abandonedTopicPath,
  commitsFolder,
  type Destination,
  decodeJson,
  destinationsOf,
  isNoSuchBucket,
  mapLimit,
  type PartitionState,
  parseCommitRecordKey,
  partitionPath,
  partitionsPath,
  type TopicRecord,
  topicRoot,
  type ZkSession,
} from '@sluice/shared';
import type { OutputStore } from '../stores/output-store.ts';
import { abandonedRecordsIn } from '../topics/topic-resume.ts';
import {
  type AuditPartition,
  type AuditReport,
  auditTopic,
  type ListedCommit,
  type ReadBack,
} from './audit.ts';
import { readBackObject } from './object-read-back.ts';
import { type ResumeOffReport, resumeOffReport } from './resume-off-report.ts';

export interface AuditWindow {
  partition?: number;
  from?: bigint;
  to?: bigint;
}

export interface AuditOptions {
  window?: AuditWindow;
  /** Read every object back: SHA-256, record counts, offsets. */
  deep?: boolean;
  /** S3 requests at once. @defaultValue 8 */
  concurrency?: number;
}

/** The partitions ZooKeeper has for the topic, as the audit needs them. */
export async function auditPartitions(zk: ZkSession, topic: string): Promise<AuditPartition[]> {
  const names = (await zk.children(partitionsPath(topic))).filter((n) => /^\d{1,10}$/.test(n));
  const out: AuditPartition[] = [];
  for (const name of names) {
    const p = Number(name);
    const node = await zk.get(partitionPath(topic, p));
    if (!node || node.data.length === 0) continue;
    const s = decodeJson<PartitionState>(node.data, partitionPath(topic, p));
    out.push({
      partition: p,
      startOffset: s.startOffset === undefined ? null : BigInt(s.startOffset),
      committedOffset: BigInt(s.committedOffset),
      committedRecords: s.startOffset === undefined ? null : s.committedRecords,
    });
  }
  return out.sort((a, b) => a.partition - b.partition);
}

/**
 * What forced deletions of the topic abandoned: the records in ZooKeeper, then their copies in
 * the folder (`keys`: the folder's abandoned-record keys, when a listing already has them).
 * An unreadable record is skipped: it is Sluice's own, and the ZooKeeper copy says the same.
 */
export async function abandonedRecords(
  zk: ZkSession,
  store: OutputStore,
  topic: Pick<TopicRecord, 'topic' | 'destination'>,
  keys?: readonly string[],
): Promise<AbandonedRecord[]> {
  const out: AbandonedRecord[] = [];
  for (const name of await zk.children(abandonedTopicPath(topic.topic))) {
    const path = abandonedPath(topic.topic, name);
    const node = await zk.get(path);
    if (!node) continue;
    try {
      out.push(decodeJson<AbandonedRecord>(node.data, path));
    } catch {
      // not a record of this release
    }
  }
  out.push(...(await abandonedRecordsIn(store, topic.destination, topic.topic, keys)));
  return out;
}

function inWindow(key: string, w: AuditWindow): boolean {
  const c = parseCommitRecordKey(key);
  if (!c) return w.partition === undefined && w.from === undefined && w.to === undefined;
  if (w.partition !== undefined && c.partition !== w.partition) return false;
  if (w.from !== undefined && c.end <= w.from) return false;
  if (w.to !== undefined && c.start >= w.to) return false;
  return true;
}

/**
 * What a past destination holds of the topic (in the window): its commit records, the sizes
 * of the objects they list (HEAD each), and those objects read back when `deep`. A bucket
 * removed since holds nothing: the offsets it held then show as gaps.
 */
async function pastDestinationOutput(
  store: OutputStore,
  d: Destination,
  topic: string,
  window: AuditWindow,
  opts: { deep: boolean; concurrency: number },
): Promise<{ commits: ListedCommit[]; objects: Map<string, number>; readBack: Map<string, ReadBack> }> {
  const objects = new Map<string, number>();
  const readBack = new Map<string, ReadBack>();
  let keys: string[];
  try {
    keys = (await store.list(d.bucket, commitsFolder(d.prefix, topic, window.partition)))
      .map((o) => o.key)
      .filter((k) => inWindow(k, window));
  } catch (err) {
    if (isNoSuchBucket(err)) return { commits: [], objects, readBack };
    throw err;
  }
  const commits = await store.commits(d.bucket, keys, opts.concurrency);
  const listed = commits.flatMap((c) =>
    c.record && Array.isArray(c.record.objects) ? c.record.objects.map((o) => o.key) : [],
  );
  const sizes = await mapLimit(listed, opts.concurrency, (k) => store.size(d.bucket, k));
  listed.forEach((k, i) => {
    const size = sizes[i];
    if (size !== null && size !== undefined) objects.set(k, size);
  });
  if (opts.deep) {
    const present = listed.filter((k) => objects.has(k));
    const results = await mapLimit(present, Math.min(opts.concurrency, 4), (k) =>
      readBackObject(store.s3, d.bucket, k, topic),
    );
    for (const [i, k] of present.entries()) readBack.set(k, results[i]!);
  }
  return { commits, objects, readBack };
}

export async function runAudit(
  zk: ZkSession,
  store: OutputStore,
  topic: Pick<TopicRecord, 'topic' | 'destination' | 'pastDestinations'> &
    Partial<Pick<TopicRecord, 'resume' | 'starts' | 'createdAt'>>,
  opts: AuditOptions = {},
): Promise<AuditReport & { startedWithoutResume: ResumeOffReport | null }> {
  const { bucket, prefix } = topic.destination;
  const root = topicRoot(prefix, topic.topic);
  const window = opts.window ?? {};
  const concurrency = opts.concurrency ?? 8;
  const whole = window.partition === undefined && window.from === undefined && window.to === undefined;

  const partitions = await auditPartitions(zk, topic.topic);
  const commitPrefix = commitsFolder(prefix, topic.topic, window.partition);
  let objects: Map<string, number>;
  let commitKeys: string[];
  if (whole) {
    const listing = await store.list(bucket, root);
    objects = new Map(listing.map((o) => [o.key, o.size]));
    commitKeys = listing.map((o) => o.key).filter((k) => k.startsWith(commitPrefix));
  } else {
    commitKeys = (await store.list(bucket, commitPrefix))
      .map((o) => o.key)
      .filter((k) => inWindow(k, window));
    objects = new Map();
  }
  const commits = await store.commits(bucket, commitKeys, concurrency);
  const listed = commits.flatMap((c) =>
    c.record && Array.isArray(c.record.objects) ? c.record.objects.map((o) => o.key) : [],
  );
  if (!whole) {
    const sizes = await mapLimit(listed, concurrency, (k) => store.size(bucket, k));
    listed.forEach((k, i) => {
      const size = sizes[i];
      if (size !== null && size !== undefined) objects.set(k, size);
    });
  }
  const abandoned = await abandonedRecords(zk, store, topic, whole ? [...objects.keys()] : undefined);
  let readBack: Map<string, ReadBack> | undefined;
  if (opts.deep) {
    const present = listed.filter((k) => objects.has(k));
    const results = await mapLimit(present, Math.min(concurrency, 4), (k) =>
      readBackObject(store.s3, bucket, k, topic.topic),
    );
    readBack = new Map(present.map((k, i) => [k, results[i]!]));
  }
  // A topic that moved keeps its past in the destinations it left (their commit records cover its first offsets).
  const pastRoots: string[] = [];
  for (const d of destinationsOf(topic).slice(1)) {
    const past = await pastDestinationOutput(store, d, topic.topic, window, {
      deep: opts.deep ?? false,
      concurrency,
    });
    pastRoots.push(topicRoot(d.prefix, topic.topic));
    commits.push(...past.commits);
    for (const [k, size] of past.objects) if (!objects.has(k)) objects.set(k, size);
    if (opts.deep) {
      readBack ??= new Map();
      for (const [k, r] of past.readBack) readBack.set(k, r);
    }
  }
  const report = auditTopic({
    topic: topic.topic,
    root,
    ...(pastRoots.length > 0 ? { pastRoots } : {}),
    partitions,
    commits,
    objects,
    complete: whole,
    ...(readBack ? { readBack } : {}),
    window,
    abandoned,
    bucket,
  });
  // A registration that did not resume explains overlaps (or offsets never copied) the findings show.
  return { ...report, startedWithoutResume: resumeOffReport(topic, window.partition) };
}
