/**
 * Kafka layer, list-offsets: ListOffsets for some partitions of one topic at one timestamp,
 * one request per leader. The admin reads offsets with it (earliest, last stable, high
 * watermark), the range reader the log start offset after OFFSET_OUT_OF_RANGE
 * ({@link kafkaLogStartOffset}).
 */
import type { listOffsetsV9 } from '@platformatic/kafka';
import { kafkaCall } from './call.ts';
import { KafkaErrorCodes } from './errors.ts';
import { FetchIsolationLevels, ListOffsetTimestamps } from './library.ts';
import { type ClusterView, kafkaMetadata, type LeaderRoute, partitionLeader } from './metadata.ts';
import type { KafkaClient } from './options.ts';

export interface ListedOffset {
  partition: number;
  errorCode: number;
  offset: bigint;
}

/**
 * ListOffsets for some partitions of one topic at one timestamp (-2 earliest, -1 latest),
 * one request per leader, in parallel. Partitions whose leader is unknown come back with
 * LEADER_NOT_AVAILABLE. Per-partition error codes are returned, not thrown.
 */
export async function kafkaListOffsets(
  client: KafkaClient,
  view: ClusterView,
  topic: string,
  partitions: number[],
  timestamp: bigint,
  isolationLevel: number,
): Promise<ListedOffset[]> {
  const t = view.topics.get(topic);
  const byLeader = new Map<LeaderRoute['broker'], listOffsetsV9.ListOffsetsRequestPartition[]>();
  const out: ListedOffset[] = [];
  for (const partition of partitions) {
    if (!t || t.errorCode === KafkaErrorCodes.UNKNOWN_TOPIC_OR_PARTITION || !t.partitions[partition]) {
      out.push({ partition, errorCode: KafkaErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, offset: -1n });
      continue;
    }
    const leader = partitionLeader(view, topic, partition);
    if (!leader) {
      out.push({ partition, errorCode: KafkaErrorCodes.LEADER_NOT_AVAILABLE, offset: -1n });
      continue;
    }
    const list = byLeader.get(leader.broker) ?? [];
    list.push({ partitionIndex: partition, currentLeaderEpoch: leader.leaderEpoch, timestamp });
    byLeader.set(leader.broker, list);
  }
  const answers = await Promise.all(
    [...byLeader].map(([broker, parts]) =>
      kafkaCall<listOffsetsV9.ListOffsetsResponse>(client, broker, 'ListOffsets', () => [
        -1,
        isolationLevel,
        [{ name: topic, partitions: parts }],
      ]),
    ),
  );
  for (const { response } of answers) {
    for (const rt of response.topics) {
      for (const rp of rt.partitions) {
        out.push({ partition: rp.partitionIndex, errorCode: rp.errorCode, offset: rp.offset });
      }
    }
  }
  return out;
}

/**
 * The log start offset of one partition (fresh metadata, then ListOffsets at the earliest
 * time), or null when Kafka answers with an error code. Rejects when no broker answered.
 */
export async function kafkaLogStartOffset(
  client: KafkaClient,
  topic: string,
  partition: number,
): Promise<bigint | null> {
  const view = await kafkaMetadata(client, [topic]);
  const [listed] = await kafkaListOffsets(
    client,
    view,
    topic,
    [partition],
    ListOffsetTimestamps.EARLIEST,
    FetchIsolationLevels.READ_UNCOMMITTED,
  );
  return listed && listed.errorCode === KafkaErrorCodes.NONE ? listed.offset : null;
}
