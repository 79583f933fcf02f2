/**
 * Sluice's one Kafka layer, laid out bottom to top the way @platformatic/kafka lays out its
 * own: options (how a client connects) → call (one request to one broker) → metadata /
 * list-offsets / fetch (the three requests of the data path) → fetch-response (our Fetch answer
 * parser) and committed-records (the read_committed filter) → errors (codes, retries, the
 * SluiceError a failure becomes) → admin (the master's and tools' view of topics and offsets).
 * Consumer groups: coordinator (FindCoordinator) → group-view (DescribeGroups, OffsetFetch) and
 * offset-commit (OffsetCommit as a simple group), for mirroring committed offsets into a group;
 * offset-fetch reads a group (members and committed offsets) for a registration that starts
 * where it stopped.
 * The worker's range reader and the master's samplers and views all read Kafka through it;
 * access-check is the one request both programs make at start to catch bad TLS or SASL settings.
 */
/** The library's names for isolation levels and ListOffsets timestamps, so callers need no import of it. */

export { checkKafkaAccess, kafkaAccessProblem } from './access-check.ts';
export {
  createKafkaAdmin,
  type KafkaAdmin,
  type KnownOffsets,
  type PartitionOffsets,
  type TopicMetadata,
  type TopicOffsets,
  type TopicOffsetsOptions,
} from './admin.ts';
export { kafkaCall } from './call.ts';
export {
  type AbortedTransaction,
  type BatchTimes,
  type CommittedRecords,
  committedRecords,
  type FetchedRecord,
  isLogAppendTime,
  type LazyBatch,
  recordTimestamp,
  type WireBatch,
} from './committed-records.ts';
export {
  COORDINATOR_CODES,
  type Coordinator,
  CoordinatorError,
  kafkaGroupCoordinator,
} from './coordinator.ts';
export {
  healsByWaiting,
  KAFKA_LEADERSHIP_CODES,
  KafkaErrorCodes,
  kafkaBackoffMs,
  kafkaError,
  kafkaErrorName,
} from './errors.ts';
export {
  type FetchBatch,
  type FetchRequest,
  fetchPartition,
  fetchRequestArgs,
  kafkaFetch,
  type PartitionFetch,
} from './fetch.ts';
export {
  EncodedBatch,
  FETCH_FLEXIBLE_MAX,
  FETCH_FLEXIBLE_MIN,
  type FetchAnswer,
  type FetchedPartition,
  FetchParseError,
  parseFetchAnswer,
} from './fetch-response.ts';
export {
  type GroupDescription,
  type GroupOffsets,
  kafkaDescribeGroup,
  kafkaGroupOffsets,
} from './group-view.ts';
export { FetchIsolationLevels, ListOffsetTimestamps } from './library.ts';
export {
  kafkaListOffsets,
  kafkaListOffsetsOfTopics,
  kafkaLogStartOffset,
  type ListedOffset,
} from './list-offsets.ts';
export {
  type ClusterView,
  kafkaMetadata,
  type LeaderRoute,
  type PartitionLeader,
  partitionLeader,
  type TopicView,
} from './metadata.ts';
export { kafkaOffsetCommit, SLUICE_OFFSET_METADATA } from './offset-commit.ts';
export { type ConsumerGroupView, kafkaConsumerGroup } from './offset-fetch.ts';
export { createKafkaClient, type KafkaClient, type KafkaSettings, kafkaClientOptions } from './options.ts';
