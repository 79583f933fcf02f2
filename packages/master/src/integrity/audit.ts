/**
 * Pure: the audit of one topic's output. Sluice's own records in, findings out; no I/O.
 *
 * What "everything is there, exactly once" means, checked from the commit records in S3 and
 * the committed offsets in ZooKeeper (docs/range-lifecycle.md):
 *
 *  - Tiling: per partition, the commit records cover [start, committedOffset) with no hole and
 *    no overlap (invariant 1). `start` is where the partition started (its state's
 *    `startOffset`: the log start at registration, or the last stable offset with `startFrom:
 *    latest`), or the first commit record's start when that is lower (a registration that
 *    resumed after earlier commit records, a recovery) or the state predates the field.
 *    A hole is a gap of cause `unknown` (no commit record covers it); offsets a commit record
 *    lists in its `gaps` were deleted by retention before Sluice read them: gaps of cause
 *    `retention`. Commit records above the committed offset belong to ranges done but not
 *    yet committed; they take part in the overlap check only.
 *  - Rejected records: a range's rejected-records object (records its output format could not
 *    take, `_sluice/rejected/…`) is listed by its commit record, and exists with its recorded
 *    size; its records are counted (`rejectedRecords`) as accounted for, like a data object's.
 *  - Objects: every object a commit record lists exists with its recorded size; with `deep`,
 *    its bytes hash to the recorded SHA-256 and its records, first and last offset match.
 *  - Nothing unaccounted for: with a full listing, every object below `{prefix}/{topic}/` is a
 *    commit record, a `_SUCCESS` marker, an object some commit record lists, an object of a
 *    range not committed yet (in flight), or a destination write probe the master did not get
 *    to delete (`_sluice/probe/`, object-key.ts), or the topic's config object
 *    (`_sluice/config.json`); anything else is an extra object.
 *  - Abandoned offsets: ranges a forced DELETE gave up (`AbandonedRecord`, topic-abandon.ts)
 *    are listed under `abandoned`, whatever destination they were for; a hole of this
 *    destination's tiling that they cover is a gap of cause `abandoned`, not `unknown`, and
 *    objects they recorded without a commit record are theirs, not extra.
 *  - Counts: the records of the commit records below the committed offset add up to the
 *    partition state's `committedRecords` (when the state knows its start).
 *
 * A window (`partition`, `from`, `to`) narrows every check to the commit records and offsets
 * that overlap it; extra objects are then looked for only among keys that name a range.
 */
import {
  type AbandonedRecord,
  type CommitRecord,
  isAbandonedKey,
  isProbeKey,
  parseCommitRecordKey,
  parseConfigObjectKey,
  parseDataObjectName,
  parseRejectedObjectKey,
  parseSuccessMarkerKey,
  topicRoot,
} from '@sluice/shared';

export interface AuditPartition {
  partition: number;
  /** Where the partition's commit records must begin; null when unknown (the first commit record's start is used). */
  startOffset: bigint | null;
  /** First offset not yet committed; null when the partition has no state in ZooKeeper. */
  committedOffset: bigint | null;
  /** Records of the committed ranges as the partition state counts them; null to skip the count check. */
  committedRecords: number | null;
}

export interface ListedCommit {
  /** The commit record's key. */
  key: string;
  /** Null when it could not be read or parsed (`error` says why). */
  record: CommitRecord | null;
  error?: string;
}

/** What `--deep` learned by reading an object back. */
export interface ReadBack {
  sha256: string;
  /** Null when the format does not tell (raw values may hold newlines). */
  records: number | null;
  firstOffset: string | null;
  lastOffset: string | null;
  /** Lines that are not records of this range (wrong topic, partition or offset), or unparsable. */
  strayLines: number;
  /** Set when the object could not be read or decompressed. */
  error?: string;
}

export interface AuditInput {
  topic: string;
  /** `{prefix}/{topic}/` (topicRoot). */
  root: string;
  /**
   * The topic folders of its past destinations (`pastDestinations`): commit records there, and
   * the objects they list, are the topic's too. Extra objects are looked for under `root` only.
   */
  pastRoots?: readonly string[];
  partitions: AuditPartition[];
  commits: ListedCommit[];
  /** Size of every object known to exist (key → bytes); a key absent here does not exist (see `complete`). */
  objects: Map<string, number>;
  /**
   * True when `objects` is a full listing of `root` (extra objects are looked for); false when
   * it holds only the keys the commit records list (a light audit).
   */
  complete: boolean;
  /** Objects read back (deep audit), by key. */
  readBack?: Map<string, ReadBack>;
  window?: { partition?: number; from?: bigint; to?: bigint };
  /** What forced deletions of this topic abandoned, from ZooKeeper and S3 (duplicates allowed). */
  abandoned?: AbandonedRecord[];
  /** The audited bucket: an abandoned range explains holes only of its own bucket and folder. */
  bucket?: string;
}

export type GapCause = 'retention' | 'unknown' | 'abandoned';

/** One abandoned range as the audit reports it. */
export interface AbandonedSpan {
  partition: number;
  start: string;
  end: string;
  /** `bucket/prefix` it was planned for. */
  destination: string;
  abandonedAt: string;
  reason: string;
  /** The range's last error, if any. */
  error: string | null;
}

export type Finding =
  | { kind: 'gap'; partition: number; start: string; end: string; cause: GapCause; detail: string }
  | { kind: 'overlap'; partition: number; start: string; end: string; commits: string[] }
  | { kind: 'missing-object'; partition: number; key: string; commit: string }
  | {
      kind: 'size-mismatch';
      partition: number;
      key: string;
      expected: number;
      actual: number;
      commit: string;
    }
  | { kind: 'checksum-mismatch'; partition: number; key: string; expected: string; actual: string }
  | { kind: 'content-mismatch'; partition: number; key: string; detail: string }
  | { kind: 'unreadable-object'; partition: number; key: string; detail: string }
  | { kind: 'extra-object'; key: string; size: number }
  | { kind: 'bad-commit-record'; key: string; detail: string }
  | { kind: 'count-mismatch'; partition: number; expected: number; actual: number; detail: string };

export type FindingKind = Finding['kind'];

export interface PartitionAudit {
  partition: number;
  /** Where the check began and ended: [from, to). Null when there was nothing to check. */
  from: string | null;
  to: string | null;
  committedOffset: string | null;
  /** Commit records checked. */
  ranges: number;
  records: number;
  objects: number;
  bytes: number;
  /** Offsets deleted by retention before Sluice read them, within the window. */
  retentionGapOffsets: string;
  /** Offsets no commit record covers, within the window. */
  unknownGapOffsets: string;
  /** Offsets no commit record covers that a forced DELETE abandoned, within the window. */
  abandonedOffsets: string;
  /** Records of the checked ranges in their rejected-records objects (not in `records`). */
  rejectedRecords: number;
}

export interface AuditReport {
  topic: string;
  ok: boolean;
  /** Number of findings. */
  problems: number;
  /** Findings by kind. */
  counts: Partial<Record<FindingKind, number>>;
  partitions: PartitionAudit[];
  findings: Finding[];
  /** Objects of ranges not committed yet (in flight): neither checked nor extra. */
  pendingObjects: number;
  /** `_SUCCESS` markers seen. */
  markers: number;
  /** Ranges forced deletions of this topic gave up, in any destination, within the window. */
  abandoned: AbandonedSpan[];
}

const max = (a: bigint, b: bigint) => (a > b ? a : b);
const min = (a: bigint, b: bigint) => (a < b ? a : b);

interface Span {
  start: bigint;
  end: bigint;
  key: string;
  record: CommitRecord;
}

/** The commit record's own consistency: its name, topic, partition and objects agree. */
function commitProblems(
  topic: string,
  roots: readonly string[],
  c: ListedCommit,
): { partition: number; span: Span } | string {
  const name = parseCommitRecordKey(c.key);
  if (!name || !roots.includes(name.root)) return 'not a commit record name';
  const root = name.root;
  const { partition, start, end } = name;
  const r = c.record;
  if (!r) return c.error ?? 'unreadable';
  if (end <= start) return `names an empty range [${start}, ${end})`;
  if (r.topic !== topic) return `is of topic "${r.topic}"`;
  if (r.partition !== partition) return `says partition ${r.partition}, its name ${partition}`;
  if (r.start !== start.toString() || r.end !== end.toString()) {
    return `says [${r.start}, ${r.end}), its name [${start}, ${end})`;
  }
  if (!Array.isArray(r.objects) || !Array.isArray(r.gaps)) return 'lacks objects or gaps';
  let records = 0;
  for (const o of r.objects) {
    const parsed = parseDataObjectName(o.key);
    // The topic is in the key's folder (checked below), not always in its file name (key templates).
    if (!parsed || parsed.partition !== partition || parsed.start !== start || parsed.end !== end) {
      return `lists ${o.key}, which is not an object of its range`;
    }
    if (!o.key.startsWith(root)) return `lists ${o.key}, outside ${root}`;
    records += o.records;
  }
  if (records !== r.records) return `counts ${r.records} records, its objects ${records}`;
  if (r.rejected) {
    const rj = parseRejectedObjectKey(r.rejected.key);
    if (!rj || rj.root !== root || rj.partition !== partition || rj.start !== start || rj.end !== end)
      return `lists ${r.rejected.key} as its rejected records, which is not the rejected-records object of its range`;
  }
  return { partition, span: { start, end, key: c.key, record: r } };
}

function overlapsWindow(
  s: { start: bigint; end: bigint },
  from: bigint | undefined,
  to: bigint | undefined,
): boolean {
  return (from === undefined || s.end > from) && (to === undefined || s.start < to);
}

/** `bucket/prefix` of a destination, as the audit names it. */
function destinationName(d: { bucket: string; prefix: string }): string {
  return d.prefix ? `${d.bucket}/${d.prefix}` : d.bucket;
}

/**
 * The abandoned ranges of every record, each once (a record is read from ZooKeeper and from
 * S3), in partition and offset order; `here` marks those of the audited folder.
 */
function abandonedSpans(
  records: readonly AbandonedRecord[],
  root: string,
  bucket: string | undefined,
): Array<AbandonedSpan & { here: boolean; keys: string[] }> {
  const seen = new Map<string, AbandonedSpan & { here: boolean; keys: string[] }>();
  for (const rec of records) {
    const dest = destinationName(rec.destination);
    const here =
      topicRoot(rec.destination.prefix, rec.topic) === root &&
      (bucket === undefined || rec.destination.bucket === bucket);
    for (const r of rec.ranges ?? []) {
      const id = `${dest}|${r.partition}|${r.start}|${r.end}`;
      if (seen.has(id)) continue;
      seen.set(id, {
        partition: r.partition,
        start: r.start,
        end: r.end,
        destination: dest,
        abandonedAt: rec.abandonedAt,
        reason: rec.reason,
        error: r.error,
        here,
        keys: r.keys ?? [],
      });
    }
  }
  return [...seen.values()].sort(
    (a, b) => a.partition - b.partition || Number(BigInt(a.start) - BigInt(b.start)),
  );
}

/**
 * Splits a hole `[start, end)` of the tiling into the parts abandoned ranges cover (cause
 * `abandoned`) and the rest (cause `unknown`), in order.
 */
function holeParts(
  start: bigint,
  end: bigint,
  abandoned: ReadonlyArray<{ start: bigint; end: bigint }>,
): Array<{ start: bigint; end: bigint; abandoned: boolean }> {
  const out: Array<{ start: bigint; end: bigint; abandoned: boolean }> = [];
  let at = start;
  for (const a of abandoned) {
    if (a.end <= at || a.start >= end) continue;
    if (a.start > at) out.push({ start: at, end: a.start, abandoned: false });
    const e = min(a.end, end);
    out.push({ start: max(at, a.start), end: e, abandoned: true });
    at = e;
  }
  if (at < end) out.push({ start: at, end, abandoned: false });
  return out;
}

/** The audit of one topic. */
export function auditTopic(input: AuditInput): AuditReport {
  const { topic, root, window = {} } = input;
  const roots = [root, ...(input.pastRoots ?? [])];
  const findings: Finding[] = [];
  const wantPartition = (p: number) => window.partition === undefined || window.partition === p;
  const abandoned = abandonedSpans(input.abandoned ?? [], root, input.bucket).filter(
    (a) =>
      wantPartition(a.partition) &&
      overlapsWindow({ start: BigInt(a.start), end: BigInt(a.end) }, window.from, window.to),
  );
  const abandonedKeys = new Set(abandoned.filter((a) => a.here).flatMap((a) => a.keys));

  // Commit records, checked and grouped by partition.
  const byPartition = new Map<number, Span[]>();
  const commitKeys = new Set<string>();
  for (const c of input.commits) {
    commitKeys.add(c.key);
    const checked = commitProblems(topic, roots, c);
    if (typeof checked === 'string') {
      const name = parseCommitRecordKey(c.key);
      if (!name || !roots.includes(name.root) || wantPartition(name.partition))
        findings.push({ kind: 'bad-commit-record', key: c.key, detail: checked });
      continue;
    }
    if (!wantPartition(checked.partition)) continue;
    const list = byPartition.get(checked.partition) ?? [];
    list.push(checked.span);
    byPartition.set(checked.partition, list);
  }

  const states = new Map(input.partitions.map((p) => [p.partition, p]));
  const numbers = new Set<number>([...input.partitions.map((p) => p.partition), ...byPartition.keys()]);
  const listed = new Set<string>();
  const partitions: PartitionAudit[] = [];

  for (const partition of [...numbers].sort((a, b) => a - b)) {
    if (!wantPartition(partition)) continue;
    const state = states.get(partition);
    const spans = (byPartition.get(partition) ?? []).sort((a, b) =>
      a.start < b.start ? -1 : a.start > b.start ? 1 : a.end < b.end ? -1 : a.end > b.end ? 1 : 0,
    );
    for (const s of spans) {
      for (const o of s.record.objects) listed.add(o.key);
      if (s.record.rejected) listed.add(s.record.rejected.key);
    }
    const committed = state?.committedOffset ?? null;
    // Commit records below the state's start are the partition's past (a registration that
    // resumed, a recovery, a destination left): the line is checked whole, from the first.
    const first = spans[0]?.start;
    const stateStart = state?.startOffset ?? null;
    const start =
      stateStart === null
        ? (first ?? committed)
        : first !== undefined && first < stateStart
          ? first
          : stateStart;
    let from = start;
    let to = committed;
    if (window.from !== undefined && from !== null) from = max(from, window.from);
    if (window.to !== undefined && to !== null) to = min(to, window.to);
    const inWindow = spans.filter((s) => overlapsWindow(s, window.from, window.to));
    const view: PartitionAudit = {
      partition,
      from: from === null ? null : from.toString(),
      to: to === null ? null : to.toString(),
      committedOffset: committed === null ? null : committed.toString(),
      ranges: 0,
      records: 0,
      objects: 0,
      bytes: 0,
      retentionGapOffsets: '0',
      unknownGapOffsets: '0',
      abandonedOffsets: '0',
      rejectedRecords: 0,
    };
    let retention = 0n;
    let unknown = 0n;
    let given = 0n;
    const abandonedHere = abandoned
      .filter((a) => a.here && a.partition === partition)
      .map((a) => ({ start: BigInt(a.start), end: BigInt(a.end) }));
    /** A hole of the tiling: abandoned where a forced deletion says so, unknown elsewhere. */
    const hole = (start: bigint, end: bigint, detail: string) => {
      for (const part of holeParts(start, end, abandonedHere)) {
        if (part.abandoned) given += part.end - part.start;
        else unknown += part.end - part.start;
        findings.push({
          kind: 'gap',
          partition,
          start: part.start.toString(),
          end: part.end.toString(),
          cause: part.abandoned ? 'abandoned' : 'unknown',
          detail: part.abandoned ? 'a forced DELETE abandoned these offsets (see abandoned)' : detail,
        });
      }
    };

    // Overlaps: any two commit records sharing an offset (in or above the committed offset).
    let reach: Span | null = null;
    for (const s of inWindow) {
      if (reach && s.start < reach.end) {
        findings.push({
          kind: 'overlap',
          partition,
          start: s.start.toString(),
          end: min(s.end, reach.end).toString(),
          commits: [reach.key, s.key],
        });
      }
      if (!reach || s.end > reach.end) reach = s;
    }

    // Tiling of [from, to): holes are gaps of unknown cause; recorded gaps are retention.
    if (from !== null && to !== null && from < to) {
      let at = from;
      for (const s of spans) {
        if (s.end <= at) continue;
        if (s.start >= to) break;
        if (s.start > at) {
          hole(at, min(s.start, to), 'no commit record covers these offsets below the committed offset');
        }
        at = max(at, s.end);
      }
      if (at < to) hole(at, to, 'the committed offset is beyond the last commit record');
    }

    for (const s of inWindow) {
      view.ranges++;
      view.records += s.record.records;
      for (const g of s.record.gaps) {
        let gs = BigInt(g.start);
        let ge = BigInt(g.end);
        if (window.from !== undefined) gs = max(gs, window.from);
        if (window.to !== undefined) ge = min(ge, window.to);
        if (ge <= gs) continue;
        retention += ge - gs;
        findings.push({
          kind: 'gap',
          partition,
          start: gs.toString(),
          end: ge.toString(),
          cause: g.cause === 'retention' ? 'retention' : 'unknown',
          detail:
            g.cause === 'retention'
              ? `Kafka deleted these offsets before Sluice read them (range ${s.start}-${s.end})`
              : `the range ${s.start}-${s.end} could not read these offsets`,
        });
      }
      const rejected = s.record.rejected;
      if (rejected) {
        view.rejectedRecords += rejected.records;
        const size = input.objects.get(rejected.key);
        if (size === undefined)
          findings.push({ kind: 'missing-object', partition, key: rejected.key, commit: s.key });
        else if (size !== rejected.bytes)
          findings.push({
            kind: 'size-mismatch',
            partition,
            key: rejected.key,
            expected: rejected.bytes,
            actual: size,
            commit: s.key,
          });
      }
      for (const o of s.record.objects) {
        view.objects++;
        view.bytes += o.bytes;
        const size = input.objects.get(o.key);
        if (size === undefined) {
          findings.push({ kind: 'missing-object', partition, key: o.key, commit: s.key });
          continue;
        }
        if (size !== o.bytes) {
          findings.push({
            kind: 'size-mismatch',
            partition,
            key: o.key,
            expected: o.bytes,
            actual: size,
            commit: s.key,
          });
          continue;
        }
        const back = input.readBack?.get(o.key);
        if (!back) continue;
        if (back.error) {
          findings.push({ kind: 'unreadable-object', partition, key: o.key, detail: back.error });
          continue;
        }
        if (back.sha256 !== o.sha256) {
          findings.push({
            kind: 'checksum-mismatch',
            partition,
            key: o.key,
            expected: o.sha256,
            actual: back.sha256,
          });
          continue;
        }
        const differs: string[] = [];
        if (back.records !== null && back.records !== o.records)
          differs.push(`${back.records} records, ${o.records} recorded`);
        if (back.firstOffset !== null && back.firstOffset !== o.firstOffset) {
          differs.push(`first offset ${back.firstOffset}, ${o.firstOffset} recorded`);
        }
        if (back.lastOffset !== null && back.lastOffset !== o.lastOffset) {
          differs.push(`last offset ${back.lastOffset}, ${o.lastOffset} recorded`);
        }
        if (back.strayLines > 0)
          differs.push(`${back.strayLines} lines that are not records of range ${s.start}-${s.end}`);
        if (differs.length > 0)
          findings.push({ kind: 'content-mismatch', partition, key: o.key, detail: differs.join('; ') });
      }
    }

    // The partition state's count of committed records, when the whole partition is in view.
    if (
      state &&
      state.committedRecords !== null &&
      state.startOffset !== null &&
      committed !== null &&
      window.from === undefined &&
      window.to === undefined
    ) {
      const counted = spans
        .filter((s) => s.start >= state.startOffset! && s.end <= committed)
        .reduce((n, s) => n + s.record.records, 0);
      if (counted !== state.committedRecords) {
        findings.push({
          kind: 'count-mismatch',
          partition,
          expected: state.committedRecords,
          actual: counted,
          detail: `ZooKeeper counts ${state.committedRecords} committed records, the commit records below offset ${committed} ${counted}`,
        });
      }
    }
    view.retentionGapOffsets = retention.toString();
    view.unknownGapOffsets = unknown.toString();
    view.abandonedOffsets = given.toString();
    partitions.push(view);
  }

  // Objects nobody accounts for.
  let pendingObjects = 0;
  let markers = 0;
  if (input.complete) {
    const narrowed = window.partition !== undefined || window.from !== undefined || window.to !== undefined;
    for (const [key, size] of [...input.objects].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (!key.startsWith(root)) continue;
      const rel = key.slice(root.length);
      // Probes and the config object (object-key.ts) are Sluice's own, not data.
      if (commitKeys.has(key) || listed.has(key) || isProbeKey(key, root)) continue;
      if (isAbandonedKey(key, root) || abandonedKeys.has(key)) continue;
      if (parseConfigObjectKey(key)?.root === root) continue;
      if (parseSuccessMarkerKey(key)?.root === root) {
        markers++;
        continue;
      }
      // A rejected-records object lies under `_sluice/`; data objects never do (any template).
      const parsed = rel.startsWith('_') ? parseRejectedObjectKey(key) : parseDataObjectName(key);
      if (parsed && (!('root' in parsed) || parsed.root === root)) {
        if (!wantPartition(parsed.partition) || !overlapsWindow(parsed, window.from, window.to)) continue;
        const committed = states.get(parsed.partition)?.committedOffset;
        // A range not committed yet: its commit record may not be written (or listed) yet.
        if (committed === undefined || committed === null || parsed.start >= committed) {
          pendingObjects++;
          continue;
        }
      } else if (narrowed) {
        continue;
      }
      findings.push({ kind: 'extra-object', key, size });
    }
  }

  const counts: Partial<Record<FindingKind, number>> = {};
  for (const f of findings) counts[f.kind] = (counts[f.kind] ?? 0) + 1;
  return {
    topic,
    ok: findings.length === 0,
    problems: findings.length,
    counts,
    partitions,
    findings,
    pendingObjects,
    markers,
    abandoned: abandoned.map(({ here, keys, ...a }) => a),
  };
}

/** One line per finding, for logs and the CLI. */
export function describeFinding(f: Finding): string {
  switch (f.kind) {
    case 'gap':
      return `partition ${f.partition}: gap [${f.start}, ${f.end}) (${f.cause}): ${f.detail}`;
    case 'overlap':
      return `partition ${f.partition}: offsets [${f.start}, ${f.end}) are in two commit records: ${f.commits.join(', ')}`;
    case 'missing-object':
      return `partition ${f.partition}: ${f.key} is listed by ${f.commit} but is not in S3`;
    case 'size-mismatch':
      return `partition ${f.partition}: ${f.key} has ${f.actual} bytes, ${f.expected} recorded`;
    case 'checksum-mismatch':
      return `partition ${f.partition}: ${f.key} has SHA-256 ${f.actual}, ${f.expected} recorded`;
    case 'content-mismatch':
      return `partition ${f.partition}: ${f.key}: ${f.detail}`;
    case 'unreadable-object':
      return `partition ${f.partition}: ${f.key} could not be read back: ${f.detail}`;
    case 'extra-object':
      return `${f.key} (${f.size} bytes) is not listed by any commit record`;
    case 'bad-commit-record':
      return `${f.key}: ${f.detail}`;
    case 'count-mismatch':
      return `partition ${f.partition}: ${f.detail}`;
  }
}
