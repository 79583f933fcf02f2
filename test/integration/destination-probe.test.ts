/**
 * Issue 15, point 2: a destination bucket that does not exist must be refused when the topic is
 * registered, changed or dry-run, not found out range by range afterwards. Against the real
 * S3 server, ZooKeeper and Kafka of the local stack (`buildApi` + inject, the master's own S3
 * credentials). The probe's object must be gone afterwards (only the topic's config object,
 * written at registration and on every change, stays) and the audit must stay clean.
 *
 * Not covered here: a bucket the credentials may not write to. The local versitygw runs with
 * one root account and no bucket policies, so no such bucket can be made; the 403 answers are
 * checked on a fake client in packages/master/test/topics/destination-probe.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { configObjectKey, ErrorCodes, probeKey } from '@sluice/shared';
import { type ApiFixture, apiFixture, json } from '../../packages/master/test/api/api-fixture.ts';
import { getText, listAll, s3Client } from '../helpers/s3.ts';

let f: ApiFixture;
let topic: string;
let typo: string;
const s3 = s3Client();

before(async () => {
  f = await apiFixture({}, { stack: true });
  topic = await f.kafkaTopic(2);
  typo = `${f.bucket}-typo`;
});
after(async () => {
  s3.destroy();
  await f?.close();
});

/** Every key in the fixture's bucket, sorted. */
async function keys(): Promise<string[]> {
  return (await listAll(s3, f.bucket)).map((o) => o.key).sort();
}

function assertRefused(res: Awaited<ReturnType<ApiFixture['call']>>, bucket: string): void {
  assert.equal(res.statusCode, 422, res.body);
  const b = json(res);
  assert.equal(b.code, ErrorCodes.DESTINATION_UNUSABLE);
  assert.match(b.message, new RegExp(`destination\\.bucket "${bucket}"`));
  assert.match(b.message, new RegExp(`bucket "${bucket}" does not exist; create it`));
  assert.match(b.message, /change the topic's destination\.bucket/);
}

test('a registration into a bucket that does not exist is refused, and nothing is stored', async () => {
  const res = await f.call('POST', '/api/v1/topics', { topic, destination: { bucket: typo, prefix: 'raw' } });
  assertRefused(res, typo);
  assert.equal((await f.call('GET', `/api/v1/topics/${topic}`)).statusCode, 404);
});

test('the dry run reports the same problem', async () => {
  const res = await f.call('POST', '/api/v1/topics?dryRun=true', {
    topic,
    destination: { bucket: typo, prefix: 'raw' },
  });
  assertRefused(res, typo);
});

test('a registration into a real bucket leaves no probe object, and the dry run passes', async () => {
  const dry = await f.call('POST', '/api/v1/topics?dryRun=true', {
    topic,
    destination: { bucket: f.bucket, prefix: 'raw' },
  });
  assert.equal(dry.statusCode, 200, dry.body);
  const res = await f.call('POST', '/api/v1/topics', {
    topic,
    destination: { bucket: f.bucket, prefix: 'raw' },
  });
  assert.equal(res.statusCode, 201, res.body);
  // Both wrote a probe (the check is no no-op) and deleted it; the registration left its config object only.
  assert.deepEqual(f.probed.slice(-2), [f.bucket, f.bucket]);
  assert.deepEqual(await keys(), [configObjectKey('raw', topic)]);
});

test('a destination change to a bucket that does not exist is refused; the topic keeps its destination', async () => {
  const res = await f.call('PATCH', `/api/v1/topics/${topic}`, { destination: { bucket: typo } });
  assertRefused(res, typo);
  const stored = json(await f.call('GET', `/api/v1/topics/${topic}`));
  assert.deepEqual(stored.destination, { bucket: f.bucket, prefix: 'raw' });
  const moved = await f.call('PATCH', `/api/v1/topics/${topic}`, {
    destination: { bucket: f.bucket, prefix: 'moved' },
  });
  assert.equal(moved.statusCode, 200, moved.body);
  // The change wrote the config object into the new destination (with the old one as past destination).
  assert.deepEqual(await keys(), [configObjectKey('moved', topic), configObjectKey('raw', topic)]);
  const written = JSON.parse(await getText(s3, f.bucket, configObjectKey('moved', topic)));
  assert.deepEqual(written.config.destination, { bucket: f.bucket, prefix: 'moved' });
  assert.deepEqual(
    written.pastDestinations.map((d: { bucket: string; prefix: string }) => [d.bucket, d.prefix]),
    [[f.bucket, 'raw']],
  );
});

test('a probe object left behind (a crash between PUT and DELETE) does not trouble the audit', async () => {
  const key = probeKey('moved', topic, '1765000000000-0123456789ab');
  await s3.send(new PutObjectCommand({ Bucket: f.bucket, Key: key, Body: '{}\n' }));
  const res = await f.call('GET', `/api/v1/topics/${topic}/audit`);
  assert.equal(res.statusCode, 200, res.body);
  const report = json(res);
  assert.equal(report.ok, true, res.body);
  assert.deepEqual(report.findings, []);
});
