/**
 * The shared package's public surface, listed by name: what the master, the worker, the tests,
 * the benchmark and the scripts import. A name exported by a module here but used only inside
 * `shared` stays out, so this list is the contract between the packages and a rename shows up
 * in review. Shared's own tests import such names from their module.
 */
export { createRedis, createS3Client, redactUrl } from './clients.ts';
export {
  type CommonConfig,
  loadMasterConfig,
  loadWorkerConfig,
  type MasterConfig,
  type WorkerConfig,
} from './config.ts';
export {
  type ErrorCode,
  ErrorCodes,
  errorText,
  isSluiceError,
  type Problem,
  SluiceError,
  ValidationError,
} from './errors.ts';
export {
  advanceCommitted,
  checkTiling,
  complete,
  fail,
  failedRetryDelayMs,
  isStalled,
  progress,
  recordKeys,
  requeue,
  start,
} from './exactly-once.ts';
export {
  type ClusterView,
  createKafkaAdmin,
  createKafkaClient,
  healsByWaiting,
  KAFKA_LEADERSHIP_CODES,
  type KafkaAdmin,
  KafkaErrorCodes,
  type KafkaSettings,
  kafkaBackoffMs,
  kafkaCall,
  kafkaError,
  kafkaErrorName,
  kafkaListOffsets,
  kafkaMetadata,
  type PartitionOffsets,
  type TopicMetadata,
} from './kafka-admin.ts';
export {
  checkLayout,
  type LayoutRecord,
  layoutOf,
  RECORD_VERSION,
  UNVERSIONED_LAYOUT,
  ZK_LAYOUT_VERSION,
} from './layout-version.ts';
export { createLogger, type Logger } from './logger.ts';
export {
  bucketFolder,
  commitRecordKey,
  commitsFolder,
  contentEncoding,
  contentType,
  dataObjectKey,
  parseDataObjectName,
  timeFolder,
  topicRoot,
} from './object-key.ts';
export {
  jobId,
  type OffsetRange,
  parseOffset,
  parseRangeId,
  parseRangeNodeName,
  rangeId,
  rangeNodeName,
} from './offset-range.ts';
export {
  parseRangeJob,
  RANGE_JOB_NAME,
  RANGE_JOB_VERSION,
  RANGE_QUEUE_NAME,
  type RangeJobData,
  rangeJobId,
  rangeJobNodePath,
  rangeOfJob,
} from './range-job.ts';
export {
  type CommitRecord,
  decodeJson,
  encodeJson,
  type Gap,
  type LeaderRecord,
  type ObjectEntry,
  type PartitionState,
  type RangeRecord,
  type RangeResult,
  type RangeState,
  type VerifyMismatch,
  type WorkerRegistration,
} from './records.ts';
export {
  bucketNameProblem,
  type Compression,
  DEFAULT_FINALIZE_LATENESS_MS,
  type Destination,
  type Format,
  type Granularity,
  LIMITS,
  normalizeDestination,
  type OutputSpec,
  outputSpecOf,
  type PartitionBy,
  prefixProblem,
  type RangePolicy,
  type ServerSideEncryption,
  STORAGE_CLASSES,
  type StartFrom,
  TOPIC_DEFAULTS,
  type TopicConfig,
  type TopicRecord,
  topicConfigProblems,
  topicNameProblem,
} from './topic-config.ts';
export { SLUICE_VERSION } from './version.ts';
export {
  auditStatePath,
  BASE_PATHS,
  ELECTION_PATH,
  ELECTION_PREFIX,
  finalizerPath,
  LAYOUT_PATH,
  LEADER_PATH,
  partitionPath,
  partitionsPath,
  REPLAYS_PATH,
  RETRIES_PATH,
  rangePath,
  replayIdProblem,
  replayPartitionPath,
  replayPartitionsPath,
  replayPath,
  replayRangePath,
  TOPICS_PATH,
  topicPath,
  verifyMismatchesPath,
  verifyMismatchPath,
  WORKERS_PATH,
  workerPath,
} from './zk-layout.ts';
export {
  isBadVersion,
  isNodeExists,
  isNoNode,
  type ZkNode,
  type ZkOp,
  ZkSession,
  zkCode,
} from './zk-session.ts';
