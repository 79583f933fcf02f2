/**
 * Smoke test of the local S3 server (versitygw, see deploy/local/S3-SERVER.md) with the AWS
 * SDK as the worker uses it: path-style requests, put and get, ListObjectsV2 over several
 * pages, a multipart upload through lib-storage, and conditional writes (If-None-Match: *)
 * that refuse to replace an existing key, the guard against a second upload of a range.
 *
 * The client keeps the SDK's default checksum behaviour (CRC32 on every request since
 * 3.729): versitygw accepts it, so nothing here sets requestChecksumCalculation.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { loadStackEnv, uniqueName } from '@sluice/test-kit';

const MiB = 1024 * 1024;

/** The HTTP status of a refused request, or a failed assertion when it was accepted. */
async function refusedStatus(request: Promise<unknown>): Promise<number> {
  try {
    await request;
  } catch (error) {
    assert.ok(error instanceof S3ServiceException, `not an S3 error: ${error}`);
    return error.$metadata.httpStatusCode ?? 0;
  }
  return assert.fail('the request was accepted');
}

describe('s3 (local stack)', () => {
  const bucket = uniqueName('smoke-s3');
  let s3: S3Client;
  let conditionalWrites = false;
  let created = false;

  before(async () => {
    // In the hook, not the suite body: a missing stack fails every test instead of none.
    const env = loadStackEnv();
    conditionalWrites = env.SLUICE_S3_CONDITIONAL_WRITES === 'true';
    s3 = new S3Client({
      endpoint: env.SLUICE_S3_ENDPOINT,
      region: env.SLUICE_S3_REGION,
      forcePathStyle: env.SLUICE_S3_FORCE_PATH_STYLE === 'true',
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
      maxAttempts: 2,
    });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    created = true;
  });

  after(async () => {
    if (!created) {
      s3?.destroy();
      return;
    }
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket })).catch(() => undefined);
    for (const upload of uploads?.Uploads ?? []) {
      await s3.send(
        new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }),
      );
    }
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      const keys = (page.Contents ?? []).map((object) => ({ Key: object.Key }));
      if (keys.length > 0)
        await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    s3.destroy();
  });

  test('put and get an object', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'hello.txt', Body: 'hello, sluice' }));
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }));
    assert.equal(await object.Body?.transformToString(), 'hello, sluice');
  });

  test('ListObjectsV2 pages with a continuation token', async () => {
    const keys = Array.from({ length: 7 }, (_, i) => `pages/part-${String(i).padStart(2, '0')}`);
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
    const listed: string[] = [];
    let pages = 0;
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: 'pages/', MaxKeys: 3, ContinuationToken: token }),
      );
      pages++;
      assert.ok((page.Contents ?? []).length <= 3);
      listed.push(...(page.Contents ?? []).map((object) => object.Key ?? ''));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated) assert.ok(token, 'a truncated page without NextContinuationToken');
    } while (token);
    assert.equal(pages, 3);
    assert.deepEqual(listed, keys);
  });

  test('a 21 MiB multipart upload through lib-storage reads back whole', async () => {
    const body = randomBytes(21 * MiB);
    const upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: 'multipart/big.bin', Body: body },
      partSize: 5 * MiB,
      queueSize: 2,
      leavePartsOnError: false,
    });
    const result = await upload.done();
    // The ETag of a multipart object ends in -<number of parts>.
    assert.match(result.ETag ?? '', /-5"?$/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'multipart/big.bin' }));
    assert.equal(head.ContentLength, body.length);
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'multipart/big.bin' }));
    const read = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
    assert.ok(read.equals(body), 'the object differs from what was uploaded');
  });

  test('If-None-Match: * refuses to replace an existing key (PutObject and CompleteMultipartUpload)', async () => {
    const key = 'conditional/once.txt';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'first', IfNoneMatch: '*' }));

    const put = () =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'second', IfNoneMatch: '*' }));
    const complete = async () => {
      const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
      const part = await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: created.UploadId,
          PartNumber: 1,
          Body: 'third',
        }),
      );
      return s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: created.UploadId,
          IfNoneMatch: '*',
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
        }),
      );
    };
    if (conditionalWrites) {
      assert.equal(await refusedStatus(put()), 412);
      assert.equal(await refusedStatus(complete()), 412);
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(await object.Body?.transformToString(), 'first');
    } else {
      // stack.env says this server ignores If-None-Match; the writes go through.
      await put();
      await complete();
    }
  });
});
