/**
 * The S3 requests the master and the worker make on small objects and listings, one function
 * each: listings, sizes, small texts, the conditional JSON write of commit records and
 * `_SUCCESS` markers, deletes, and the listing and abort of multipart uploads. Each turns
 * failures into SluiceErrors (s3-errors.ts), so both programs answer the same S3 trouble the
 * same way. The worker's streamed data uploads live in packages/worker/src/object-writer.ts.
 *
 * A caller's `signal` cancels the request; the caller then gets its abort reason back.
 */
import type { Readable } from 'node:stream';
import type {
  ListMultipartUploadsCommandOutput,
  ListObjectsV2CommandOutput,
  S3Client,
  ServerSideEncryption,
} from '@aws-sdk/client-s3';
import { mapLimit } from '../map-limit.ts';
import type { OutputSpec } from '../topic-config.ts';
import { isConditionFailure, isNotFound, s3Failure } from './s3-errors.ts';

export interface ListedKey {
  key: string;
  size: number;
}

/**
 * The SDK's commands, loaded at the first request like the client (s3-client.ts): a master
 * that never asks S3 anything does not pay for loading the SDK.
 */
const sdk = () => import('./s3-sdk.ts');

function sendOptions(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal ? { abortSignal: signal } : {};
}

/**
 * Calls `take` with each page of a ListObjectsV2 of `prefix` (with `extra` parameters; those
 * of `first` on the first page only) until the listing ends or `take` returns false.
 */
async function eachListPage(
  s3: S3Client,
  bucket: string,
  prefix: string,
  extra: { Delimiter?: string; first?: { StartAfter?: string } },
  take: (page: ListObjectsV2CommandOutput) => boolean,
): Promise<void> {
  let token: string | undefined;
  do {
    let page: ListObjectsV2CommandOutput;
    try {
      page = await s3.send(
        new (await sdk()).ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          ContinuationToken: token,
          ...(extra.Delimiter ? { Delimiter: extra.Delimiter } : {}),
          ...(token === undefined ? extra.first : {}),
        }),
      );
    } catch (err) {
      throw s3Failure(err, 'ListObjectsV2', bucket, prefix);
    }
    if (!take(page)) return;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/**
 * Keys below `prefix` in lexical order, after `startAfter`, at most `limit` (all when
 * omitted). ListObjectsV2 pages of 1,000.
 */
export async function listKeys(
  s3: S3Client,
  bucket: string,
  prefix: string,
  opts: { startAfter?: string; limit?: number } = {},
): Promise<ListedKey[]> {
  const out: ListedKey[] = [];
  const first = opts.startAfter ? { StartAfter: opts.startAfter } : {};
  await eachListPage(s3, bucket, prefix, { first }, (page) => {
    for (const o of page.Contents ?? []) {
      if (!o.Key) continue;
      out.push({ key: o.Key, size: o.Size ?? 0 });
      if (opts.limit !== undefined && out.length >= opts.limit) return false;
    }
    return true;
  });
  return out;
}

/**
 * The "folders" directly below `prefix` (which ends with `/` or is empty): the common prefixes
 * of a ListObjectsV2 with delimiter `/`, each ending with `/`. One page per 1,000 folders, not
 * per object: recovery finds topic folders this way without listing their data.
 */
export async function listFolders(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  await eachListPage(s3, bucket, prefix, { Delimiter: '/' }, (page) => {
    for (const p of page.CommonPrefixes ?? []) if (p.Prefix) out.push(p.Prefix);
    return true;
  });
  return out;
}

/**
 * Checks that the bucket exists and the credentials may see it (HeadBucket). A HEAD answer has
 * no body, so a missing bucket comes back as a bare 404: it is reported as `NoSuchBucket`.
 */
export async function headBucket(s3: S3Client, bucket: string, signal?: AbortSignal): Promise<void> {
  try {
    await s3.send(new (await sdk()).HeadBucketCommand({ Bucket: bucket }), sendOptions(signal));
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
    const missing =
      status === 404
        ? Object.assign(new Error('bucket not found', { cause: err }), { name: 'NoSuchBucket' })
        : err;
    throw s3Failure(missing, 'HeadBucket', bucket, undefined, signal);
  }
}

/** The object's size (HeadObject), or null when it does not exist. */
export async function objectSize(s3: S3Client, bucket: string, key: string): Promise<number | null> {
  try {
    const out = await s3.send(new (await sdk()).HeadObjectCommand({ Bucket: bucket, Key: key }));
    return out.ContentLength ?? 0;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw s3Failure(err, 'HeadObject', bucket, key);
  }
}

/** The object's text (GetObject), or null when it does not exist. `op` names it in errors. */
export async function objectText(
  s3: S3Client,
  bucket: string,
  key: string,
  opts: { signal?: AbortSignal; op?: string } = {},
): Promise<string | null> {
  try {
    const out = await s3.send(
      new (await sdk()).GetObjectCommand({ Bucket: bucket, Key: key }),
      sendOptions(opts.signal),
    );
    return (await out.Body?.transformToString('utf-8')) ?? '';
  } catch (err) {
    if (isNotFound(err)) return null;
    throw s3Failure(err, opts.op ?? 'GetObject', bucket, key, opts.signal);
  }
}

/** The object's bytes as a stream (GetObject), for objects too large to hold; undefined when S3 sent no body. */
export async function objectStream(s3: S3Client, bucket: string, key: string): Promise<Readable | undefined> {
  try {
    const out = await s3.send(new (await sdk()).GetObjectCommand({ Bucket: bucket, Key: key }));
    return out.Body as Readable | undefined;
  } catch (err) {
    throw s3Failure(err, 'GetObject', bucket, key);
  }
}

/** The server-side encryption headers of a topic's objects (none when it asks for none). */
export function encryptionHeaders(spec: OutputSpec): {
  ServerSideEncryption?: ServerSideEncryption;
  SSEKMSKeyId?: string;
} {
  if (spec.serverSideEncryption === 'none') return {};
  return {
    ServerSideEncryption: spec.serverSideEncryption as ServerSideEncryption,
    ...(spec.serverSideEncryption === 'aws:kms' && spec.kmsKeyId ? { SSEKMSKeyId: spec.kmsKeyId } : {}),
  };
}

export interface PutJsonOptions {
  /**
   * Only when the key does not exist: with conditional writes `If-None-Match: *`, which S3
   * refuses when the key exists (or another such write is in flight); without, a look first
   * (`exists`), which narrows the race the condition closes. False: replace what is there.
   */
  create: boolean;
  /** The server has conditional writes (SLUICE_S3_CONDITIONAL_WRITES). */
  conditionalWrites: boolean;
  /** How to look first without conditional writes. @defaultValue a HeadObject */
  exists?: () => Promise<boolean>;
  /** Server-side encryption of the object, from the topic's output spec. */
  encryption?: ReturnType<typeof encryptionHeaders>;
  signal?: AbortSignal;
  /** Names the request in errors. @defaultValue `PutObject` */
  op?: string;
}

/**
 * Writes a small JSON document (`JSON.stringify(value, null, 2)` and a newline): commit
 * records, `_SUCCESS` markers. Returns false when `create` and the key exists: the first
 * writer's document stands.
 */
export async function putJson(
  s3: S3Client,
  bucket: string,
  key: string,
  value: unknown,
  opts: PutJsonOptions,
): Promise<boolean> {
  const body = Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
  if (opts.create && !opts.conditionalWrites) {
    const exists = opts.exists ?? (async () => (await objectSize(s3, bucket, key)) !== null);
    if (await exists()) return false;
  }
  try {
    await s3.send(
      new (await sdk()).PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentLength: body.length,
        ContentType: 'application/json',
        ...opts.encryption,
        ...(opts.create && opts.conditionalWrites ? { IfNoneMatch: '*' } : {}),
      }),
      sendOptions(opts.signal),
    );
    return true;
  } catch (err) {
    if (opts.create && isConditionFailure(err)) return false;
    throw s3Failure(err, opts.op ?? 'PutObject', bucket, key, opts.signal);
  }
}

/**
 * Deletes the keys, each once, `concurrency` at once; a key that does not exist is fine. One
 * DeleteObject per key rather than DeleteObjects: a range has few objects, and some
 * S3-compatible servers demand a Content-MD5 on DeleteObjects that the SDK no longer sends.
 */
export async function deleteKeys(
  s3: S3Client,
  bucket: string,
  keys: readonly string[],
  opts: { concurrency?: number; signal?: AbortSignal } = {},
): Promise<void> {
  await mapLimit([...new Set(keys)], opts.concurrency ?? 4, async (key) => {
    try {
      await s3.send(
        new (await sdk()).DeleteObjectCommand({ Bucket: bucket, Key: key }),
        sendOptions(opts.signal),
      );
    } catch (err) {
      if (isNotFound(err)) return;
      throw s3Failure(err, 'DeleteObject', bucket, key, opts.signal);
    }
  });
}

export interface OpenUpload {
  key: string;
  uploadId: string;
  initiated: Date;
}

/** The multipart uploads begun and neither completed nor aborted below `prefix`, page by page. */
export async function* listOpenUploads(
  s3: S3Client,
  bucket: string,
  prefix: string,
): AsyncGenerator<OpenUpload> {
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    let page: ListMultipartUploadsCommandOutput;
    try {
      page = await s3.send(
        new (await sdk()).ListMultipartUploadsCommand({
          Bucket: bucket,
          Prefix: prefix,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      );
    } catch (err) {
      throw s3Failure(err, 'ListMultipartUploads', bucket, prefix);
    }
    for (const u of page.Uploads ?? []) {
      if (!u.Key || !u.UploadId || !u.Initiated) continue;
      yield { key: u.Key, uploadId: u.UploadId, initiated: u.Initiated };
    }
    if (!page.IsTruncated || !page.NextKeyMarker) return;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
}

/**
 * Aborts a multipart upload, so that its parts stop costing storage. Takes no signal on
 * purpose: an abort must reach S3 also when the work it belonged to was cancelled.
 */
export async function abortUpload(
  s3: S3Client,
  bucket: string,
  key: string,
  uploadId: string,
): Promise<void> {
  try {
    await s3.send(
      new (await sdk()).AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }),
    );
  } catch (err) {
    throw s3Failure(err, 'AbortMultipartUpload', bucket, key);
  }
}
