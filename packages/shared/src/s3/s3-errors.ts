/**
 * What an S3 failure means, decided in one place for the master and the worker: whether it
 * says "no such key" or "the conditional write lost", and the {@link SluiceError} it becomes,
 * with a message that says what to fix (the bucket to create, the setting to change, the
 * permission the credentials lack).
 *
 * The SDK's errors are matched by their `name` (or the XML `Code`) and HTTP status, not by
 * class: S3-compatible servers answer with the same codes but not always the same shapes.
 */
import { ErrorCodes, SluiceError } from '../errors.ts';

interface S3ErrorShape {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

function statusOf(err: unknown): number | undefined {
  return (err as S3ErrorShape | null)?.$metadata?.httpStatusCode;
}

function nameOf(err: unknown): string {
  const e = err as S3ErrorShape | null;
  return e?.name ?? e?.Code ?? '';
}

/** True when the key (not the bucket) does not exist. */
export function isNotFound(err: unknown): boolean {
  const name = nameOf(err);
  return name === 'NoSuchKey' || name === 'NotFound' || (statusOf(err) === 404 && name !== 'NoSuchBucket');
}

/**
 * True when a request failed because the bucket does not exist: a SluiceError made by
 * {@link s3Failure} from S3's `NoSuchBucket` (its cause), or that answer itself.
 */
export function isNoSuchBucket(err: unknown): boolean {
  const cause = (err as { cause?: unknown } | null)?.cause;
  return nameOf(err) === 'NoSuchBucket' || (cause !== undefined && nameOf(cause) === 'NoSuchBucket');
}

/** True when S3 refused a conditional write because the key exists (or is being written). */
export function isConditionFailure(err: unknown): boolean {
  const name = nameOf(err);
  const status = statusOf(err);
  return (
    status === 412 ||
    name === 'PreconditionFailed' ||
    // AWS answers 409 while another conditional write of the same key is in progress.
    (status === 409 && name === 'ConditionalRequestConflict')
  );
}

/** True when the request was cancelled through its abort signal. */
export function isAbortError(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'AbortError';
}

/** The IAM permission each S3 request Sluice makes needs: what a 403 asks the operator to grant. */
const PERMISSION: Record<string, string> = {
  ListObjectsV2: 's3:ListBucket',
  HeadBucket: 's3:ListBucket',
  HeadObject: 's3:GetObject',
  GetObject: 's3:GetObject',
  PutObject: 's3:PutObject',
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
  DeleteObject: 's3:DeleteObject',
  AbortMultipartUpload: 's3:AbortMultipartUpload',
  ListMultipartUploads: 's3:ListBucketMultipartUploads',
};

/**
 * An S3 failure as a SluiceError that says what to fix. `op` names the request first
 * (`PutObject`, `UploadPart 3`, `GetObject (commit record)`): its first word picks the
 * permission a 403 names.
 */
export function s3Error(err: unknown, op: string, bucket: string, key?: string): SluiceError {
  if (err instanceof SluiceError) return err;
  const where = key === undefined ? `s3://${bucket}` : `s3://${bucket}/${key}`;
  const name = nameOf(err);
  const status = statusOf(err);
  const text = err instanceof Error ? err.message : String(err);
  if (name === 'NoSuchBucket') {
    return new SluiceError(
      ErrorCodes.S3,
      `${op} ${where}: bucket "${bucket}" does not exist; create it (for example "aws s3 mb s3://${bucket}") or change the topic's destination.bucket`,
      { retryable: false, cause: err, details: { bucket, key } },
    );
  }
  if (isConditionFailure(err)) {
    return new SluiceError(
      ErrorCodes.S3_WRITE_CONFLICT,
      `${op} ${where}: the object was written by another attempt first (conditional write refused)`,
      { retryable: true, cause: err, details: { bucket, key } },
    );
  }
  if (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || status === 401) {
    return new SluiceError(
      ErrorCodes.UNAUTHORIZED,
      `${op} ${where}: S3 refused the credentials (${name || status}); check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the pod's role`,
      { retryable: false, cause: err, details: { bucket, key } },
    );
  }
  if (name === 'AccessDenied' || status === 403) {
    const permission = PERMISSION[op.split(' ')[0] ?? ''] ?? 'the S3 permission of this request';
    return new SluiceError(
      ErrorCodes.FORBIDDEN,
      `${op} ${where}: access denied; grant the credentials ${permission} on bucket "${bucket}"`,
      { retryable: false, cause: err, details: { bucket, key } },
    );
  }
  if (name === 'NotImplemented' || status === 501) {
    return new SluiceError(
      ErrorCodes.S3,
      `${op} ${where}: the S3 server does not implement this request (${text}); if it lacks conditional writes, set SLUICE_S3_CONDITIONAL_WRITES=false`,
      { retryable: false, cause: err, details: { bucket, key } },
    );
  }
  return new SluiceError(ErrorCodes.S3, `${op} ${where} failed: ${name ? `${name}: ` : ''}${text}`, {
    retryable: true,
    cause: err,
    details: { bucket, key, status },
  });
}

/**
 * The error to throw for a failed request: the abort's reason when the caller cancelled it
 * (so the caller sees its own reason, not an S3 failure), else {@link s3Error}.
 */
export function s3Failure(
  err: unknown,
  op: string,
  bucket: string,
  key: string | undefined,
  signal?: AbortSignal,
): unknown {
  if (isAbortError(err) && signal?.aborted) return signal.reason;
  return s3Error(err, op, bucket, key);
}
