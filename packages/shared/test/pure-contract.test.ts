import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  advanceCommitted,
  bucketFolder,
  bucketNameProblem,
  checkTiling,
  commitRecordKey,
  complete,
  dataObjectKey,
  fail,
  failedRetryDelayMs,
  isSluiceError,
  isStalled,
  jobId,
  loadMasterConfig,
  loadWorkerConfig,
  newRange,
  type OutputSpec,
  parseDataObjectName,
  parseRangeId,
  parseRangeJob,
  prefixProblem,
  type RangeRecord,
  rangeId,
  recordKeys,
  requeue,
  start,
  TOPIC_DEFAULTS,
  topicConfigProblems,
  topicNameProblem,
} from '@sluice/shared';
import { fileExtension } from '../src/object-key.ts';
import { padOffset } from '../src/offset-range.ts';

const spec: OutputSpec = {
  destination: { bucket: 'lake', prefix: 'raw/kafka' },
  format: 'jsonl',
  compression: 'gzip',
  partitionBy: { kind: 'kafka-time', granularity: 'hour' },
  serverSideEncryption: 'none',
  kmsKeyId: '',
  storageClass: 'STANDARD',
};

test('object keys follow the documented grammar and sort by offset', () => {
  const r = { topic: 'web.logs', partition: 3, start: 100n, end: 2000n };
  const folder = bucketFolder(spec.partitionBy, Date.parse('2026-11-24T23:59:59.999Z'));
  assert.equal(folder, 'dt=2026-11-24/hr=23/');
  assert.equal(
    dataObjectKey(spec, r, folder),
    'raw/kafka/web.logs/dt=2026-11-24/hr=23/web.logs-3-00000000000000000100-00000000000000002000.jsonl.gz',
  );
  assert.equal(
    dataObjectKey(
      { ...spec, destination: { bucket: 'b', prefix: '' }, format: 'raw', compression: 'none' },
      r,
      '',
    ),
    'web.logs/web.logs-3-00000000000000000100-00000000000000002000.txt',
  );
  assert.equal(fileExtension('jsonl', 'zstd'), 'jsonl.zst');
  assert.equal(bucketFolder({ kind: 'event-time', field: 'ts', granularity: 'day' }, 0), 'dt=1970-01-01/');
  assert.equal(
    commitRecordKey('raw/kafka', r),
    'raw/kafka/web.logs/_sluice/commits/partition=3/00000000000000000100-00000000000000002000.json',
  );
  const parsed = parseDataObjectName(dataObjectKey(spec, r, folder));
  assert.deepEqual(parsed, {
    partition: 3,
    start: 100n,
    end: 2000n,
    folder: 'raw/kafka/web.logs/dt=2026-11-24/hr=23/',
  });
  assert.ok(padOffset(9n) < padOffset(10n), 'zero padding makes lexical order numeric');
  assert.equal(padOffset(2n ** 63n - 1n), '09223372036854775807');
});

test('range ids round-trip even when the topic name has dashes; job ids have no colon', () => {
  const r = { topic: 'a-b-c', partition: 12, start: 5n, end: 9n };
  assert.deepEqual(parseRangeId(rangeId(r)), r);
  assert.ok(!jobId(r, 2).includes(':'));
  assert.throws(() => parseRangeId('nonsense'), /range id must look like/);
  assert.throws(() => parseRangeId('t-0-9-5'), /end <= start/);
});

test('names that reach ZooKeeper paths and S3 keys are validated', () => {
  assert.equal(topicNameProblem('ok.topic_1-x'), null);
  assert.match(topicNameProblem('../etc') ?? '', /may contain only/);
  assert.match(topicNameProblem('a/b') ?? '', /may contain only/);
  assert.equal(bucketNameProblem('my-bucket.logs'), null);
  assert.match(bucketNameProblem('My_Bucket') ?? '', /lowercase/);
  assert.match(bucketNameProblem('192.168.1.1') ?? '', /IP address/);
  assert.match(bucketNameProblem('ab') ?? '', /3 to 63/);
  assert.equal(prefixProblem('raw/kafka'), null);
  assert.match(prefixProblem('/abs') ?? '', /must not start with "\/"/);
  assert.match(prefixProblem('a/../b') ?? '', /"\.\." segment/);
  assert.match(prefixProblem('a\nb') ?? '', /control characters/);
  assert.match(prefixProblem('a//b') ?? '', /empty segment/);
  const problems = topicConfigProblems({
    ...TOPIC_DEFAULTS,
    topic: 't',
    destination: { bucket: 'X', prefix: '..' },
    maxRangeBytes: -1,
  });
  assert.deepEqual(
    problems.map((p) => p.path),
    ['destination.bucket', 'destination.prefix', 'maxRangeBytes'],
  );
});

function record(over: Partial<RangeRecord> = {}): RangeRecord {
  const t = new Date().toISOString();
  return {
    ...newRange({ topic: 't', topicId: 'id', partition: 0, output: spec }, { start: 0n, end: 10n }, t),
    ...over,
  };
}

test('a stale attempt can neither start, record keys, complete nor fail a range', () => {
  const r = record({ attempt: 2 });
  for (const f of [() => start(r, 1, 'w'), () => recordKeys(r, 1, ['k']), () => fail(r, 1, 'x')]) {
    assert.throws(f, (e) => isSluiceError(e, 'SLUICE_ERR_STALE_ATTEMPT'));
  }
});

test('done is terminal: never restarted, rewritten or requeued', () => {
  const active = start(record(), 1, 'w1');
  const withKeys = recordKeys(active, 1, ['a', 'b']);
  assert.deepEqual(recordKeys(withKeys, 1, ['b', 'a']), withKeys, 'known keys change nothing');
  const done = complete(withKeys, 1, {} as never);
  assert.equal(done.state, 'done');
  assert.throws(
    () => start(done, 1, 'w2'),
    (e) => isSluiceError(e, 'SLUICE_ERR_RANGE_STATE'),
  );
  assert.throws(
    () => recordKeys(done, 1, ['c']),
    (e) => isSluiceError(e, 'SLUICE_ERR_RANGE_STATE'),
  );
  assert.throws(
    () => complete(done, 1, {} as never),
    (e) => isSluiceError(e, 'SLUICE_ERR_RANGE_STATE'),
  );
  assert.throws(
    () => requeue(done, 'operator'),
    (e) => isSluiceError(e, 'SLUICE_ERR_RANGE_STATE'),
  );
  const again = requeue(withKeys, 'worker-lost');
  assert.equal(again.attempt, 2);
  assert.deepEqual(again.keys, ['a', 'b'], 'keys of earlier attempts are kept for cleanup');
});

test('stall detection, failure backoff and the committed offset', () => {
  const active = { ...start(record(), 1, 'w'), progressAt: new Date(Date.now() - 10_000).toISOString() };
  assert.ok(isStalled(active, 5_000));
  assert.ok(!isStalled(active, 60_000));
  assert.equal(failedRetryDelayMs(1), 5_000);
  assert.equal(failedRetryDelayMs(20), 300_000);
  const spans = [
    { start: 10n, end: 20n, done: true },
    { start: 0n, end: 10n, done: true },
    { start: 20n, end: 30n, done: false },
    { start: 30n, end: 40n, done: true },
  ];
  const r = advanceCommitted(0n, spans);
  assert.equal(r.committed, 20n);
  assert.deepEqual(
    r.covered.map((s) => s.start),
    [0n, 10n],
  );
  assert.equal(advanceCommitted(25n, spans).committed, 25n, 'never moves backward');
  assert.equal(checkTiling(0n, spans), 40n);
  assert.throws(
    () =>
      checkTiling(0n, [
        { start: 0n, end: 5n },
        { start: 6n, end: 9n },
      ]),
    /gap/,
  );
  assert.throws(
    () =>
      checkTiling(0n, [
        { start: 0n, end: 5n },
        { start: 4n, end: 9n },
      ]),
    /overlapping/,
  );
});

test('job payloads of an unknown version or shape are refused', () => {
  assert.throws(() => parseRangeJob({ v: 2 }), /version 2/);
  assert.throws(
    () => parseRangeJob({ v: 1, topic: 't', partition: 0, attempt: 1, start: '5', end: '5', output: spec }),
    /end 5 <= start 5/,
  );
});

test('configuration: every problem at once, by name; booleans as documented', () => {
  assert.throws(
    () =>
      loadMasterConfig({
        SLUICE_REDIS_URL: 'http://x',
        SLUICE_HTTP_PORT: 'eighty',
        SLUICE_S3_FORCE_PATH_STYLE: 'maybe',
      }),
    (e: Error) => {
      for (const name of [
        'SLUICE_KAFKA_BROKERS',
        'SLUICE_ZOOKEEPER',
        'SLUICE_REDIS_URL',
        'SLUICE_HTTP_PORT',
        'SLUICE_S3_FORCE_PATH_STYLE',
      ]) {
        assert.match(e.message, new RegExp(name));
      }
      return isSluiceError(e, 'SLUICE_ERR_CONFIG');
    },
  );
  const base = {
    SLUICE_KAFKA_BROKERS: 'k:9092',
    SLUICE_ZOOKEEPER: 'zk:2181/sluice',
    SLUICE_ZOOKEEPER_INSECURE: 'true',
    SLUICE_REDIS_URL: 'redis://r:6379',
  };
  for (const [v, want] of [
    ['1', true],
    ['yes', true],
    ['TRUE', true],
    ['0', false],
    ['no', false],
    ['false', false],
  ] as const) {
    assert.equal(loadWorkerConfig({ ...base, SLUICE_S3_FORCE_PATH_STYLE: v }).s3.forcePathStyle, want);
  }
  const w = loadWorkerConfig({
    ...base,
    SLUICE_API_TOKEN: 'a, b',
    SLUICE_PLAN_INTERVAL_MS: 'ignored by workers',
  });
  // The master's settings are not read by workers (a comma list is parsed in config-security).
  assert.deepEqual(w.apiTokens, []);
  assert.match(w.id, /^[A-Za-z0-9._-]+-\d+$/);
  assert.ok(Object.isFrozen(w));
});
