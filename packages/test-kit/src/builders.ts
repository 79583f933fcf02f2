/**
 * Builders for the records tests put into ZooKeeper by hand: a topic's record, a partition's
 * state, a range's commit record (its `result`) and a worker's registration. Each gives a
 * valid record with plain values and takes the fields a test cares about as overrides, so that
 * a change of a record's shape is made here once rather than in every test file. Range records themselves are built
 * by the rulebook's range-creation function of `@sluice/shared`.
 */
import {
  type PartitionState,
  type RangeResult,
  TOPIC_DEFAULTS,
  type TopicRecord,
  type WorkerRegistration,
} from '@sluice/shared';

/** An active topic record to bucket `bucket-a`, prefix `raw`, with small ranges and a short flush. */
export function topicRecord(topic: string, over: Partial<TopicRecord> = {}): TopicRecord {
  const now = new Date().toISOString();
  return {
    ...TOPIC_DEFAULTS,
    topic,
    destination: { bucket: 'bucket-a', prefix: 'raw' },
    maxRangeMessages: 100,
    flushIntervalMs: 100,
    topicId: 'id-1',
    paused: false,
    state: 'active',
    error: null,
    createdAt: now,
    updatedAt: now,
    ...over,
  };
}

/** A partition's state with nothing committed below `committedOffset` (default 0) but the offset itself. */
export function partitionState(over: Partial<PartitionState> = {}): PartitionState {
  return {
    v: 1,
    committedOffset: '0',
    committedRecords: 0,
    committedBytes: 0,
    committedRanges: 0,
    gapOffsets: '0',
    bytesPerOffset: 0,
    committedMaxTimestamp: null,
    updatedAt: new Date().toISOString(),
    ...over,
  };
}

/** The commit record a worker writes for a done range: `records` records of `rawBytes` bytes by worker `w1`. */
export function rangeResult(records: number, rawBytes: number, over: Partial<RangeResult> = {}): RangeResult {
  return {
    attempt: 1,
    worker: 'w1',
    records,
    rawBytes,
    objectBytes: Math.floor(rawBytes / 10),
    objects: [],
    minTimestamp: 1_000,
    maxTimestamp: 2_000 + records,
    gaps: [],
    eventTimeFallbacks: 0,
    tombstones: 0,
    binaryValues: 0,
    completedAt: new Date().toISOString(),
    ...over,
  };
}

/** A worker's registration (its ephemeral node's content), registered at `startedAt`. */
export function workerRegistration(id: string, startedAt: string): WorkerRegistration {
  return { v: 1, id, host: 'h', pid: 1, version: 'x', concurrency: 1, httpAddress: null, startedAt };
}
