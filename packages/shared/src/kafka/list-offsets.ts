/**
 * Kafka layer, list-offsets: ListOffsets for some partitions of one or many topics at one
 * timestamp, one request per leader. The admin reads offsets with it (earliest, last stable,
 * high watermark), the range reader the log start offset after OFFSET_OUT_OF_RANGE
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
  const listed = await kafkaListOffsetsOfTopics(
    client,
    view,
    new Map([[topic, partitions]]),
    timestamp,
    isolationLevel,
  );
  return listed.get(topic) ?? [];
}

/**
 * ListOffsets for some partitions of many topics at one timestamp: ONE request per leader
 * broker carrying every topic it leads a partition of (Kafka takes many topics per request),
 * all brokers in parallel. The leader's planning pass asks its offsets this way, so an idle
 * pass costs a request per broker whatever the number of topics (bench/README.md, idle
 * master). Per-partition error codes are returned per topic, as {@link kafkaListOffsets} does.
 */
export async function kafkaListOffsetsOfTopics(
  client: KafkaClient,
  view: ClusterView,
  wanted: ReadonlyMap<string, readonly number[]>,
  timestamp: bigint,
  isolationLevel: number,
): Promise<Map<string, ListedOffset[]>> {
  const byLeader = new Map<LeaderRoute['broker'], Map<string, listOffsetsV9.ListOffsetsRequestPartition[]>>();
  const out = new Map<string, ListedOffset[]>();
  for (const [topic, partitions] of wanted) {
    const t = view.topics.get(topic);
    const listed: ListedOffset[] = [];
    out.set(topic, listed);
    for (const partition of partitions) {
      if (!t || t.errorCode === KafkaErrorCodes.UNKNOWN_TOPIC_OR_PARTITION || !t.partitions[partition]) {
        listed.push({ partition, errorCode: KafkaErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, offset: -1n });
        continue;
      }
      const leader = partitionLeader(view, topic, partition);
      if (!leader) {
        listed.push({ partition, errorCode: KafkaErrorCodes.LEADER_NOT_AVAILABLE, offset: -1n });
        continue;
      }
      let topics = byLeader.get(leader.broker);
      if (!topics) {
        topics = new Map();
        byLeader.set(leader.broker, topics);
      }
      let parts = topics.get(topic);
      if (!parts) {
        parts = [];
        topics.set(topic, parts);
      }
      parts.push({ partitionIndex: partition, currentLeaderEpoch: leader.leaderEpoch, timestamp });
    }
  }
  const answers = await Promise.all(
    [...byLeader].map(([broker, topics]) =>
      kafkaCall<listOffsetsV9.ListOffsetsResponse>(client, broker, 'ListOffsets', () => [
        -1,
        isolationLevel,
        [...topics].map(([name, partitions]) => ({ name, partitions })),
      ]),
    ),
  );
  for (const { response } of answers) {
    for (const rt of response.topics) {
      const listed = out.get(rt.name);
      if (!listed) continue;
      for (const rp of rt.partitions) {
        listed.push({ partition: rp.partitionIndex, errorCode: rp.errorCode, offset: rp.offset });
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
