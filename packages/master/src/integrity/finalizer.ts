/**
 * Pure: when an hour (or day) folder of a time-partitioned topic is complete, and what its
 * `_SUCCESS` marker says. The I/O is finalizer-loop.ts.
 *
 * Completeness. Every partition's progress is measured in Kafka time (record timestamps,
 * what commit records and partition states carry): a partition has passed time `T` once its
 * committed records reach a timestamp of `T + finalizeLatenessMs`, or once it is idle (its
 * committed offset is its last stable offset: nothing more to read) and the clock is past
 * `T + finalizeLatenessMs`. The topic's watermark is the least of its partitions'; a folder
 * whose time span ends at or before the watermark is complete. For `kafka-time` the records
 * of a folder are exactly those with Kafka timestamps in its span, so the lateness allowance
 * covers producers' clocks and batching; for `event-time` it also bounds how far event time
 * may trail Kafka time.
 *
 * Counting. Objects and records of a folder come from the commit records below each
 * partition's committed offset, each read once (a cursor per partition): a folder still open gathers them in `pending`; finalizing writes
 * them into the marker. A commit record seen after its folder was finalized brings late data.
 *
 * Late data (policy). Records that arrive for a folder already finalized are written into
 * that folder like any other (their place is a pure function of the record, invariant 3),
 * counted as late (state, status, `sluice_late_records_total`), and the folder's marker is
 * rewritten with the new counts; each late commit record is named in the marker, so counting
 * is idempotent across leader changes. A job that already ran on the folder must rerun to
 * see them; the marker's `updatedAt` and `lateRecords` tell it.
 */
import {
  type Granularity,
  parseCommitRecordKey,
  type TimeStyle,
  timeFolder,
  timeUnitOfFolder,
} from '@sluice/shared';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** Folders finalized in one pass at most (a topic registered long ago catches up over passes). */
export const MAX_UNITS_PER_PASS = 200;
/** Late commit records a marker names at most; beyond, late counting is no longer idempotent. */
export const MAX_LATE_COMMITS = 1_000;

export function unitMs(g: Granularity): number {
  return g === 'hour' ? HOUR_MS : DAY_MS;
}

export interface PartitionProgress {
  partition: number;
  /** Newest Kafka timestamp committed; null when nothing was. */
  committedMaxTimestamp: number | null;
  /** Committed up to the last stable offset: nothing left to read. */
  idle: boolean;
}

/**
 * The time up to which every partition is complete (ms), or null while one partition has
 * neither committed a record nor is idle (or there are no partitions).
 */
export function watermark(
  parts: readonly PartitionProgress[],
  nowMs: number,
  latenessMs: number,
): number | null {
  if (parts.length === 0) return null;
  let w = Number.POSITIVE_INFINITY;
  for (const p of parts) {
    // Idle: the clock, not a committed timestamp a producer may have set ahead of it.
    const reach = p.idle ? nowMs : p.committedMaxTimestamp;
    if (reach === null) return null;
    if (reach < w) w = reach;
  }
  return w - latenessMs;
}

export interface Counts {
  objects: number;
  records: number;
}

/** `/sluice/topics/{t}/finalizer`: written by the leader only, fenced. */
export interface FinalizerState {
  v: 1;
  /** The topic folder (`{prefix}/{topic}/`) and granularity this state is about; others start afresh. */
  root: string;
  granularity: Granularity;
  /** Start (ms) of the newest folder finalized; every folder before it is finalized too. */
  newestFinalized: number | null;
  /** Per partition: the last commit record counted. */
  cursor: Record<string, string>;
  /** Folders not yet finalized, by start (ms): what their commit records hold so far. */
  pending: Record<string, Counts>;
  /** Late data so far: records and objects written into finalized folders. */
  lateRecords: number;
  lateObjects: number;
  finalizedAt: string | null;
  updatedAt: string;
}

export function emptyState(root: string, g: Granularity, nowIso: string): FinalizerState {
  return {
    v: 1,
    root,
    granularity: g,
    newestFinalized: null,
    cursor: {},
    pending: {},
    lateRecords: 0,
    lateObjects: 0,
    finalizedAt: null,
    updatedAt: nowIso,
  };
}

export interface CommitObjects {
  /** The commit record's key. */
  key: string;
  objects: ReadonlyArray<{ key: string; records: number }>;
}

/** Late data of one commit record in one finalized folder. */
export interface Late extends Counts {
  unit: number;
  commit: string;
}

/**
 * Counts new commit records into the state: objects of open folders into `pending`, objects
 * of finalized folders into `late`. Objects outside time folders of the state's granularity
 * (written before a change of `partitionBy`) are left out. Does not move the cursor.
 */
export function absorb(
  state: FinalizerState,
  commits: readonly CommitObjects[],
): { state: FinalizerState; late: Late[] } {
  const pending: Record<string, Counts> = {};
  for (const [k, v] of Object.entries(state.pending)) pending[k] = { ...v };
  const late = new Map<string, Late>();
  let lateRecords = state.lateRecords;
  let lateObjects = state.lateObjects;
  for (const c of commits) {
    for (const o of c.objects) {
      if (!o.key.startsWith(state.root)) continue;
      const rel = o.key.slice(state.root.length);
      // Any time style (a template change applies to later ranges), field folders inside it.
      const unit = timeUnitOfFolder(rel.slice(0, rel.lastIndexOf('/') + 1), state.granularity);
      if (unit === null) continue;
      if (state.newestFinalized !== null && unit <= state.newestFinalized) {
        const id = `${unit} ${c.key}`;
        const l = late.get(id) ?? { unit, commit: c.key, objects: 0, records: 0 };
        l.objects++;
        l.records += o.records;
        late.set(id, l);
        lateObjects++;
        lateRecords += o.records;
      } else {
        const p = pending[String(unit)] ?? { objects: 0, records: 0 };
        p.objects++;
        p.records += o.records;
        pending[String(unit)] = p;
      }
    }
  }
  return { state: { ...state, pending, lateRecords, lateObjects }, late: [...late.values()] };
}

/**
 * Folders due for finalizing, oldest first: those whose span ends at or before the watermark
 * and that are newer than the newest finalized: folders with data, and every folder (empty
 * ones too) from the later of the newest finalized and `floorMs` (the topic's registration:
 * empty folders from before it are not made).
 */
export function dueUnits(
  state: FinalizerState,
  watermarkMs: number | null,
  floorMs: number,
  max = MAX_UNITS_PER_PASS,
): number[] {
  if (watermarkMs === null) return [];
  const len = unitMs(state.granularity);
  const due = new Set<number>();
  const newer = (u: number) => state.newestFinalized === null || u > state.newestFinalized;
  for (const k of Object.keys(state.pending)) {
    const u = Number(k);
    if (u + len <= watermarkMs && newer(u)) due.add(u);
  }
  const floor = Math.floor(floorMs / len) * len;
  let u = state.newestFinalized === null ? floor : Math.max(state.newestFinalized + len, floor);
  for (; u + len <= watermarkMs && due.size < max * 2; u += len) due.add(u);
  return [...due].sort((a, b) => a - b).slice(0, max);
}

/**
 * The commit records a pass may count for one partition: `keys` (listed in key order, that is
 * by start offset) up to the first that ends beyond the partition's committed offset. Records
 * above it belong to ranges done but not committed, which finish in any order: counting one
 * and moving the cursor past it would hide a lower record written later, and the folder it
 * fills would be finalized without it. Below the committed offset every record exists (a range
 * is committed only after its commit record is written), so none can appear behind the cursor.
 */
export function committedCommitKeys(keys: readonly string[], committed: bigint): string[] {
  const out: string[] = [];
  for (const key of keys) {
    const k = parseCommitRecordKey(key);
    if (!k) continue;
    if (k.end > committed) break;
    out.push(key);
  }
  return out;
}

/** The state once `units` (in order) are finalized. */
export function afterFinalizing(
  state: FinalizerState,
  units: readonly number[],
  nowIso: string,
): FinalizerState {
  if (units.length === 0) return state;
  const pending = { ...state.pending };
  for (const u of units) delete pending[String(u)];
  // Due units are finalized oldest first and every pending folder left is newer (it ends
  // after the watermark, or was beyond the pass's cap), so "every folder up to the newest
  // finalized is finalized" holds.
  const newest = Math.max(state.newestFinalized ?? Number.NEGATIVE_INFINITY, ...units);
  return { ...state, pending, newestFinalized: newest, finalizedAt: nowIso };
}

/** The content of `{folder}_SUCCESS`. */
export interface SuccessMarker {
  v: 1;
  topic: string;
  folder: string;
  /** The folder's span, [start, end). */
  start: string;
  end: string;
  finalizedAt: string;
  updatedAt: string;
  objects: number;
  records: number;
  lateObjects: number;
  lateRecords: number;
  /** Commit records that brought late data (idempotent late counting). */
  lateCommits: string[];
}

export function successMarker(
  topic: string,
  g: Granularity,
  unit: number,
  counts: Counts,
  nowIso: string,
  style: TimeStyle = 'hive-dt-hr',
): SuccessMarker {
  return {
    v: 1,
    topic,
    folder: timeFolder(g, unit, style),
    start: new Date(unit).toISOString(),
    end: new Date(unit + unitMs(g)).toISOString(),
    finalizedAt: nowIso,
    updatedAt: nowIso,
    objects: counts.objects,
    records: counts.records,
    lateObjects: 0,
    lateRecords: 0,
    lateCommits: [],
  };
}

/** The marker with one late commit record's data added, or null when it is counted already. */
export function withLate(m: SuccessMarker, late: Late, nowIso: string): SuccessMarker | null {
  if (m.lateCommits.includes(late.commit)) return null;
  return {
    ...m,
    updatedAt: nowIso,
    objects: m.objects + late.objects,
    records: m.records + late.records,
    lateObjects: m.lateObjects + late.objects,
    lateRecords: m.lateRecords + late.records,
    lateCommits: m.lateCommits.length < MAX_LATE_COMMITS ? [...m.lateCommits, late.commit] : m.lateCommits,
  };
}
