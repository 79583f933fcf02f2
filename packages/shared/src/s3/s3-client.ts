/**
 * The S3 client of both programs, configured from the validated settings. Requests go
 * through s3-requests.ts (and the worker's streamed uploads); failures mean what
 * s3-errors.ts says.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { CommonConfig } from '../config.ts';

/**
 * An S3 client. Checksums are only sent where the API requires them: @aws-sdk/client-s3
 * newer than 3.729 adds them to every request by default, which many S3-compatible servers
 * reject. Retries use the SDK's standard mode (exponential backoff with jitter).
 */
export function createS3Client(cfg: Pick<CommonConfig, 's3'>): S3Client {
  return new S3Client({
    region: cfg.s3.region,
    ...(cfg.s3.endpoint ? { endpoint: cfg.s3.endpoint } : {}),
    forcePathStyle: cfg.s3.forcePathStyle,
    maxAttempts: cfg.s3.maxAttempts,
    retryMode: 'standard',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
