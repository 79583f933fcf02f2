/**
 * The records Sluice keeps in ZooKeeper and S3, as JSON. Offsets are decimal strings.
 * Each carries `v` so that a newer Sluice can read an older one's records, and an older one
 * refuses a newer one's (layout-version.ts).
 */
import { checkRecordVersion } from './layout-version.ts';
import type { OutputSpec } from './topic-config.ts';

export type RangeState = 'planned' | 'active' | 'done' | 'failed';

/** Offsets a range could not read because Kafka had already deleted them. */
export interface Gap {
  start: string;
  end: string;
  cause: 'retention' | 'unknown';
}

/** One data object of a range, as listed in its commit record. */
export interface ObjectEntry {
  key: string;
  /** Records in the object. */
  records: number;
  /** Object size in S3 (compressed bytes). */
  bytes: number;
  /** Uncompressed size of the encoded records. */
  rawBytes: number;
  /** Hex SHA-256 of the object's bytes as stored. */
  sha256: string;
  firstOffset: string;
  lastOffset: string;
  /** Kafka timestamps (ms) of the object's records; null for an object with no records. */
  minTimestamp: number | null;
  maxTimestamp: number | null;
}

/** What an attempt wrote. Stored in the range's ZooKeeper node and as its S3 commit record. */
export interface RangeResult {
  attempt: number;
  worker: string;
  /** Records written (tombstones included; aborted and control records never). */
  records: number;
  /** Uncompressed bytes encoded. */
  rawBytes: number;
  /** Bytes stored in S3 over all objects. */
  objectBytes: number;
  objects: ObjectEntry[];
  minTimestamp: number | null;
  maxTimestamp: number | null;
  gaps: Gap[];
  /** Records whose event-time field was missing or unparseable (bucketed by Kafka time instead). */
  eventTimeFallbacks: number;
  /**
   * With a key template's field folders only: field values that were missing, empty, not a
   * string, number or boolean, or too long, whose records went to a `…=__null__/` folder.
   */
  fieldFallbacks?: number;
  tombstones: number;
  /** Values in `jsonl` that were not UTF-8 and were written as base64. */
  binaryValues: number;
  /**
   * Records the output format could not take (a Parquet value that does not fit its schema),
   * written to the range's rejected-records object instead of a data object; not in `records`.
   * Absent when there were none (and in results written before it existed).
   */
  rejected?: RejectedEntry;
  completedAt: string;
}

/** A range's rejected-records object (object-key.ts `rejectedObjectKey`). */
export interface RejectedEntry {
  key: string;
  records: number;
  /** Object size in S3. */
  bytes: number;
  sha256: string;
  firstOffset: string;
  lastOffset: string;
}

/** One range a forced DELETE gave up: its offsets have no commit record (invariant 11). */
export interface AbandonedRange {
  partition: number;
  /** `[start, end)`: the range's offsets. */
  start: string;
  end: string;
  /** The range's state when abandoned (`planned`, `active` or `failed`) and its attempt. */
  state: RangeState;
  attempt: number;
  /** The last error of the range, if any: why it had not finished. */
  error: string | null;
  /** Data keys its attempts recorded: objects that may exist without a commit record. */
  keys: string[];
}

/**
 * What `DELETE /api/v1/topics/{topic}?force=true` abandoned, written by the leader before it
 * removes the ranges: in ZooKeeper (`abandonedPath`, outlives the topic's node) and, when the
 * destination takes it, in S3 (`abandonedRecordKey`). The audit reads both.
 */
export interface AbandonedRecord {
  v: 1;
  topic: string;
  topicId: string;
  /** The topic's destination when it was deleted. */
  destination: { bucket: string; prefix: string };
  abandonedAt: string;
  /** Why, in words: the operator's forced deletion. */
  reason: string;
  /** Every range that was not done, in partition and offset order. */
  ranges: AbandonedRange[];
}

/** The S3 commit record (manifest): written after the range's data objects, never rewritten. */
export interface CommitRecord extends RangeResult {
  v: 1;
  topic: string;
  topicId: string;
  partition: number;
  start: string;
  end: string;
  output: OutputSpec;
}

/** A range while it is in flight: `/sluice/topics/{t}/partitions/{p}/{s20}-{e20}`. */
export interface RangeRecord {
  v: 1;
  topic: string;
  topicId: string;
  partition: number;
  start: string;
  end: string;
  /** Current attempt; 1 when planned, +1 at every requeue. */
  attempt: number;
  state: RangeState;
  output: OutputSpec;
  plannedAt: string;
  updatedAt: string;
  /** Worker of the current attempt once it started. */
  worker: string | null;
  startedAt: string | null;
  /** Last time the current attempt showed progress (stall detection). */
  progressAt: string | null;
  /** Next offset the current attempt will read. */
  progressOffset: string | null;
  /**
   * Every data object key any attempt started, recorded before its upload began
   * (invariant 4): a later attempt removes what an earlier one left and it does not write again.
   */
  keys: string[];
  /** Failed attempts so far. */
  failures: number;
  /** Last error, for the operator. */
  error: string | null;
  /**
   * True while the range is `failed` by its worker's own fault (credentials, an unreachable
   * endpoint: attempt-fault.ts): `failures` did not grow and the leader requeues it at once.
   * Absent otherwise.
   */
  workerFault?: boolean;
  /** Why the current attempt exists when it is a requeue (`worker-lost`, `stalled`, `failed`, `worker-fault`, `operator`, `queue-lost`, `destination-changed`). */
  requeueReason: string | null;
  result: RangeResult | null;
}

/**
 * `/sluice/retries/{rangeId}`: an operator's retry request, written by any master and removed
 * by the leader once handled. `attempt` is the attempt it retries (absent in requests of older
 * releases): the leader acts only while the range is still at it.
 */
export interface RetryRequest {
  v: 1;
  rangeId: string;
  requestedAt: string;
  attempt?: number;
}

/** `/sluice/topics/{t}/partitions/{p}`: written only by the leader, fenced. */
export interface PartitionState {
  v: 1;
  /** First offset not yet in S3: the end of the contiguous run of done ranges. Only moves forward. */
  committedOffset: string;
  /** Totals over committed ranges. */
  committedRecords: number;
  committedBytes: number;
  committedRanges: number;
  /**
   * Records of committed ranges bucketed by Kafka time because their event-time field was
   * missing or did not parse (the sum of their commit records' `eventTimeFallbacks`). Absent
   * in states written before it was counted: read as 0.
   */
  eventTimeFallbacks?: number;
  /**
   * Records of committed ranges in their rejected-records objects (the output format could not
   * take them). Absent until the partition's first: read as 0.
   */
  rejectedRecords?: number;
  /** Offsets lost to retention before Sluice could read them. */
  gapOffsets: string;
  /** Average encoded bytes per offset of committed ranges (planner's size estimate), 0 when unknown. */
  bytesPerOffset: number;
  /** Newest record timestamp committed (ms), for time lag. */
  committedMaxTimestamp: number | null;
  updatedAt: string;
  /**
   * Where the partition started (its committed offset when the state was created): the
   * commit records of the partition tile [startOffset, committedOffset). Absent in states
   * written before it existed; the audit then starts at the first commit record.
   */
  startOffset?: string;
}

/**
 * `/sluice/topics/{t}/verify/{name}`: a retry of a done range (`SLUICE_VERIFY_ON_RETRY`)
 * re-read it and found it differs from its commit record. Written by the worker; the
 * committed objects stand (invariant 4), this is for the operator.
 */
export interface VerifyMismatch {
  v: 1;
  topic: string;
  partition: number;
  start: string;
  end: string;
  /** The replay the range belongs to, if any. */
  replay: string | null;
  worker: string;
  checkedAt: string;
  /**
   * `retention`: Kafka deleted or compacted records of the range since it was written, so
   * the re-read has less (expected, not a Sluice fault). `nondeterministic`: the same records
   * gave other bytes or names (a bug, or a changed encoder).
   */
  cause: 'retention' | 'nondeterministic';
  /** What differs, at most 20 lines. */
  differences: string[];
}

/** `/sluice/workers/{id}`: ephemeral while the worker lives. */
export interface WorkerRegistration {
  v: 1;
  id: string;
  host: string;
  pid: number;
  version: string;
  concurrency: number;
  httpAddress: string | null;
  startedAt: string;
  /**
   * False while the worker takes no jobs because its own attempts failed (its credentials, an
   * endpoint it cannot reach) and its probe has not passed yet. Absent in registrations of
   * releases before it: ready.
   */
  ready?: boolean;
  /** Why it is not ready; null or absent when ready. */
  notReadyReason?: string | null;
}

/** `/sluice/leader` and election candidates. */
export interface LeaderRecord {
  v: 1;
  id: string;
  host: string;
  httpAddress: string;
  since: string;
}

export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** Parses a stored record; one of a newer record version is refused (`SLUICE_ERR_NEWER_LAYOUT`). */
export function decodeJson<T>(data: Buffer | null | undefined, what: string): T {
  if (!data || data.length === 0) throw new Error(`${what} has no data`);
  const value: unknown = JSON.parse(data.toString('utf8'));
  checkRecordVersion(value, what);
  return value as T;
}
