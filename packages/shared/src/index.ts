export * from './clients.ts';
export * from './config.ts';
export * from './errors.ts';
export * from './exactly-once.ts';
export * from './jsonl-line.ts';
export * from './kafka-admin.ts';
export * from './logger.ts';
export { mapLimit } from './map-limit.ts';
export * from './object-key.ts';
export * from './offset-range.ts';
export * from './range-job.ts';
export * from './records.ts';
export { createS3Client } from './s3/s3-client.ts';
export { isConditionFailure, isNotFound, s3Error, s3Failure } from './s3/s3-errors.ts';
export {
  abortUpload,
  deleteKeys,
  type ListedKey,
  listKeys,
  listOpenUploads,
  type OpenUpload,
  objectSize,
  objectStream,
  objectText,
  type PutJsonOptions,
  putJson,
} from './s3/s3-requests.ts';
export * from './topic-config.ts';
export * from './version.ts';
export * from './zk-layout.ts';
export * from './zk-session.ts';
