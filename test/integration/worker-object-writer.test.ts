/** The S3 object writer against the local stack's real S3 server. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { type CommitRecord, ErrorCodes, isSluiceError, type OutputSpec, SluiceError } from '@sluice/shared';
import {
  type ObjectSink,
  S3ObjectStore,
  type StoredObject,
} from '../../packages/worker/src/object-writer.ts';
import { tempBucket, testS3 } from '../helpers/worker-stack.ts';

const MiB = 1024 * 1024;

function spec(bucket: string, over: Partial<OutputSpec> = {}): OutputSpec {
  return {
    destination: { bucket, prefix: 'p' },
    format: 'jsonl',
    compression: 'gzip',
    partitionBy: { kind: 'none' },
    serverSideEncryption: 'none',
    kmsKeyId: '',
    storageClass: 'STANDARD',
    ...over,
  };
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Streams `data` into the sink in 64 KiB writes and waits until it is stored. */
async function upload(sink: ObjectSink, data: Buffer): Promise<StoredObject> {
  const chunks = function* () {
    for (let at = 0; at < data.length; at += 64 * 1024) yield data.subarray(at, at + 64 * 1024);
  };
  await pipeline(Readable.from(chunks()), sink);
  return sink.result;
}

async function readBack(s3: ReturnType<typeof testS3>, bucket: string, key: string): Promise<Buffer> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

async function openUploads(s3: ReturnType<typeof testS3>, bucket: string): Promise<number> {
  const res = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return res.Uploads?.length ?? 0;
}

describe('object writer (real S3)', () => {
  const s3 = testS3();
  const settings = { partSizeBytes: 5 * MiB, uploadQueueSize: 2, conditionalWrites: true };

  test('an object under one part is one PutObject with the right headers', async (t) => {
    const bucket = await tempBucket(t, s3);
    const store = new S3ObjectStore(s3, settings);
    const data = randomBytes(100 * 1024);
    const stored = await upload(store.openObject(spec(bucket), 'p/t/small.jsonl.gz'), data);
    assert.equal(stored.parts, 0);
    assert.equal(stored.bytes, data.length);
    assert.equal(stored.sha256, sha256(data));
    assert.ok((await readBack(s3, bucket, 'p/t/small.jsonl.gz')).equals(data));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'p/t/small.jsonl.gz' }));
    assert.equal(head.ContentType, 'application/x-ndjson');
    assert.equal(head.ContentEncoding, 'gzip');
  });

  test('an object over one part is a multipart upload of exact parts', async (t) => {
    const bucket = await tempBucket(t, s3);
    const store = new S3ObjectStore(s3, settings);
    const data = randomBytes(12 * MiB + 12345);
    const key = 'p/t/big.txt.zst';
    const stored = await upload(
      store.openObject(spec(bucket, { format: 'raw', compression: 'zstd' }), key),
      data,
    );
    assert.equal(stored.parts, 3);
    assert.equal(stored.bytes, data.length);
    assert.equal(stored.sha256, sha256(data));
    const back = await readBack(s3, bucket, key);
    assert.equal(back.length, data.length);
    assert.ok(back.equals(data));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(head.ContentType, 'text/plain; charset=utf-8');
    assert.equal(head.ContentEncoding, 'zstd');
    assert.equal(await openUploads(s3, bucket), 0);
  });

  test('a conditional PutObject on an existing key is refused as S3_WRITE_CONFLICT', async (t) => {
    const bucket = await tempBucket(t, s3);
    const store = new S3ObjectStore(s3, settings);
    const key = 'p/t/exists.jsonl.gz';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'first' }));
    await assert.rejects(upload(store.openObject(spec(bucket), key), Buffer.from('second')), (err) => {
      assert.ok(isSluiceError(err, ErrorCodes.S3_WRITE_CONFLICT), String(err));
      assert.equal((err as SluiceError).retryable, true);
      assert.match((err as Error).message, new RegExp(`s3://${bucket}/${key}`));
      return true;
    });
    assert.equal((await readBack(s3, bucket, key)).toString(), 'first', 'the first write stands');
  });

  test('a conditional CompleteMultipartUpload on an existing key is refused, and the upload aborted', async (t) => {
    const bucket = await tempBucket(t, s3);
    const store = new S3ObjectStore(s3, settings);
    const key = 'p/t/exists-big.jsonl.gz';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'first' }));
    await assert.rejects(upload(store.openObject(spec(bucket), key), randomBytes(6 * MiB)), (err) =>
      isSluiceError(err, ErrorCodes.S3_WRITE_CONFLICT),
    );
    assert.equal((await readBack(s3, bucket, key)).toString(), 'first');
    assert.equal(await openUploads(s3, bucket), 0, 'no multipart upload left behind');
  });

  test('without conditional writes a second write replaces the object', async (t) => {
    const bucket = await tempBucket(t, s3);
    const store = new S3ObjectStore(s3, { ...settings, conditionalWrites: false });
    const key = 'p/t/replace.jsonl.gz';
    await upload(store.openObject(spec(bucket), key), Buffer.from('one'));
    await upload(store.openObject(spec(bucket), key), Buffer.from('two'));
    assert.equal((await readBack(s3, bucket, key)).toString(), 'two');
  });

  test('aborting an upload aborts its multipart upload', async (t) => {
    const bucket = await tempBucket(t, s3);
    const store = new S3ObjectStore(s3, settings);
    const ac = new AbortController();
    const sink = store.openObject(spec(bucket), 'p/t/aborted.jsonl.gz', ac.signal);
    sink.on('error', () => {});
    // More than one part, and the stream left open: the multipart upload is under way.
    sink.write(randomBytes(6 * MiB));
    for (let i = 0; i < 100 && (await openUploads(s3, bucket)) === 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal(await openUploads(s3, bucket), 1);
    ac.abort(new SluiceError(ErrorCodes.SHUTTING_DOWN, 'test abort'));
    await assert.rejects(sink.result, (err) => isSluiceError(err, ErrorCodes.SHUTTING_DOWN));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await openUploads(s3, bucket), 0);
  });

  test('a missing bucket says to create it and is not retried', async () => {
    const store = new S3ObjectStore(s3, settings);
    const bucket = `no-such-bucket-${Date.now()}`;
    await assert.rejects(upload(store.openObject(spec(bucket), 'k'), Buffer.from('x')), (err) => {
      assert.ok(isSluiceError(err, ErrorCodes.S3), String(err));
      assert.equal((err as SluiceError).retryable, false);
      assert.match((err as Error).message, /does not exist; create it/);
      return true;
    });
  });

  test('commit records: absent is null, written once, the first one stands', async (t) => {
    const bucket = await tempBucket(t, s3);
    const store = new S3ObjectStore(s3, settings);
    const key = 'p/t/_sluice/commits/partition=0/a.json';
    assert.equal(await store.getCommitRecord(bucket, key), null);
    const record = { v: 1, topic: 't', records: 5 } as unknown as CommitRecord;
    assert.equal(await store.putCommitRecord(spec(bucket), key, record), true);
    assert.equal(await store.putCommitRecord(spec(bucket), key, { ...record, records: 6 }), false);
    assert.deepEqual(await store.getCommitRecord(bucket, key), record);
  });

  test('deleteObjects removes the keys and ignores missing ones', async (t) => {
    const bucket = await tempBucket(t, s3);
    const store = new S3ObjectStore(s3, settings);
    for (const k of ['a', 'b', 'c']) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: k }));
    await store.deleteObjects(bucket, ['a', 'b', 'missing']);
    await assert.rejects(readBack(s3, bucket, 'a'));
    await assert.rejects(readBack(s3, bucket, 'b'));
    assert.equal((await readBack(s3, bucket, 'c')).toString(), 'c');
  });
});
