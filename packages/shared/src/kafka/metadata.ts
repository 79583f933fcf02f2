/**
 * Kafka layer, metadata: which brokers there are, each topic's id, and each partition's
 * leader, from one Metadata request with per-topic and per-partition error codes kept (the
 * library's `metadata()` turns one unknown topic into an error for the whole request, while
 * Sluice needs "this topic is missing, that one is fine" from one answer). The leader lookup
 * every request to a partition leader starts from ({@link partitionLeader}) is here, once.
 */
import type { Broker, metadataV12 } from '@platformatic/kafka';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { kafkaCall } from './call.ts';
import type { KafkaClient } from './options.ts';

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

export interface PartitionLeader {
  partition: number;
  /** Partition-level error code of the metadata answer (0 when fine). */
  errorCode: number;
  /** Node id of the leader, -1 when there is none right now. */
  leaderId: number;
  leaderEpoch: number;
}

export interface TopicView {
  /** Topic-level error code (0 when fine, 3 when Kafka does not have the topic). */
  errorCode: number;
  topicId: string;
  /** Indexed by partition number. */
  partitions: PartitionLeader[];
}

export interface ClusterView {
  brokers: Map<number, Broker>;
  topics: Map<string, TopicView>;
}

/** Where requests for one partition go: its leader, and the epoch to send with them. */
export interface LeaderRoute {
  broker: Broker;
  leaderEpoch: number;
}

/**
 * One Metadata request for `topics` (never auto-creating them; null: every topic the principal
 * may describe), with per-topic and per-partition error codes kept. Throws only when no broker
 * answered.
 */
export async function kafkaMetadata(client: KafkaClient, topics: string[] | null): Promise<ClusterView> {
  const { response, version } = await kafkaCall<metadataV12.MetadataResponse>(
    client,
    null,
    'Metadata',
    () => [topics, false, false],
  );
  const brokers = new Map<number, Broker>();
  for (const b of response.brokers) brokers.set(b.nodeId, { host: b.host, port: b.port });
  const view: ClusterView = { brokers, topics: new Map() };
  for (const t of response.topics) {
    if (!t.name) continue;
    const partitions: PartitionLeader[] = [];
    for (const p of [...t.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex)) {
      partitions[p.partitionIndex] = {
        partition: p.partitionIndex,
        errorCode: p.errorCode,
        leaderId: p.leaderId,
        leaderEpoch: p.leaderEpoch,
      };
    }
    const topicId = version >= 10 && t.topicId ? t.topicId : NIL_UUID;
    view.topics.set(t.name, { errorCode: t.errorCode, topicId, partitions });
  }
  if (version < 10) {
    throw new SluiceError(
      ErrorCodes.KAFKA,
      `Kafka answers Metadata v${version}, which carries no topic ids; Sluice needs Kafka 2.8 or newer`,
      { retryable: false },
    );
  }
  return view;
}

/**
 * The current leader of one partition in `view`, or null when the topic or partition is
 * unknown or has no leader among the known brokers right now. Topic-level error codes are
 * the caller's to read.
 */
export function partitionLeader(view: ClusterView, topic: string, partition: number): LeaderRoute | null {
  const p = view.topics.get(topic)?.partitions[partition];
  const broker = p && p.leaderId >= 0 ? view.brokers.get(p.leaderId) : undefined;
  return p && broker ? { broker, leaderEpoch: p.leaderEpoch } : null;
}
