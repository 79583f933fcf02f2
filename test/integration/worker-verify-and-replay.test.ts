/**
 * SLUICE_VERIFY_ON_RETRY reports a difference loudly (error log, metric, a VerifyMismatch node
 * for the status), and says whether retention or compaction moved past the range; and a
 * replay's range is recorded below its replay, with its own commit record under the replay's
 * prefix. Real ZooKeeper and S3; Kafka replaced by an in-memory reader.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, type TestContext, test } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  commitRecordKey,
  decodeJson,
  encodeJson,
  newRange,
  type OutputSpec,
  type RangeJobData,
  type RangeRecord,
  rangeJobNodePath,
  type VerifyMismatch,
  verifyMismatchesPath,
  type ZkSession,
} from '@sluice/shared';
import { pino } from 'pino';
import { S3ObjectStore } from '../../packages/worker/src/object-writer.ts';
import { RangeProcessor } from '../../packages/worker/src/range-processor.ts';
import type { FetchedRecord } from '../../packages/worker/src/range-reader.ts';
import { WorkerMetrics } from '../../packages/worker/src/worker-metrics.ts';
import { FakeReader, jsonRecord } from '../../packages/worker/test/helpers/fake-reader.ts';
import { tempBucket, tempZk, testS3 } from '../helpers/worker-stack.ts';

const TOPIC = 'payments';
const HOUR = Date.UTC(2026, 10, 25, 8);

function spec(bucket: string, prefix: string): OutputSpec {
  return {
    destination: { bucket, prefix },
    format: 'jsonl',
    compression: 'gzip',
    partitionBy: { kind: 'kafka-time', granularity: 'hour' },
    serverSideEncryption: 'none',
    kmsKeyId: '',
    storageClass: 'STANDARD',
  };
}

function records(from: number, to: number): FetchedRecord[] {
  const out: FetchedRecord[] = [];
  for (let o = from; o < to; o++) out.push(jsonRecord(BigInt(o), HOUR + o * 1000, { n: o }, `k${o}`));
  return out;
}

async function plant(zk: ZkSession, job: RangeJobData): Promise<string> {
  const path = rangeJobNodePath(job);
  const now = new Date().toISOString();
  const origin = { topic: job.topic, topicId: job.topicId, partition: job.partition, output: job.output };
  const record: RangeRecord = {
    ...newRange(origin, { start: BigInt(job.start), end: BigInt(job.end) }, now),
    attempt: job.attempt,
  };
  await zk.mkdirp(path.slice(0, path.lastIndexOf('/')));
  await zk.create(path, encodeJson(record));
  return path;
}

async function setup(t: TestContext) {
  const s3 = testS3();
  const zk = await tempZk(t);
  const bucket = await tempBucket(t, s3);
  const store = new S3ObjectStore(s3, {
    partSizeBytes: 5 * 1024 * 1024,
    uploadQueueSize: 2,
    conditionalWrites: true,
  });
  const processor = (
    reader: FakeReader,
    opts: { verify?: boolean; log?: pino.Logger; metrics?: WorkerMetrics } = {},
  ) =>
    new RangeProcessor({
      zk: () => zk,
      store,
      reader,
      settings: { workerId: 'worker-v', progressIntervalMs: 50, verifyOnRetry: opts.verify ?? false },
      log: opts.log ?? pino({ level: 'silent' }),
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
    });
  return { s3, zk, bucket, store, processor };
}

function capture(): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _e, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

async function mismatches(zk: ZkSession): Promise<VerifyMismatch[]> {
  const base = verifyMismatchesPath(TOPIC);
  const out: VerifyMismatch[] = [];
  for (const name of await zk.children(base)) {
    const node = await zk.get(`${base}/${name}`);
    if (node) out.push(decodeJson<VerifyMismatch>(node.data, name));
  }
  return out;
}

describe('verify on retry and replay ranges (real ZooKeeper and S3)', () => {
  test('a re-read after retention moved past the range: error log, metric and a mismatch node that says so', async (t) => {
    const s = await setup(t);
    const job: RangeJobData = {
      v: 1,
      topic: TOPIC,
      topicId: 'tid',
      partition: 3,
      start: '100',
      end: '200',
      attempt: 1,
      output: spec(s.bucket, 'lake'),
      plannedAt: new Date().toISOString(),
    };
    const path = await plant(s.zk, job);
    assert.equal((await s.processor(new FakeReader(records(100, 200))).process(job)).outcome, 'written');
    // The range is retried after it was done (the leader never saw the completion).
    const node = await s.zk.get(path);
    const rec = decodeJson<RangeRecord>(node!.data, path);
    await s.zk.set(path, encodeJson({ ...rec, state: 'active', result: null }), node!.version);

    const metrics = new WorkerMetrics();
    const { log, lines } = capture();
    const out = await s
      .processor(new FakeReader(records(100, 200), { logStart: 150n }), { verify: true, log, metrics })
      .process(job);
    assert.equal(out.outcome, 'committed-earlier', 'the commit record stands');
    const err = lines.find((l) => l.msg === 'verify found a difference');
    assert.ok(err, 'logged');
    assert.equal(err.level, 50);
    assert.equal(err.cause, 'retention/compaction moved past the range');
    const text = await metrics.registry.metrics();
    assert.match(text, /sluice_worker_verify_mismatches_total\{cause="retention"\} 1/);
    const [m, ...more] = await mismatches(s.zk);
    assert.equal(more.length, 0);
    assert.ok(m);
    assert.deepEqual(
      [m.partition, m.start, m.end, m.cause, m.worker, m.replay],
      [3, '100', '200', 'retention', 'worker-v', null],
    );
    assert.ok(
      m.differences.some((d) => /records 50 now, 100 committed/.test(d)),
      m.differences.join('; '),
    );
  });

  test('a re-read that gives other records for the same offsets is nondeterministic', async (t) => {
    const s = await setup(t);
    const job: RangeJobData = {
      v: 1,
      topic: TOPIC,
      topicId: 'tid',
      partition: 0,
      start: '0',
      end: '50',
      attempt: 1,
      output: spec(s.bucket, 'lake'),
      plannedAt: new Date().toISOString(),
    };
    const path = await plant(s.zk, job);
    await s.processor(new FakeReader(records(0, 50))).process(job);
    const node = await s.zk.get(path);
    await s.zk.set(
      path,
      encodeJson({ ...decodeJson<RangeRecord>(node!.data, path), state: 'active' }),
      node!.version,
    );
    const changed = records(0, 50).map((r) =>
      r.offset === 7n ? jsonRecord(7n, HOUR + 7000, { n: 'seven' }, 'k7') : r,
    );
    const metrics = new WorkerMetrics();
    await s.processor(new FakeReader(changed), { verify: true, metrics }).process(job);
    assert.match(
      await metrics.registry.metrics(),
      /sluice_worker_verify_mismatches_total\{cause="nondeterministic"\} 1/,
    );
    const [m] = await mismatches(s.zk);
    assert.equal(m?.cause, 'nondeterministic');
    assert.match(m!.differences[0]!, /sha256/);
  });

  test('a replay range is recorded below its replay and committed under the replay prefix', async (t) => {
    const s = await setup(t);
    const job: RangeJobData = {
      v: 1,
      topic: TOPIC,
      topicId: 'tid',
      partition: 1,
      start: '10',
      end: '40',
      attempt: 1,
      output: spec(s.bucket, 'replays/r1'),
      plannedAt: new Date().toISOString(),
      replay: 'r-test-1',
    };
    const path = await plant(s.zk, job);
    assert.equal(path, `/sluice/replays/r-test-1/partitions/1/${'0'.repeat(18)}10-${'0'.repeat(18)}40`);
    const out = await s.processor(new FakeReader(records(0, 100))).process(job);
    assert.equal(out.outcome, 'written');
    const rec = decodeJson<RangeRecord>((await s.zk.get(path))!.data, path);
    assert.equal(rec.state, 'done');
    assert.equal(rec.result?.records, 30);
    const keys = ((await s.s3.send(new ListObjectsV2Command({ Bucket: s.bucket }))).Contents ?? []).map(
      (o) => o.Key,
    );
    assert.ok(
      keys.includes(commitRecordKey('replays/r1', { topic: TOPIC, partition: 1, start: 10n, end: 40n })),
      keys.join(),
    );
    assert.ok(
      keys.every((k) => k?.startsWith(`replays/r1/${TOPIC}/`)),
      keys.join(),
    );
    assert.equal(
      await s.zk.exists(`/sluice/topics/${TOPIC}/partitions/1`),
      false,
      'the topic’s own nodes are untouched',
    );
  });
});
