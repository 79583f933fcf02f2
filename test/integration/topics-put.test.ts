/**
 * PUT /api/v1/topics/{topic} against the real ZooKeeper, Kafka and S3 of the local stack: the
 * declarative round trip a topics file relies on. Created, then unchanged (with neither the
 * ZooKeeper node nor the config object in S3 written again), the GET body PUT back unchanged,
 * a change listed field by field and visible in GET, and refusals naming the field.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { configObjectKey, createS3Client } from '@sluice/shared';
import { readTopic } from '../../packages/master/src/stores/topic-store.ts';
import { type ApiFixture, apiFixture, json } from '../../packages/master/test/api/api-fixture.ts';

let f: ApiFixture;
let s3: S3Client;
let topic: string;

before(async () => {
  f = await apiFixture({}, { stack: true });
  s3 = createS3Client(f.config);
  topic = await f.kafkaTopic(2, 5);
});
after(async () => {
  s3?.destroy();
  await f?.close();
});

const url = () => `/api/v1/topics/${topic}`;
const declared = () => ({ destination: { bucket: f.bucket, prefix: 'put' }, flushIntervalMs: 600_000 });

/** What a rewrite would change: the ZooKeeper node's version and the config object's ETag. */
async function written(): Promise<{ version: number; etag: string | undefined }> {
  const stored = await readTopic(f.zk, topic);
  assert.ok(stored, 'the topic is in ZooKeeper');
  const head = await s3.send(new HeadObjectCommand({ Bucket: f.bucket, Key: configObjectKey('put', topic) }));
  return { version: stored.version, etag: head.ETag };
}

test('PUT creates (201), then answers unchanged and writes nothing', async () => {
  const created = await f.call('PUT', url(), { topic, ...declared() });
  assert.equal(created.statusCode, 201, created.body);
  const c = json(created);
  assert.equal(c.result, 'created');
  assert.equal(c.topic.topic, topic);
  assert.equal(c.topic.state, 'active');
  assert.equal(c.topic.starts.length, 2, 'registered like a POST: where each partition starts');

  const before = await written();
  const again = await f.call('PUT', url(), declared());
  assert.equal(again.statusCode, 200, again.body);
  assert.deepEqual([json(again).result, json(again).changes], ['unchanged', []]);
  assert.deepEqual(await written(), before, 'neither ZooKeeper nor the config object was written');

  const get = await f.call('GET', url());
  assert.equal(get.statusCode, 200);
  const back = await f.call('PUT', url(), json(get));
  assert.equal(back.statusCode, 200, back.body);
  assert.deepEqual([json(back).result, json(back).changes], ['unchanged', []]);
  assert.deepEqual(await written(), before);
});

test('a change is listed field by field, a dry run stores nothing, and GET shows the change', async () => {
  const body = { ...declared(), flushIntervalMs: 60_000, compression: 'zstd' };
  const dry = await f.call('PUT', `${url()}?dryRun=true`, body);
  assert.equal(dry.statusCode, 200, dry.body);
  const plan = {
    result: 'changed',
    changes: [
      { field: 'compression', from: 'gzip', to: 'zstd', applies: 'new-ranges' },
      { field: 'flushIntervalMs', from: 600_000, to: 60_000, applies: 'now' },
    ],
  };
  assert.deepEqual({ result: json(dry).result, changes: json(dry).changes }, plan);
  assert.equal(json(dry).dryRun, true);
  assert.equal(json(await f.call('GET', url())).flushIntervalMs, 600_000, 'the dry run stored nothing');

  const res = await f.call('PUT', url(), body);
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual({ result: json(res).result, changes: json(res).changes }, plan);
  const now = json(await f.call('GET', url()));
  assert.equal(now.flushIntervalMs, 60_000);
  assert.equal(now.compression, 'zstd');

  // Omitted means the default, not "keep": PUT the first body again and both go back.
  const reverted = json(await f.call('PUT', url(), { ...declared(), flushIntervalMs: undefined }));
  assert.deepEqual(
    reverted.changes.map((c: { field: string; to: unknown }) => [c.field, c.to]),
    [
      ['compression', 'gzip'],
      ['flushIntervalMs', 600_000],
    ],
  );
});

test('refusals name the field: startFrom of a registered topic, another topic, a bad value, an unwritable bucket', async () => {
  const start = await f.call('PUT', url(), { ...declared(), startFrom: 'latest' });
  assert.equal(start.statusCode, 409, start.body);
  assert.equal(json(start).problems[0].path, 'startFrom');
  assert.match(json(start).message, /^startFrom: is decided at registration/);

  const other = await f.call('PUT', url(), { ...declared(), topic: 'someone-else' });
  assert.equal(other.statusCode, 400);
  assert.match(json(other).message, /^topic: must be the path's topic/);

  const bad = await f.call('PUT', url(), { ...declared(), flushIntervalMs: 5 });
  assert.equal(bad.statusCode, 400);
  assert.match(json(bad).message, /^flushIntervalMs: must be at least 100/);

  // A destination change goes through PATCH's checks: the bucket must exist and take writes.
  const gone = await f.call('PUT', url(), {
    ...declared(),
    destination: { bucket: `${f.bucket}-none`, prefix: 'put' },
  });
  assert.equal(gone.statusCode, 422, gone.body);
  assert.equal(json(gone).code, 'SLUICE_ERR_DESTINATION_UNUSABLE');
  assert.equal(json(await f.call('GET', url())).destination.bucket, f.bucket, 'nothing changed');
});

test('a topic Kafka does not have is refused as a POST would be', async () => {
  const res = await f.call('PUT', '/api/v1/topics/no-such-topic-put', { destination: { bucket: f.bucket } });
  assert.equal(res.statusCode, 404, res.body);
  assert.equal(json(res).code, 'SLUICE_ERR_TOPIC_NOT_IN_KAFKA');
});
