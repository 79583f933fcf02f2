/**
 * The range processor against the real ZooKeeper and S3 of the local stack (Kafka replaced
 * by an in-memory reader: it is not what is under test here).
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, type TestContext, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import {
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  type CommitRecord,
  commitRecordKey,
  decodeJson,
  ErrorCodes,
  encodeJson,
  newRange,
  type OutputSpec,
  type RangeJobData,
  type RangeRecord,
  rangePath,
  requeue,
  SluiceError,
  type ZkSession,
} from '@sluice/shared';
import type { Job } from 'bullmq';
import { pino } from 'pino';
import { type ObjectStore, S3ObjectStore } from '../../packages/worker/src/object-writer.ts';
import { createRangeJobHandler } from '../../packages/worker/src/range-job-handler.ts';
import { RangeProcessor, type RangeProcessorSettings } from '../../packages/worker/src/range-processor.ts';
import type { FetchedRecord } from '../../packages/worker/src/range-reader.ts';
import { FakeReader, jsonRecord } from '../../packages/worker/test/helpers/fake-reader.ts';
import { tempBucket, tempZk, testS3 } from '../helpers/worker-stack.ts';

const TOPIC = 'orders';
const PARTITION = 2;
const START = 1000n;
const END = 1600n;
const HOUR = Date.UTC(2026, 10, 25, 8); // 2026-11-25T08:00Z

function outputSpec(bucket: string, over: Partial<OutputSpec> = {}): OutputSpec {
  return {
    destination: { bucket, prefix: 'lake' },
    format: 'jsonl',
    compression: 'gzip',
    partitionBy: { kind: 'kafka-time', granularity: 'hour' },
    serverSideEncryption: 'none',
    kmsKeyId: '',
    storageClass: 'STANDARD',
    ...over,
  };
}

/** 600 records over [1000, 1600): every 7th offset missing (compaction), two hours of timestamps. */
function records(): FetchedRecord[] {
  const out: FetchedRecord[] = [];
  for (let o = START; o < END; o++) {
    if (o % 7n === 0n || o === END - 1n) continue;
    const i = Number(o - START);
    out.push(jsonRecord(o, HOUR + i * 12_000, { n: i, big: '12345678901234567890' }, `k${i % 10}`));
  }
  // A tombstone and a binary value.
  out.push({
    offset: END - 1n,
    timestamp: BigInt(HOUR + 3_600_000 + 1),
    key: Buffer.from('gone'),
    value: null,
    headers: [],
  });
  const last = out.findIndex((r) => r.offset === END - 2n);
  out[last] = { ...out[last]!, value: Buffer.from([0xff, 0xfe, 0x00]) };
  return out;
}

interface Setup {
  zk: ZkSession;
  s3: S3Client;
  bucket: string;
  spec: OutputSpec;
  store: S3ObjectStore;
  job: RangeJobData;
  path: string;
  processor(
    reader: FakeReader,
    settings?: Partial<RangeProcessorSettings>,
    log?: pino.Logger,
  ): RangeProcessor;
  node(): Promise<{ record: RangeRecord; version: number }>;
  setNode(change: (r: RangeRecord) => RangeRecord): Promise<void>;
  listKeys(): Promise<string[]>;
  get(key: string): Promise<Buffer>;
}

async function setup(t: TestContext, specOver: Partial<OutputSpec> = {}): Promise<Setup> {
  const s3 = testS3();
  const zk = await tempZk(t);
  const bucket = await tempBucket(t, s3);
  const spec = outputSpec(bucket, specOver);
  const store = new S3ObjectStore(s3, {
    partSizeBytes: 5 * 1024 * 1024,
    uploadQueueSize: 2,
    conditionalWrites: true,
  });
  const range = { topic: TOPIC, partition: PARTITION, start: START, end: END };
  const path = rangePath(range);
  const now = new Date().toISOString();
  const record: RangeRecord = newRange(
    { topic: TOPIC, topicId: 'Xq8bYVgIQ0a1-topic-id', partition: PARTITION, output: spec },
    { start: START, end: END },
    now,
  );
  await zk.mkdirp(path.slice(0, path.lastIndexOf('/')));
  await zk.create(path, encodeJson(record));
  const job: RangeJobData = {
    v: 1,
    topic: TOPIC,
    topicId: record.topicId,
    partition: PARTITION,
    start: record.start,
    end: record.end,
    attempt: 1,
    output: spec,
    plannedAt: now,
  };
  const silent = pino({ level: 'silent' });
  const s: Setup = {
    zk,
    s3,
    bucket,
    spec,
    store,
    job,
    path,
    processor: (reader, settings = {}, log = silent) =>
      new RangeProcessor({
        zk: () => zk,
        store,
        reader,
        settings: { workerId: 'worker-a', progressIntervalMs: 50, verifyOnRetry: false, ...settings },
        log,
      }),
    async node() {
      const n = await zk.get(path);
      assert.ok(n, 'range node exists');
      return { record: decodeJson<RangeRecord>(n.data, 'range'), version: n.version };
    },
    async setNode(change) {
      const { record: r, version } = await s.node();
      await zk.set(path, encodeJson(change(r)), version);
    },
    async listKeys() {
      const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      return (res.Contents ?? []).map((o) => o.Key!).sort();
    },
    async get(key) {
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await res.Body!.transformToByteArray());
    },
  };
  return s;
}

const commitKey = (s: Setup) =>
  commitRecordKey(s.spec.destination.prefix, { topic: TOPIC, partition: PARTITION, start: START, end: END });

async function snapshot(s: Setup): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const k of await s.listKeys()) if (!k.includes('/_sluice/')) out.set(k, await s.get(k));
  return out;
}

describe('range processor (real ZooKeeper and S3)', () => {
  test('writes one object per hour, then the commit record, then marks the range done', async (t) => {
    const s = await setup(t);
    const input = records();
    const out = await s.processor(new FakeReader(input, { batchSize: 64 })).process(s.job);
    assert.equal(out.outcome, 'written');

    const hour8 =
      'lake/orders/dt=2026-11-25/hr=08/orders-2-00000000000000001000-00000000000000001600.jsonl.gz';
    const hour9 =
      'lake/orders/dt=2026-11-25/hr=09/orders-2-00000000000000001000-00000000000000001600.jsonl.gz';
    assert.deepEqual(await s.listKeys(), [commitKey(s), hour8, hour9].sort());

    // Every record is in exactly one object, in offset order, readable as JSON lines.
    const all: Array<Record<string, unknown>> = [];
    for (const key of [hour8, hour9]) {
      const text = gunzipSync(await s.get(key)).toString('utf8');
      assert.ok(text.endsWith('\n'));
      all.push(
        ...text
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l)),
      );
    }
    assert.equal(all.length, input.length);
    assert.deepEqual(
      all.map((r) => BigInt(r.offset as number)),
      input.map((r) => r.offset),
    );
    const tomb = all.find((r) => r.offset === Number(END - 1n))!;
    assert.equal(tomb.value, null);
    const bin = all.find((r) => r.offset === Number(END - 2n))!;
    assert.equal(bin.valueEncoding, 'base64');

    // The node: done, with the result, and every key recorded.
    const { record } = await s.node();
    assert.equal(record.state, 'done');
    assert.equal(record.worker, 'worker-a');
    assert.deepEqual([...record.keys].sort(), [hour8, hour9]);
    const result = record.result!;
    assert.equal(result.records, input.length);
    assert.equal(result.tombstones, 1);
    assert.equal(result.binaryValues, 1);
    assert.deepEqual(
      result.objects.map((o) => o.key),
      [hour8, hour9],
    );
    assert.equal(
      result.objects.reduce((n, o) => n + o.records, 0),
      input.length,
    );
    assert.equal(result.objects[0]!.firstOffset, input[0]!.offset.toString());
    assert.equal(result.objects[1]!.lastOffset, '1599');
    assert.equal(BigInt(result.objects[1]!.firstOffset), BigInt(result.objects[0]!.lastOffset) + 1n);

    // The commit record says the same.
    const commit = JSON.parse((await s.get(commitKey(s))).toString()) as CommitRecord;
    assert.equal(commit.v, 1);
    assert.equal(commit.start, '1000');
    assert.equal(commit.end, '1600');
    assert.deepEqual(commit.objects, result.objects);
    assert.deepEqual(commit.output, s.spec);
    for (const o of commit.objects) assert.equal(o.bytes, (await s.get(o.key)).length);
  });

  test('a second run of the same job leaves every object byte-identical and reports done', async (t) => {
    const s = await setup(t);
    const input = records();
    await s.processor(new FakeReader(input, { batchSize: 50 })).process(s.job);
    const first = await snapshot(s);
    const firstCommit = await s.get(commitKey(s));

    // The node is done: the job is only reported.
    const again = await s.processor(new FakeReader(input)).process(s.job);
    assert.equal(again.outcome, 'already-done');

    // The node write was lost (still active): the commit record decides.
    await s.setNode((r) => ({ ...r, state: 'active', result: null }));
    const reader = new FakeReader(input);
    const fromCommit = await s.processor(reader).process(s.job);
    assert.equal(fromCommit.outcome, 'committed-earlier');
    assert.equal(reader.reads, 0, 'nothing re-read');
    assert.equal((await s.node()).record.state, 'done');

    // A crash before the commit record: everything is rewritten, to the same bytes, even
    // though Kafka hands out the records in different batches this time.
    await s.setNode((r) => ({ ...r, state: 'active', result: null }));
    await s.store.deleteObjects(s.bucket, [commitKey(s)]);
    const rewritten = await s.processor(new FakeReader(input, { batchSize: 7 })).process(s.job);
    assert.equal(rewritten.outcome, 'written');
    const second = await snapshot(s);
    assert.deepEqual([...second.keys()], [...first.keys()]);
    for (const [k, bytes] of first) assert.ok(second.get(k)!.equals(bytes), `${k} is byte-identical`);
    const c1 = JSON.parse(firstCommit.toString()) as CommitRecord;
    const c2 = JSON.parse((await s.get(commitKey(s))).toString()) as CommitRecord;
    assert.deepEqual(c2.objects, c1.objects);
    assert.equal((await s.node()).record.state, 'done');
  });

  test('a stale attempt writes nothing', async (t) => {
    const s = await setup(t);
    await s.setNode((r) => requeue(r, 'worker-lost'));
    const before = await s.node();
    const reader = new FakeReader(records());
    const out = await s.processor(reader).process(s.job);
    assert.equal(out.outcome, 'stale');
    assert.equal(reader.reads, 0);
    assert.deepEqual(await s.listKeys(), []);
    const after = await s.node();
    assert.equal(after.version, before.version, 'node untouched');
  });

  test('an attempt superseded mid-read stops at its next write and commits nothing', async (t) => {
    const s = await setup(t);
    const reader = new FakeReader(records(), {
      batchSize: 50,
      beforeBatch: async (i) => {
        if (i === 3) await s.setNode((r) => requeue(r, 'stalled'));
        if (i >= 3) await new Promise((r) => setTimeout(r, 40));
      },
    });
    const out = await s.processor(reader).process(s.job);
    assert.equal(out.outcome, 'stale');
    assert.ok(!(await s.listKeys()).includes(commitKey(s)), 'no commit record');
    const { record } = await s.node();
    assert.equal(record.attempt, 2);
    assert.equal(record.state, 'planned');
  });

  test('a missing range node ends the job quietly', async (t) => {
    const s = await setup(t);
    await s.zk.remove(s.path);
    const out = await s.processor(new FakeReader(records())).process(s.job);
    assert.equal(out.outcome, 'gone');
    assert.deepEqual(await s.listKeys(), []);
  });

  test('keys left by an earlier attempt that the commit record does not list are removed once it stands', async (t) => {
    const s = await setup(t, { partitionBy: { kind: 'none' } });
    const leftover =
      'lake/orders/dt=2020-01-01/hr=00/orders-2-00000000000000001000-00000000000000001600.jsonl.gz';
    await s.setNode((r) => ({ ...r, keys: [leftover] }));
    await s.store.deleteObjects(s.bucket, []);
    const sink = s.store.openObject(s.spec, leftover);
    sink.end(Buffer.from('partial'));
    await sink.result;
    const out = await s.processor(new FakeReader(records())).process(s.job);
    assert.equal(out.outcome, 'written');
    const keys = await s.listKeys();
    assert.ok(!keys.includes(leftover), 'leftover removed');
    assert.deepEqual(
      (await s.node()).record.result!.objects.map((o) => o.key),
      ['lake/orders/orders-2-00000000000000001000-00000000000000001600.jsonl.gz'],
    );
  });

  test('an object an earlier attempt left under a key this attempt writes is overwritten, never removed first', async (t) => {
    // Removing it first would lose its records if a superseded attempt still alive then
    // committed it while this one died before writing it again (test/faults/02b-two-live-attempts).
    const s = await setup(t, { partitionBy: { kind: 'none' } });
    const key = 'lake/orders/orders-2-00000000000000001000-00000000000000001600.jsonl.gz';
    await s.setNode((r) => ({ ...r, keys: [key] }));
    const sink = s.store.openObject(s.spec, key);
    sink.end(Buffer.from('partial'));
    await sink.result;
    const deletes: string[] = [];
    const store = s.store;
    const spy: ObjectStore = {
      openObject: (...args) => store.openObject(...args),
      putCommitRecord: (...args) => store.putCommitRecord(...args),
      getCommitRecord: (...args) => store.getCommitRecord(...args),
      deleteObjects: (bucket, keys, signal) => {
        deletes.push(...keys);
        return store.deleteObjects(bucket, keys, signal);
      },
    };
    const out = await new RangeProcessor({
      zk: () => s.zk,
      store: spy,
      reader: new FakeReader(records()),
      settings: { workerId: 'worker-a', progressIntervalMs: 50, verifyOnRetry: false },
      log: pino({ level: 'silent' }),
    }).process(s.job);
    assert.equal(out.outcome, 'written');
    assert.deepEqual(deletes, [], 'nothing removed');
    const { record } = await s.node();
    assert.deepEqual(
      record.result!.objects.map((o) => o.key),
      [key],
    );
    assert.equal(
      gunzipSync(await s.get(key))
        .toString()
        .split('\n')
        .filter(Boolean).length,
      record.result!.records,
    );
  });

  test("compressionLevel: the range's gzip level is the objects' (header XFL: 4 fastest, 2 best), bytes read back whole", async (t) => {
    const sizes: number[] = [];
    for (const [level, xfl] of [
      [1, 4],
      [9, 2],
    ] as const) {
      const s = await setup(t, { partitionBy: { kind: 'none' }, compressionLevel: level });
      assert.equal((await s.processor(new FakeReader(records())).process(s.job)).outcome, 'written');
      const [key] = (await s.listKeys()).filter((k) => !k.includes('/_sluice/'));
      const body = await s.get(key as string);
      assert.equal(body[8], xfl, `gzip level ${level}: XFL byte`);
      assert.equal(gunzipSync(body).toString('utf8').trimEnd().split('\n').length, records().length);
      sizes.push(body.length);
    }
    assert.ok((sizes[1] as number) < (sizes[0] as number), `level 9 smaller than 1: ${sizes.join(' vs ')}`);
  });

  test('a retention gap is recorded in the result', async (t) => {
    const s = await setup(t, { partitionBy: { kind: 'none' }, compression: 'zstd', format: 'raw' });
    const out = await s.processor(new FakeReader(records(), { logStart: 1200n })).process(s.job);
    assert.equal(out.outcome, 'written');
    const { record } = await s.node();
    assert.deepEqual(record.result!.gaps, [{ start: '1000', end: '1200', cause: 'retention' }]);
    assert.equal(record.result!.objects[0]!.firstOffset, '1200');
    assert.equal(record.result!.records, records().filter((r) => r.offset >= 1200n).length);
  });

  test('a range with no records at all still commits (no objects)', async (t) => {
    const s = await setup(t);
    const out = await s.processor(new FakeReader([], { logStart: END })).process(s.job);
    assert.equal(out.outcome, 'written');
    assert.deepEqual(await s.listKeys(), [commitKey(s)]);
    const { record } = await s.node();
    assert.equal(record.state, 'done');
    assert.deepEqual(record.result!.objects, []);
    assert.equal(record.result!.records, 0);
  });

  test('progress is written while the range is read', async (t) => {
    const s = await setup(t);
    const seen: string[] = [];
    const reader = new FakeReader(records(), {
      batchSize: 50,
      delayMs: 30,
      beforeBatch: async () => {
        const { record } = await s.node();
        if (record.progressOffset) seen.push(record.progressOffset);
      },
    });
    await s.processor(reader, { progressIntervalMs: 40 }).process(s.job);
    const moved = new Set(seen.filter((o) => o !== '1000'));
    assert.ok(moved.size >= 2, `progress moved: ${[...moved].join(',')}`);
  });

  test('an abort stops the range promptly, leaving no commit record and no open upload', async (t) => {
    const s = await setup(t);
    const ac = new AbortController();
    const reader = new FakeReader(records(), { batchSize: 20, delayMs: 20 });
    const run = s.processor(reader).process(s.job, ac.signal);
    setTimeout(() => ac.abort(new SluiceError(ErrorCodes.SHUTTING_DOWN, 'test shutdown')), 150);
    const t0 = Date.now();
    await assert.rejects(run, (err) => err instanceof SluiceError && err.code === ErrorCodes.SHUTTING_DOWN);
    assert.ok(Date.now() - t0 < 2_000, 'promptly');
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(!(await s.listKeys()).includes(commitKey(s)));
    const uploads = await s.s3.send(new ListMultipartUploadsCommand({ Bucket: s.bucket }));
    assert.equal(uploads.Uploads?.length ?? 0, 0);
    assert.equal((await s.node()).record.state, 'active', 'left for the leader to requeue');
  });

  test('verify on retry says when retention moved past a committed range', async (t) => {
    const s = await setup(t);
    await s.processor(new FakeReader(records())).process(s.job);
    await s.setNode((r) => ({ ...r, state: 'active', result: null }));
    const lines: Array<Record<string, unknown>> = [];
    const capture = new Writable({
      write(chunk, _e, cb) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        cb();
      },
    });
    const log = pino({ level: 'info' }, capture);
    const out = await s
      .processor(new FakeReader(records(), { logStart: 1300n }), { verifyOnRetry: true }, log)
      .process(s.job);
    assert.equal(out.outcome, 'committed-earlier');
    const mismatch = lines.find((l) => l.msg === 'verify found a difference');
    assert.ok(mismatch, 'logged');
    assert.equal(mismatch.level, 50);
    assert.equal(mismatch.cause, 'retention/compaction moved past the range');
  });

  test('the job handler marks the range failed when the last BullMQ attempt fails', async (t) => {
    const s = await setup(t);
    const boom = new SluiceError(ErrorCodes.KAFKA, 'broker unreachable', { retryable: true });
    const processor = s.processor(new FakeReader(records(), { failAt: { index: 1, error: boom } }));
    const handler = createRangeJobHandler({ processor, log: pino({ level: 'silent' }) });
    const job = (attemptsMade: number) =>
      ({ id: 'j', data: s.job, opts: { attempts: 3 }, attemptsMade }) as unknown as Job<unknown, never>;

    await assert.rejects(handler(job(0), 'tok'), /broker unreachable/);
    assert.equal((await s.node()).record.state, 'active', 'not the last attempt: BullMQ retries');

    await assert.rejects(handler(job(2), 'tok'), /broker unreachable/);
    const { record } = await s.node();
    assert.equal(record.state, 'failed');
    assert.equal(record.failures, 1);
    assert.match(record.error!, /SLUICE_ERR_KAFKA: broker unreachable/);
  });

  test('an aborted job (shutdown, lost session) is not marked failed, even on its last attempt', async (t) => {
    const s = await setup(t);
    const processor = s.processor(new FakeReader(records(), { batchSize: 10, delayMs: 20 }));
    const handler = createRangeJobHandler({ processor, log: pino({ level: 'silent' }) });
    const job = { id: 'j', data: s.job, opts: { attempts: 1 }, attemptsMade: 0 } as unknown as Job<
      unknown,
      never
    >;
    const ac = new AbortController();
    // BullMQ's cancelAllJobs aborts with a plain string.
    setTimeout(() => ac.abort('zookeeper session lost'), 100);
    await assert.rejects(handler(job, 'tok', ac.signal), (err) => {
      assert.ok(err instanceof SluiceError && err.code === ErrorCodes.SHUTTING_DOWN, String(err));
      assert.match(err.message, /zookeeper session lost/);
      return true;
    });
    assert.equal((await s.node()).record.state, 'active');
  });
});
