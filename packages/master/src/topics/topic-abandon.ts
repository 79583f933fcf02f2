/**
 * `DELETE /api/v1/topics/{topic}?force=true` (issue 15: every stuck topic has a way out). A
 * plain DELETE waits for the topic's ranges in flight, which never end while the destination
 * is gone. A forced one has the leader give them up instead, and say so (invariant 11: every
 * offset is accounted for, abandoned ones included):
 *
 *  1. read every range node of the topic; the ones not `done` are abandoned;
 *  2. write the {@link AbandonedRecord} to ZooKeeper under `/sluice/abandoned/{topic}/` (outside
 *     the topic's node, so it outlives the deletion), then, best effort, beside the commit
 *     records in S3 (`_sluice/abandoned/`), where an audit that has only the bucket finds it;
 *  3. remove the BullMQ jobs of the abandoned attempts;
 *  4. remove every range node (fenced, at the versions read). Done ranges lose only their
 *     node: their commit records stay in S3.
 *
 * The record's name comes from the deletion request (`forcedAt`), so a leader that dies
 * between the steps and its successor write the same record again, not a second one. A range
 * that changes between steps 1 and 4 (a worker completing it) makes step 4 fail; the next pass
 * starts again from step 1 and rewrites the record as it then is.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  type AbandonedRecord,
  abandonedPath,
  abandonedRecordKey,
  abandonedTopicPath,
  decodeJson,
  encodeJson,
  errorText,
  isNodeExists,
  type Logger,
  putJson,
  type TopicRecord,
  type ZkOp,
} from '@sluice/shared';
import type { FencedWriter } from '../leadership/fenced-writer.ts';
import { type LineRange, readLine } from '../ranges/range-engine.ts';
import type { RangeEnqueuer } from '../ranges/range-enqueuer.ts';
import { lineJobId, lineRangePath, topicLine } from '../ranges/range-line.ts';

/** Most ops in one multi (ZooKeeper limits a request to about 1 MB). */
const REMOVE_BATCH = 500;

/** How long the S3 copy of the record may take: the destination is often the reason for the force. */
const S3_COPY_TIMEOUT_MS = 10_000;

export interface AbandonOptions {
  writer: FencedWriter;
  enqueuer: RangeEnqueuer;
  log: Logger;
  /** For the copy of the record in S3; none: ZooKeeper only. */
  s3?: S3Client;
  conditionalWrites?: boolean;
}

/** The record's name: the deletion request's time, sortable, ZooKeeper- and S3-safe. */
export function abandonedName(record: Pick<TopicRecord, 'forcedAt' | 'updatedAt' | 'topicId'>): string {
  const at = (record.forcedAt ?? record.updatedAt).replace(/[-:.]/g, '');
  return `${at}-${record.topicId.slice(0, 8)}`;
}

/** Pure: the record of what is abandoned, from the ranges as read. */
export function abandonedRecordOf(
  topic: TopicRecord,
  ranges: readonly LineRange[],
  nowIso: string,
): AbandonedRecord {
  const open = ranges
    .filter((r) => r.record.state !== 'done')
    .sort(
      (a, b) => a.line.partition - b.line.partition || (a.start < b.start ? -1 : a.start > b.start ? 1 : 0),
    );
  return {
    v: 1,
    topic: topic.topic,
    topicId: topic.topicId,
    destination: { ...topic.destination },
    abandonedAt: nowIso,
    reason: `the operator deleted the topic with force=true (requested ${topic.forcedAt ?? topic.updatedAt}) while these ranges were unfinished`,
    ranges: open.map((r) => ({
      partition: r.record.partition,
      start: r.record.start,
      end: r.record.end,
      state: r.record.state,
      attempt: r.record.attempt,
      error: r.record.error,
      keys: [...r.record.keys],
    })),
  };
}

/**
 * Steps 1-4 above for the partitions `partitions` of `topic`. Returns the record written, or
 * null when nothing was in flight (nothing written).
 */
export async function abandonRanges(
  o: AbandonOptions,
  topic: TopicRecord,
  partitions: readonly number[],
): Promise<AbandonedRecord | null> {
  const zk = o.writer.zk;
  const ranges: LineRange[] = [];
  for (const p of partitions) ranges.push(...(await readLine(zk, topicLine(topic.topic, p))));
  if (ranges.length === 0) return null;
  const record = abandonedRecordOf(topic, ranges, new Date().toISOString());
  const name = abandonedName(topic);
  const log = o.log.child({ topic: topic.topic });

  if (record.ranges.length > 0) {
    await zk.mkdirp(abandonedTopicPath(topic.topic));
    const path = abandonedPath(topic.topic, name);
    try {
      await zk.create(path, encodeJson(record));
    } catch (err) {
      if (!isNodeExists(err)) throw err;
      // An earlier pass of this deletion wrote it and may have removed some ranges already.
      const earlier = await zk.get(path);
      const before = earlier ? decodeJson<AbandonedRecord>(earlier.data, path).ranges : [];
      const seen = new Set(record.ranges.map((r) => `${r.partition}-${r.start}`));
      record.ranges.unshift(...before.filter((r) => !seen.has(`${r.partition}-${r.start}`)));
      record.ranges.sort((a, b) => a.partition - b.partition || Number(BigInt(a.start) - BigInt(b.start)));
      await zk.set(path, encodeJson(record), -1);
    }
    if (o.s3) {
      const { bucket, prefix } = topic.destination;
      const key = abandonedRecordKey(prefix, topic.topic, name);
      try {
        await putJson(o.s3, bucket, key, record, {
          create: false,
          conditionalWrites: o.conditionalWrites ?? false,
          signal: AbortSignal.timeout(S3_COPY_TIMEOUT_MS),
        });
      } catch (err) {
        log.warn(
          { bucket, key, err: errorText(err) },
          'abandoned ranges recorded in ZooKeeper only: the destination took no copy',
        );
      }
    }
    for (const r of ranges) {
      if (r.record.state !== 'done') await o.enqueuer.removeSuperseded(lineJobId(r.line, r.record));
    }
  }

  for (let i = 0; i < ranges.length; i += REMOVE_BATCH) {
    await o.writer.multi(
      ranges
        .slice(i, i + REMOVE_BATCH)
        .map((r): ZkOp => ({ op: 'remove', path: lineRangePath(r.line, r), version: r.version })),
    );
  }
  if (record.ranges.length === 0) return record;
  log.warn(
    {
      abandoned: record.ranges.map((r) => `${r.partition}:[${r.start},${r.end})`),
      record: abandonedPath(topic.topic, name),
    },
    'forced deletion abandoned unfinished ranges',
  );
  return record;
}
