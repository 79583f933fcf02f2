/**
 * The leader aborts multipart uploads a killed worker left behind, on the real S3 server of
 * the local stack (ZooKeeper is the test kit's in-memory one; moved here from
 * packages/master/test/ranges because it needs S3): only under registered topics' folders, and never one whose key a range in
 * flight recorded (its attempt may still be writing it).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  ListMultipartUploadsCommand,
} from '@aws-sdk/client-s3';
import { decodeJson, encodeJson, type RangeRecord, rangePath, topicPath } from '@sluice/shared';
import { topicRecord } from '@sluice/test-kit';
import { leaderTerm } from '../../packages/master/test/helpers/leader-fixture.ts';
import { s3Client } from '../helpers/s3.ts';

test('abandoned multipart uploads under a registered topic are aborted; live and foreign ones stay', async (t) => {
  const s3 = s3Client();
  const bucket = `t-master-uploads-${randomBytes(4).toString('hex')}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const { zk, s, kafka, term } = await leaderTerm(t, 'uploads', { s3, abandonedUploadAgeMs: 0 });
  zk.defer(async () => {
    const left = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    for (const u of left.Uploads ?? []) {
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
    }
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    s3.destroy();
  });

  await s.create(
    topicPath('orders'),
    encodeJson(topicRecord('orders', { destination: { bucket, prefix: 'raw' } })),
  );
  kafka.set('orders', 'id-1', [[0, 0n, 100n]]);
  await term.tick();

  const abandoned =
    'raw/orders/dt=2026-01-01/hr=00/orders-0-00000000000000000000-00000000000000000050.jsonl.gz';
  const live = 'raw/orders/dt=2026-01-01/hr=00/orders-0-00000000000000000000-00000000000000000100.jsonl.gz';
  const foreign = 'raw/not-registered/x.jsonl.gz';
  for (const key of [abandoned, live, foreign]) {
    await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  }
  // A worker recorded `live` in the range it is writing (invariant 4).
  const path = rangePath({ topic: 'orders', partition: 0, start: 0n, end: 100n });
  const node = await s.get(path);
  const rec = decodeJson<RangeRecord>(node?.data, path);
  await s.set(path, encodeJson({ ...rec, keys: [live] }), node!.version);

  await new Promise((r) => setTimeout(r, 1_100)); // S3 reports initiation times in whole seconds
  await term.supervisor.sweep();
  assert.equal(await term.supervisor.abortAbandonedUploads(), 1);
  const left = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  assert.deepEqual((left.Uploads ?? []).map((u) => u.Key).sort(), [foreign, live].sort());
});
