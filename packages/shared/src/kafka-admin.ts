/**
 * The master's (and tools') view of Kafka: topic ids, partitions and offsets.
 * Implementation: @platformatic/kafka's Admin and metadata (kafkajs speaks Metadata v6 at
 * most and so cannot see topic ids).
 *
 * PLACEHOLDER CONTRACT — the implementation is being written; keep this interface.
 */
import type { CommonConfig } from './config.ts';

export interface TopicMetadata {
  topic: string;
  /** Kafka's topic id (UUID); changes when a topic is deleted and re-created. */
  topicId: string;
  /** Partition numbers, ascending. */
  partitions: number[];
}

export interface PartitionOffsets {
  partition: number;
  /** Log start offset (first offset not deleted by retention). */
  earliest: bigint;
  /** High watermark. */
  latest: bigint;
  /** Last stable offset (read_committed end): Sluice plans only below it. */
  lastStable: bigint;
}

export interface KafkaAdmin {
  /** Metadata of each topic; a topic Kafka does not have maps to null. */
  topicMetadata(topics: string[]): Promise<Map<string, TopicMetadata | null>>;
  /** Offsets of the given partitions of one topic. */
  offsets(topic: string, partitions: number[]): Promise<PartitionOffsets[]>;
  close(): Promise<void>;
}

export declare function createKafkaAdmin(
  cfg: Pick<CommonConfig, 'kafkaBrokers' | 'kafkaClientId' | 'kafkaSsl' | 'kafkaSasl'>,
): KafkaAdmin;
