/**
 * The master's reads (and few writes) of a topic's output in S3: listings, object sizes,
 * commit records, and the `_SUCCESS` markers of the finalizer. What the audit, the finalizer
 * and the replay planner need, behind one small class, with S3 failures turned into
 * SluiceErrors that say what to check.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type CommitRecord, ErrorCodes, errorText, SluiceError } from '@sluice/shared';
import type { ListedCommit } from '../integrity/audit.ts';

export interface ListedKey {
  key: string;
  size: number;
}

interface S3ErrorShape {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

export function isNotFound(err: unknown): boolean {
  const e = err as S3ErrorShape | null;
  const name = e?.name ?? '';
  return (
    name === 'NoSuchKey' ||
    name === 'NotFound' ||
    (e?.$metadata?.httpStatusCode === 404 && name !== 'NoSuchBucket')
  );
}

export function isPreconditionFailed(err: unknown): boolean {
  const e = err as S3ErrorShape | null;
  const status = e?.$metadata?.httpStatusCode;
  return (
    status === 412 ||
    e?.name === 'PreconditionFailed' ||
    (status === 409 && e?.name === 'ConditionalRequestConflict')
  );
}

export function s3Failure(err: unknown, what: string, bucket: string, key?: string): SluiceError {
  if (err instanceof SluiceError) return err;
  const where = `s3://${bucket}/${key ?? ''}`;
  const name = (err as S3ErrorShape | null)?.name ?? '';
  if (name === 'NoSuchBucket') {
    return new SluiceError(ErrorCodes.S3, `${what} ${where}: bucket "${bucket}" does not exist`, {
      cause: err,
    });
  }
  const status = (err as S3ErrorShape | null)?.$metadata?.httpStatusCode;
  if (name === 'AccessDenied' || status === 403) {
    return new SluiceError(
      ErrorCodes.FORBIDDEN,
      `${what} ${where}: access denied; the master's credentials need s3:ListBucket, s3:GetObject and s3:PutObject on the bucket`,
      { cause: err },
    );
  }
  return new SluiceError(ErrorCodes.S3, `${what} ${where} failed: ${errorText(err)}`, {
    retryable: true,
    cause: err,
  });
}

/** Runs `fn` over `items` with at most `concurrency` at once; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return out;
}

export class OutputStore {
  readonly #s3: S3Client;
  /** Send `If-None-Match: *` where a write must not replace (SLUICE_S3_CONDITIONAL_WRITES). */
  readonly #conditional: boolean;

  constructor(s3: S3Client, opts: { conditionalWrites: boolean }) {
    this.#s3 = s3;
    this.#conditional = opts.conditionalWrites;
  }

  get s3(): S3Client {
    return this.#s3;
  }

  /**
   * Keys below `prefix` in lexical order, after `startAfter`, at most `limit` (all when
   * omitted). ListObjectsV2 pages of 1,000.
   */
  async list(
    bucket: string,
    prefix: string,
    opts: { startAfter?: string; limit?: number } = {},
  ): Promise<ListedKey[]> {
    const out: ListedKey[] = [];
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.#s3.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            ContinuationToken: token,
            ...(token === undefined && opts.startAfter ? { StartAfter: opts.startAfter } : {}),
          }),
        );
      } catch (err) {
        throw s3Failure(err, 'ListObjectsV2', bucket, prefix);
      }
      for (const o of page.Contents ?? []) {
        if (!o.Key) continue;
        out.push({ key: o.Key, size: o.Size ?? 0 });
        if (opts.limit !== undefined && out.length >= opts.limit) return out;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  /** The object's size, or null when it does not exist. */
  async size(bucket: string, key: string): Promise<number | null> {
    try {
      const out = await this.#s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return out.ContentLength ?? 0;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw s3Failure(err, 'HeadObject', bucket, key);
    }
  }

  /** The object's text, or null when it does not exist. */
  async text(bucket: string, key: string): Promise<string | null> {
    try {
      const out = await this.#s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return (await out.Body?.transformToString('utf-8')) ?? '';
    } catch (err) {
      if (isNotFound(err)) return null;
      throw s3Failure(err, 'GetObject', bucket, key);
    }
  }

  /** A commit record; `record: null` with the reason when it is missing or not JSON. */
  async commit(bucket: string, key: string): Promise<ListedCommit> {
    const text = await this.text(bucket, key);
    if (text === null) return { key, record: null, error: 'vanished while being read' };
    try {
      return { key, record: JSON.parse(text) as CommitRecord };
    } catch (err) {
      return { key, record: null, error: `not JSON (${errorText(err)})` };
    }
  }

  /** Reads commit records, `concurrency` at once. */
  commits(bucket: string, keys: readonly string[], concurrency = 8): Promise<ListedCommit[]> {
    return mapLimit(keys, concurrency, (k) => this.commit(bucket, k));
  }

  /**
   * Writes a small JSON object. `create`: only when the key does not exist (If-None-Match,
   * or a HEAD first when the server has no conditional writes); returns false when it exists.
   */
  async putJson(bucket: string, key: string, value: unknown, mode: 'create' | 'replace'): Promise<boolean> {
    const body = Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
    if (mode === 'create' && !this.#conditional && (await this.size(bucket, key)) !== null) return false;
    try {
      await this.#s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentLength: body.length,
          ContentType: 'application/json',
          ...(mode === 'create' && this.#conditional ? { IfNoneMatch: '*' } : {}),
        }),
      );
      return true;
    } catch (err) {
      if (mode === 'create' && isPreconditionFailed(err)) return false;
      throw s3Failure(err, 'PutObject', bucket, key);
    }
  }
}
