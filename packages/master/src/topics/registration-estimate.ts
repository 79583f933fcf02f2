/**
 * Pure: what registering a topic would do (`POST /api/v1/topics?dryRun=true`), from its
 * partitions' offsets and a small sample of records at the start of each partition.
 *
 * How it estimates, said in the answer too:
 *  - backlog records: the offsets between where each partition would start (`startFrom`) and
 *    its last stable offset; compaction and transaction markers make the true count lower;
 *  - bytes: the encoded size before compression (the `jsonl` or `raw` line of each record,
 *    approximated from its key, value and header sizes), averaged over the sampled records,
 *    times the backlog; compression typically makes JSON 5 to 10 times smaller;
 *  - ranges: the planner's full range (`maxRangeMessages`, lowered by `maxRangeBytes` with the
 *    estimated size), the remainder being one more;
 *  - objects: one per range, plus one per time-folder boundary the backlog crosses (a range
 *    that spans two hours writes two objects), from the Kafka timestamps of the first and last
 *    records of each partition (event time is assumed to follow Kafka time);
 *  - first keys: each partition's first object, in the folder of its first record.
 */
import {
  bucketFolder,
  dataObjectKey,
  FieldFolders,
  type Granularity,
  keyLayoutOf,
  outputSpecOf,
  type TopicConfig,
} from '@sluice/shared';
import type { SampledRecord } from '../kafka/kafka-sample.ts';
import { fullRangeOffsets } from '../ranges/planner.ts';
import { eventTimeOf } from './event-time-sample.ts';

/** A sampled value's JSON, or undefined when it is none (its field folders fall back). */
function jsonOf(value: Buffer | null): unknown {
  if (!value) return undefined;
  try {
    return JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
}

export interface PartitionFacts {
  partition: number;
  earliest: bigint;
  lastStable: bigint;
  /** Where the partition starts when not per `startFrom` (it resumes after commit records: topic-resume.ts). */
  start?: bigint;
  /** Records from where the partition would start. */
  sample: readonly SampledRecord[];
  /** Kafka timestamp of the last record before the last stable offset, if read. */
  lastTimestamp: number | null;
}

export interface PartitionEstimate {
  partition: number;
  startOffset: string;
  endOffset: string;
  backlogRecords: string;
  backlogBytes: number | null;
  ranges: number;
  objects: number;
  firstKey: string | null;
}

export interface RegistrationEstimate {
  partitions: PartitionEstimate[];
  backlog: { records: string; bytes: number | null };
  output: {
    ranges: number;
    objects: number;
    typicalObjectBytes: number | null;
    typicalObjectRecords: number | null;
    firstKeys: string[];
  };
  estimate: {
    sampledRecords: number;
    bytesPerRecord: number | null;
    method: string;
  };
}

/** Most first keys listed. */
const FIRST_KEYS = 10;

function digits(n: bigint): number {
  return n.toString().length;
}

/** About the encoded size of one record (the line written, before compression). */
export function encodedBytes(r: SampledRecord, format: TopicConfig['format'], topic: string): number {
  if (format === 'raw') return r.valueBytes + 1;
  // {"topic":"…","partition":N,"offset":N,"timestamp":N,"key":"…","headers":[{"key":"…","value":"…"}],"value":…}\n
  return (
    60 +
    topic.length +
    digits(r.offset) +
    13 +
    Math.ceil(r.keyBytes * 1.05) +
    r.headers * 22 +
    Math.ceil(r.headerBytes * 1.05) +
    (r.valueBytes === 0 ? 4 : r.valueBytes + 2)
  );
}

function unitMsOf(g: Granularity): number {
  return g === 'hour' ? 3_600_000 : 86_400_000;
}

export function estimateRegistration(
  cfg: TopicConfig,
  facts: readonly PartitionFacts[],
): RegistrationEstimate {
  const spec = outputSpecOf(cfg);
  let sampled = 0;
  let sampledBytes = 0;
  for (const f of facts) {
    for (const r of f.sample) {
      sampled++;
      sampledBytes += encodedBytes(r, cfg.format, cfg.topic);
    }
  }
  const bytesPerRecord = sampled > 0 ? sampledBytes / sampled : null;
  const rangeOffsets = fullRangeOffsets(cfg, bytesPerRecord ?? 0);
  const partitions: PartitionEstimate[] = [];
  for (const f of [...facts].sort((a, b) => a.partition - b.partition)) {
    const start = f.start ?? (cfg.startFrom === 'latest' ? f.lastStable : f.earliest);
    const backlog = f.lastStable > start ? f.lastStable - start : 0n;
    const ranges = Number((backlog + rangeOffsets - 1n) / rangeOffsets);
    let objects = ranges;
    const first = f.sample[0];
    if (cfg.partitionBy.kind !== 'none' && first && f.lastTimestamp !== null && ranges > 0) {
      const unit = unitMsOf(cfg.partitionBy.granularity);
      const crossed = Math.floor(f.lastTimestamp / unit) - Math.floor(first.timestamp / unit);
      if (crossed > 0) objects += crossed;
    }
    let firstKey: string | null = null;
    if (first && backlog > 0n) {
      const t =
        cfg.partitionBy.kind === 'event-time'
          ? (eventTimeOf(first.value, cfg.partitionBy) ?? first.timestamp)
          : first.timestamp;
      const end = start + (backlog < rangeOffsets ? backlog : rangeOffsets);
      try {
        const layout = keyLayoutOf(cfg);
        firstKey = dataObjectKey(
          spec,
          { topic: cfg.topic, partition: f.partition, start, end },
          bucketFolder(cfg.partitionBy, t, layout.time) +
            new FieldFolders(layout).folderOf(jsonOf(first.value)),
        );
      } catch {
        firstKey = null; // a timestamp outside the years 0000-9999
      }
    }
    partitions.push({
      partition: f.partition,
      startOffset: start.toString(),
      endOffset: f.lastStable.toString(),
      backlogRecords: backlog.toString(),
      backlogBytes:
        bytesPerRecord === null ? (backlog === 0n ? 0 : null) : Math.round(Number(backlog) * bytesPerRecord),
      ranges,
      objects,
      firstKey,
    });
  }
  const records = partitions.reduce((n, p) => n + BigInt(p.backlogRecords), 0n);
  const bytes = partitions.some((p) => p.backlogBytes === null)
    ? null
    : partitions.reduce((n, p) => n + (p.backlogBytes ?? 0), 0);
  const ranges = partitions.reduce((n, p) => n + p.ranges, 0);
  const objects = partitions.reduce((n, p) => n + p.objects, 0);
  return {
    partitions,
    backlog: { records: records.toString(), bytes },
    output: {
      ranges,
      objects,
      typicalObjectBytes: bytes === null || objects === 0 ? null : Math.round(bytes / objects),
      typicalObjectRecords: objects === 0 ? null : Math.round(Number(records) / objects),
      firstKeys: partitions
        .map((p) => p.firstKey)
        .filter((k): k is string => k !== null)
        .slice(0, FIRST_KEYS),
    },
    estimate: {
      sampledRecords: sampled,
      bytesPerRecord: bytesPerRecord === null ? null : Math.round(bytesPerRecord),
      method:
        'records: offsets from where each partition would start to its last stable offset (compaction and transaction markers make fewer); bytes: encoded size before compression, averaged over records sampled at the start of each partition; objects: one per range plus one per hour or day boundary crossed, from Kafka timestamps',
    },
  };
}
