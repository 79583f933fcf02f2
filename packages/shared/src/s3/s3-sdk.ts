/**
 * The parts of @aws-sdk/client-s3 that s3-client.ts and s3-requests.ts use, as one ES module
 * they load at the first S3 request. Named re-exports rather than `import('@aws-sdk/client-s3')`
 * where they are used: the SDK is CommonJS, whose names Node finds by reading its source, but
 * the programs' bundle (scripts/bundle.ts) makes a chunk of it that exports only `default`, so
 * every command read from it was undefined.
 */
export {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
