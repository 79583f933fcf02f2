/** S3 helpers for tests: buckets that clean themselves up, reading objects back. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { loadStackEnv } from '@sluice/test-kit';

export function s3Client(): S3Client {
  const env = loadStackEnv();
  return new S3Client({
    endpoint: env.SLUICE_S3_ENDPOINT,
    region: env.SLUICE_S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export interface ListedObject {
  key: string;
  size: number;
  etag: string;
  lastModified: Date | undefined;
}

export async function listAll(s3: S3Client, bucket: string, prefix = ''): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  let token: string | undefined;
  do {
    const res = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of res.Contents ?? []) {
      out.push({ key: o.Key!, size: o.Size ?? 0, etag: o.ETag ?? '', lastModified: o.LastModified });
    }
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  return out;
}

export async function getBytes(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

/**
 * Copies the objects under `prefix` that `keep` selects into `dir`, at their keys below the
 * prefix (time folders and all), so that pyarrow and DuckDB read them as a user's local copy.
 */
export async function downloadFolder(
  s3: S3Client,
  bucket: string,
  prefix: string,
  dir: string,
  keep: (key: string) => boolean = () => true,
): Promise<string[]> {
  const keys = (await listAll(s3, bucket, prefix)).map((o) => o.key).filter(keep);
  for (const key of keys) {
    const file = join(dir, key.slice(prefix.length));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, await getBytes(s3, bucket, key));
  }
  return keys;
}

/** The object's bytes, decompressed by its extension (`.gz`, `.zst`). */
export async function getText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const raw = await getBytes(s3, bucket, key);
  if (key.endsWith('.gz')) return gunzipSync(raw).toString('utf8');
  if (key.endsWith('.zst')) return zstdDecompressSync(raw).toString('utf8');
  return raw.toString('utf8');
}

export async function createBucket(s3: S3Client, bucket: string): Promise<{ delete(): Promise<void> }> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    async delete() {
      const objs = await listAll(s3, bucket).catch(() => []);
      for (let i = 0; i < objs.length; i += 500) {
        await s3
          .send(
            new DeleteObjectsCommand({
              Bucket: bucket,
              Delete: { Objects: objs.slice(i, i + 500).map((o) => ({ Key: o.key })) },
            }),
          )
          .catch(() => {});
      }
      await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
    },
  };
}
