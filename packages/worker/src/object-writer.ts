/**
 * The S3 side of the worker, behind a small interface ({@link ObjectStore}).
 *
 * Objects are streamed up with bounded memory: bytes are cut into parts of exactly
 * `partSizeBytes` (so part boundaries, and with them ETags, are the same on every retry); an
 * object smaller than one part is a single PutObject, anything else a multipart upload with
 * at most `uploadQueueSize` parts in flight. @aws-sdk/lib-storage's `Upload` is not used
 * because it cannot put `If-None-Match: *` on CompleteMultipartUpload (aws-sdk-js-v3 #8020),
 * and that condition is what lets the first complete write of a key win (invariant 4).
 * A failed or aborted multipart upload is aborted so that no parts linger. Commit records,
 * deletes and the meaning of S3's errors are the shared S3 requests (packages/shared/src/s3/).
 */
import { createHash, type Hash, webcrypto } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  type ServerSideEncryption as S3Sse,
  type StorageClass,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import {
  abortUpload,
  type CommitRecord,
  contentEncoding,
  contentType,
  deleteKeys,
  ErrorCodes,
  encryptionHeaders,
  type Logger,
  type OutputSpec,
  objectText,
  putJson,
  SluiceError,
  s3Error,
  s3Failure,
} from '@sluice/shared';

export interface ObjectStoreSettings {
  /** Multipart part size. */
  partSizeBytes: number;
  /** Parts of one object in flight at once. */
  uploadQueueSize: number;
  /** Send `If-None-Match: *` on PutObject and CompleteMultipartUpload. */
  conditionalWrites: boolean;
}

/** What one upload stored. */
export interface StoredObject {
  key: string;
  /** Bytes stored (compressed). */
  bytes: number;
  /** Hex SHA-256 of the bytes stored. */
  sha256: string;
  /** 0 for a single PutObject, else the number of multipart parts. */
  parts: number;
}

/** A writable byte stream that becomes one S3 object; `result` settles when it is stored or failed. */
export interface ObjectSink extends Writable {
  readonly key: string;
  readonly result: Promise<StoredObject>;
}

/** How one object is written. */
export interface OpenObjectOptions {
  /**
   * Write without `If-None-Match: *`, replacing what is there: for a key an earlier attempt of
   * the same range recorded, which holds (or will hold) the same bytes. @defaultValue false
   */
  overwrite?: boolean;
}

export interface ObjectStore {
  /** Opens a streamed upload of `key` in the spec's bucket. */
  openObject(spec: OutputSpec, key: string, signal?: AbortSignal, options?: OpenObjectOptions): ObjectSink;
  /** Writes a range's commit record unless one exists. Returns false when another writer's record stands. */
  putCommitRecord(
    spec: OutputSpec,
    key: string,
    record: CommitRecord,
    signal?: AbortSignal,
  ): Promise<boolean>;
  /** A range's commit record, or null when there is none. */
  getCommitRecord(bucket: string, key: string, signal?: AbortSignal): Promise<CommitRecord | null>;
  /** Deletes the keys (missing keys are fine). */
  deleteObjects(bucket: string, keys: string[], signal?: AbortSignal): Promise<void>;
}

/** Headers every data object carries, from the range's output snapshot. */
function objectHeaders(spec: OutputSpec): {
  ContentType: string;
  ContentEncoding?: string;
  ServerSideEncryption?: S3Sse;
  SSEKMSKeyId?: string;
  StorageClass?: StorageClass;
} {
  const encoding = contentEncoding(spec.compression, spec.format);
  return {
    ContentType: contentType(spec.format),
    ...(encoding ? { ContentEncoding: encoding } : {}),
    ...encryptionHeaders(spec),
    // Not sent for STANDARD (the default anyway): some S3-compatible servers reject the header.
    ...(spec.storageClass && spec.storageClass !== 'STANDARD'
      ? { StorageClass: spec.storageClass as StorageClass }
      : {}),
  };
}

/**
 * SigV4 signs each request's payload with its SHA-256, which the SDK computes on the JS thread
 * for a Buffer body: for UploadPart a second pass over every byte, on the thread that encodes
 * (bench/README.md). Handing the signer the `x-amz-content-sha256` header it would otherwise
 * compute makes it use that value: the request is the same, only where the hash is computed
 * changes.
 */
function withPayloadHash<C extends { middlewareStack: { add: (...a: never[]) => void } }>(
  command: C,
  hex: string,
): C {
  const add = command.middlewareStack.add as unknown as (
    mw: (
      next: (args: { request: unknown }) => Promise<unknown>,
    ) => (args: { request: unknown }) => Promise<unknown>,
    opts: { step: 'build'; name: string },
  ) => void;
  add(
    (next) => (args) => {
      const req = args.request as { headers?: Record<string, string> } | undefined;
      if (req?.headers) req.headers['x-amz-content-sha256'] = hex;
      return next(args);
    },
    { step: 'build', name: 'sluicePayloadHash' },
  );
  return command;
}

/** SHA-256 of a part, computed by WebCrypto on libuv's threadpool, off the JS thread. */
async function partHash(body: Buffer): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', body)).toString('hex');
}

class S3ObjectSink extends Writable implements ObjectSink {
  readonly key: string;
  readonly result: Promise<StoredObject>;

  readonly #s3: S3Client;
  readonly #bucket: string;
  readonly #headers: ReturnType<typeof objectHeaders>;
  readonly #settings: ObjectStoreSettings;
  readonly #log: Logger | undefined;
  readonly #abort = new AbortController();
  readonly #hash: Hash = createHash('sha256');
  readonly #resolve: (o: StoredObject) => void;
  readonly #reject: (e: unknown) => void;
  readonly #onOuterAbort: () => void;
  readonly #outer: AbortSignal | undefined;

  #bytes = 0;
  /** Bytes not yet cut into a part. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #uploadId: string | undefined;
  #partNumber = 0;
  #completed: CompletedPart[] = [];
  #inFlight = new Set<Promise<void>>();
  #failure: unknown;
  #stored = false;
  readonly #overwrite: boolean;

  constructor(
    s3: S3Client,
    settings: ObjectStoreSettings,
    spec: OutputSpec,
    key: string,
    signal: AbortSignal | undefined,
    log: Logger | undefined,
    overwrite = false,
  ) {
    super({ highWaterMark: Math.min(settings.partSizeBytes, 1024 * 1024) });
    this.key = key;
    this.#s3 = s3;
    this.#bucket = spec.destination.bucket;
    this.#headers = objectHeaders(spec);
    this.#settings = settings;
    this.#log = log;
    this.#overwrite = overwrite;
    let resolve!: (o: StoredObject) => void;
    let reject!: (e: unknown) => void;
    this.result = new Promise<StoredObject>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Callers may learn of a failure from the stream instead; never leave it unhandled.
    this.result.catch(() => {});
    this.#resolve = resolve;
    this.#reject = reject;
    this.#outer = signal;
    this.#onOuterAbort = () => this.destroy(signal?.reason ?? new Error('aborted'));
    if (signal?.aborted) queueMicrotask(this.#onOuterAbort);
    else signal?.addEventListener('abort', this.#onOuterAbort, { once: true });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.#failure) {
      cb(this.#failure as Error);
      return;
    }
    this.#hash.update(chunk);
    this.#bytes += chunk.length;
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes < this.#settings.partSizeBytes) {
      cb();
      return;
    }
    this.#flushFullParts().then(() => cb(), cb);
  }

  async #flushFullParts(): Promise<void> {
    const size = this.#settings.partSizeBytes;
    while (this.#pendingBytes >= size) {
      const all = Buffer.concat(this.#pending, this.#pendingBytes);
      const part = all.subarray(0, size);
      const rest = all.subarray(size);
      this.#pending = rest.length > 0 ? [rest] : [];
      this.#pendingBytes = rest.length;
      await this.#startPart(part);
    }
  }

  /** Starts one part's upload once a slot is free; returns when it is under way. */
  async #startPart(body: Buffer): Promise<void> {
    if (this.#uploadId === undefined) {
      const out = await this.#send('CreateMultipartUpload', () =>
        this.#s3.send(
          new CreateMultipartUploadCommand({ Bucket: this.#bucket, Key: this.key, ...this.#headers }),
          { abortSignal: this.#abort.signal },
        ),
      );
      if (!out.UploadId)
        throw s3Error(new Error('no UploadId in answer'), 'CreateMultipartUpload', this.#bucket, this.key);
      this.#uploadId = out.UploadId;
    }
    while (this.#inFlight.size >= this.#settings.uploadQueueSize) await Promise.race(this.#inFlight);
    if (this.#failure) throw this.#failure;
    const partNumber = ++this.#partNumber;
    const uploadId = this.#uploadId;
    const p = this.#send(`UploadPart ${partNumber}`, async () =>
      this.#s3.send(
        withPayloadHash(
          new UploadPartCommand({
            Bucket: this.#bucket,
            Key: this.key,
            UploadId: uploadId,
            PartNumber: partNumber,
            Body: body,
            ContentLength: body.length,
          }),
          await partHash(body),
        ),
        { abortSignal: this.#abort.signal },
      ),
    ).then(
      (out) => {
        this.#completed.push({ PartNumber: partNumber, ETag: out.ETag });
      },
      (err) => {
        this.#failure ??= err;
        // The writer may be waiting for a slot rather than writing: fail the stream now.
        this.destroy(err);
      },
    );
    const tracked = p.finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#finish().then(
      (stored) => {
        this.#stored = true;
        this.#detach();
        this.#resolve(stored);
        cb();
      },
      (err) => cb(err),
    );
  }

  async #finish(): Promise<StoredObject> {
    const ifNoneMatch = this.#settings.conditionalWrites && !this.#overwrite ? { IfNoneMatch: '*' } : {};
    if (this.#uploadId === undefined) {
      const body = Buffer.concat(this.#pending, this.#pendingBytes);
      this.#pending = [];
      // One object, one request: the object's SHA-256 is the payload's.
      const sha256 = this.#hash.digest('hex');
      await this.#send('PutObject', () =>
        this.#s3.send(
          withPayloadHash(
            new PutObjectCommand({
              Bucket: this.#bucket,
              Key: this.key,
              Body: body,
              ContentLength: body.length,
              ...this.#headers,
              ...ifNoneMatch,
            }),
            sha256,
          ),
          { abortSignal: this.#abort.signal },
        ),
      );
      return { key: this.key, bytes: this.#bytes, sha256, parts: 0 };
    }
    if (this.#pendingBytes > 0) {
      const last = Buffer.concat(this.#pending, this.#pendingBytes);
      this.#pending = [];
      this.#pendingBytes = 0;
      await this.#startPart(last);
    }
    while (this.#inFlight.size > 0) await Promise.race(this.#inFlight);
    if (this.#failure) throw this.#failure;
    const parts = [...this.#completed].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    await this.#send('CompleteMultipartUpload', () =>
      this.#s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.#bucket,
          Key: this.key,
          UploadId: this.#uploadId,
          MultipartUpload: { Parts: parts },
          ...ifNoneMatch,
        }),
        { abortSignal: this.#abort.signal },
      ),
    );
    return { key: this.key, bytes: this.#bytes, sha256: this.#hash.digest('hex'), parts: parts.length };
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#detach();
    if (this.#stored) {
      cb(err);
      return;
    }
    const reason = err ?? new Error(`upload of ${this.key} was closed before it finished`);
    this.#abort.abort(reason);
    this.#reject(reason);
    const uploadId = this.#uploadId;
    if (uploadId === undefined) {
      cb(err);
      return;
    }
    // Not tied to the aborted signal: the abort itself must still reach S3.
    abortUpload(this.#s3, this.#bucket, this.key, uploadId)
      .catch((e) => this.#log?.warn({ key: this.key, err: e }, 'abort multipart upload failed'))
      .finally(() => cb(err));
  }

  #detach(): void {
    this.#outer?.removeEventListener('abort', this.#onOuterAbort);
  }

  async #send<T>(op: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw s3Failure(err, op, this.#bucket, this.key, this.#abort.signal);
    }
  }
}

export class S3ObjectStore implements ObjectStore {
  readonly #s3: S3Client;
  readonly #settings: ObjectStoreSettings;
  readonly #log: Logger | undefined;

  constructor(s3: S3Client, settings: ObjectStoreSettings, log?: Logger) {
    if (settings.partSizeBytes < 1) throw new RangeError('partSizeBytes must be positive');
    if (settings.uploadQueueSize < 1) throw new RangeError('uploadQueueSize must be positive');
    this.#s3 = s3;
    this.#settings = settings;
    this.#log = log;
  }

  openObject(
    spec: OutputSpec,
    key: string,
    signal?: AbortSignal,
    options: OpenObjectOptions = {},
  ): ObjectSink {
    return new S3ObjectSink(
      this.#s3,
      this.#settings,
      spec,
      key,
      signal,
      this.#log,
      options.overwrite === true,
    );
  }

  async putCommitRecord(
    spec: OutputSpec,
    key: string,
    record: CommitRecord,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const bucket = spec.destination.bucket;
    return putJson(this.#s3, bucket, key, record, {
      create: true,
      conditionalWrites: this.#settings.conditionalWrites,
      // Without conditional writes: a commit record that is there but damaged fails loudly.
      exists: async () => (await this.getCommitRecord(bucket, key, signal)) !== null,
      encryption: encryptionHeaders(spec),
      ...(signal ? { signal } : {}),
      op: 'PutObject (commit record)',
    });
  }

  async getCommitRecord(bucket: string, key: string, signal?: AbortSignal): Promise<CommitRecord | null> {
    const text = await objectText(this.#s3, bucket, key, {
      ...(signal ? { signal } : {}),
      op: 'GetObject (commit record)',
    });
    if (text === null) return null;
    try {
      return JSON.parse(text) as CommitRecord;
    } catch (err) {
      throw new SluiceError(
        ErrorCodes.S3,
        `commit record s3://${bucket}/${key} is not JSON; it was not written by Sluice, or was damaged: inspect it, and delete it to let the range be written again`,
        { retryable: false, cause: err },
      );
    }
  }

  deleteObjects(bucket: string, keys: string[], signal?: AbortSignal): Promise<void> {
    return deleteKeys(this.#s3, bucket, keys, { concurrency: 4, ...(signal ? { signal } : {}) });
  }
}
