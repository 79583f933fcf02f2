/** /api/v1/topics against the real ZooKeeper and Kafka of the local stack. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJson, TOPIC_DEFAULTS, type TopicRecord, topicPath } from '@sluice/shared';
import { type ApiFixture, apiFixture, json, TOKEN } from '../../packages/master/test/api/api-fixture.ts';

let f: ApiFixture;
let topic: string;

before(async () => {
  f = await apiFixture({}, { stack: true });
  topic = await f.kafkaTopic(3, 5);
});
after(() => f?.close());

function good(overrides: Record<string, unknown> = {}) {
  return { topic, destination: { bucket: f.bucket, prefix: 'raw/' }, ...overrides };
}

async function expectProblem(body: unknown, status: number, pattern: RegExp) {
  const res = await f.call('POST', '/api/v1/topics', body);
  assert.equal(res.statusCode, status, res.body);
  const b = json(res);
  assert.deepEqual(Object.keys(b).slice(0, 4), ['statusCode', 'code', 'error', 'message']);
  assert.equal(b.statusCode, status);
  assert.match(b.message, pattern);
  return b;
}

describe('bad registrations are refused with a message naming the problem', () => {
  test('an unknown field', async () => {
    const b = await expectProblem(
      good({ maxRangeSize: 5 }),
      400,
      /^maxRangeSize: is not a known field; known fields are topic, destination, /,
    );
    assert.equal(b.code, 'SLUICE_ERR_VALIDATION');
    assert.deepEqual(b.problems[0].path, 'maxRangeSize');
  });

  test('an unknown field inside destination', async () => {
    await expectProblem(
      good({ destination: { bucket: f.bucket, region: 'eu' } }),
      400,
      /destination\.region: is not a known field; known fields are bucket, prefix/,
    );
  });

  test('a string where a number belongs is not coerced', async () => {
    await expectProblem(
      good({ maxRangeBytes: '1048576' }),
      400,
      /^maxRangeBytes: must be an integer, got the string "1048576"$/,
    );
    await expectProblem(good({ flushIntervalMs: 1.5 }), 400, /flushIntervalMs: must be an integer, got 1\.5/);
  });

  test('negative and absurd sizes', async () => {
    await expectProblem(good({ maxRangeBytes: -1 }), 400, /maxRangeBytes: must be at least 1024, got -1/);
    await expectProblem(good({ maxRangeMessages: 0 }), 400, /maxRangeMessages: must be at least 1, got 0/);
    await expectProblem(good({ maxRangeBytes: 1e15 }), 400, /maxRangeBytes: must be at most 53687091200/);
    await expectProblem(good({ flushIntervalMs: 10 }), 400, /flushIntervalMs: must be at least 100/);
  });

  test('invalid bucket names', async () => {
    for (const bucket of ['ab', 'Upper-Case', 'under_score', '192.168.1.1', 'a..b', 'xn--bucket', '-dash']) {
      await expectProblem(good({ destination: { bucket } }), 400, /^destination\.bucket: /);
    }
  });

  test('a ".." or absolute prefix, or one with control characters', async () => {
    await expectProblem(
      good({ destination: { bucket: f.bucket, prefix: 'a/../b' } }),
      400,
      /destination\.prefix: must not contain a "\.\." segment/,
    );
    await expectProblem(
      good({ destination: { bucket: f.bucket, prefix: '/abs' } }),
      400,
      /destination\.prefix: must not start with "\/"/,
    );
    await expectProblem(
      good({ destination: { bucket: f.bucket, prefix: 'a\nb' } }),
      400,
      /destination\.prefix: must not contain control characters/,
    );
  });

  test('every semantic problem at once', async () => {
    const b = await expectProblem(
      good({ destination: { bucket: 'BAD', prefix: '../x' }, kmsKeyId: 'k1' }),
      400,
      /destination\.bucket: .*; destination\.prefix: .*; kmsKeyId: is only allowed with serverSideEncryption "aws:kms"/,
    );
    assert.equal(b.problems.length, 3);
  });

  test('bad enums and partitioning', async () => {
    await expectProblem(
      good({ format: 'csv' }),
      400,
      /format: must be one of jsonl, raw, avro, parquet, got the string "csv"/,
    );
    await expectProblem(
      good({ compression: 'lz4' }),
      400,
      /compression: must be one of gzip, zstd, snappy, none, deflate/,
    );
    await expectProblem(good({ format: 'avro' }), 400, /schema: is required with format "avro"/);
    await expectProblem(
      good({ format: 'avro', schema: { source: 'inferred' } }),
      400,
      /schema\.source: must be one of registry/,
    );
    await expectProblem(
      good({ partitionBy: { kind: 'weekly' } }),
      400,
      /partitionBy\.kind: must be one of none, kafka-time, event-time/,
    );
    await expectProblem(
      good({ partitionBy: { kind: 'event-time', granularity: 'day' } }),
      400,
      /partitionBy\.field: is required/,
    );
    await expectProblem(
      good({ partitionBy: { kind: 'none', granularity: 'day' } }),
      400,
      /partitionBy\.granularity: is not a known field; known fields are kind/,
    );
  });

  test('missing topic and destination, a missing body, broken JSON', async () => {
    await expectProblem({}, 400, /topic: is required; destination: is required/);
    await expectProblem(undefined, 400, /^body: must be a JSON object/);
    const res = await f.app.inject({
      method: 'POST',
      url: '/api/v1/topics',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: '{"topic": ',
    });
    assert.equal(res.statusCode, 400);
    assert.equal(json(res).code, 'SLUICE_ERR_VALIDATION');
  });

  test('a topic name Kafka would refuse', async () => {
    await expectProblem(good({ topic: 'has space' }), 400, /topic: may contain only letters, digits/);
  });

  test('a topic Kafka does not have is 404', async () => {
    const b = await expectProblem(
      good({ topic: 'no-such-topic-in-kafka-at-all' }),
      404,
      /Kafka has no topic "no-such-topic-in-kafka-at-all"/,
    );
    assert.equal(b.code, 'SLUICE_ERR_TOPIC_NOT_IN_KAFKA');
    assert.equal(await f.zk.exists(topicPath('no-such-topic-in-kafka-at-all')), false);
  });
});

describe('a topic from registration to deletion', () => {
  let created: TopicRecord;

  test('a good registration is 201 with the stored record and its defaults', async () => {
    const res = await f.call('POST', '/api/v1/topics', good({ compression: 'zstd', maxRangeBytes: 1048576 }));
    assert.equal(res.statusCode, 201, res.body);
    created = json<TopicRecord>(res);
    assert.equal(created.topic, topic);
    assert.deepEqual(created.destination, { bucket: f.bucket, prefix: 'raw' });
    assert.equal(created.compression, 'zstd');
    assert.equal(created.maxRangeBytes, 1048576);
    assert.equal(created.format, TOPIC_DEFAULTS.format);
    assert.deepEqual(created.partitionBy, TOPIC_DEFAULTS.partitionBy);
    assert.equal(created.startFrom, 'earliest');
    assert.match(created.topicId, /\S{8,}/);
    assert.equal(created.paused, false);
    assert.equal(created.state, 'active');
    assert.equal(created.error, null);
    // What ZooKeeper holds is what was answered.
    const node = await f.zk.get(topicPath(topic));
    assert.deepEqual(decodeJson(node!.data, 'topic'), created);
  });

  test('registering it again is 409', async () => {
    const b = await expectProblem(good(), 409, /already registered; change it with PATCH/);
    assert.equal(b.code, 'SLUICE_ERR_TOPIC_EXISTS');
  });

  test('GET lists it and shows every Kafka partition with offsets as strings', async () => {
    const list = json(await f.call('GET', '/api/v1/topics'));
    const item = list.topics.find((t: TopicRecord) => t.topic === topic);
    assert.ok(item, 'the topic is listed');
    assert.deepEqual(item.summary, {
      partitions: 0,
      rangesInFlight: 0,
      committedRecords: 0,
      committedBytes: 0,
    });

    const res = await f.call('GET', `/api/v1/topics/${topic}`);
    assert.equal(res.statusCode, 200, res.body);
    const t = json(res);
    assert.equal(t.topicId, created.topicId);
    assert.equal(t.kafkaError, null);
    assert.deepEqual(
      t.partitions.map((p: any) => [p.partition, p.started, p.committedOffset, p.highWatermark, p.lag]),
      [
        [0, false, '0', '5', 5],
        [1, false, '0', '0', 0],
        [2, false, '0', '0', 0],
      ],
    );
  });

  test('GET shows committed offsets and ranges in flight from ZooKeeper', async () => {
    await f.putPartition(topic, 0, { committedOffset: '2', committedRecords: 2 });
    await f.putRange({
      topic,
      partition: 0,
      start: '2',
      end: '4',
      state: 'active',
      worker: 'w-1',
      attempt: 2,
    });
    await f.putRange({
      topic,
      partition: 0,
      start: '4',
      end: '5',
      state: 'failed',
      error: 'S3 said no',
      failures: 1,
    });
    const t = json(await f.call('GET', `/api/v1/topics/${topic}`));
    const p0 = t.partitions[0];
    assert.equal(p0.started, true);
    assert.equal(p0.committedOffset, '2');
    assert.equal(p0.highWatermark, '5');
    assert.equal(p0.lag, 3);
    assert.deepEqual(
      p0.ranges.map((r: any) => [r.id, r.start, r.end, r.attempt, r.state, r.worker, r.error]),
      [
        [`${topic}-0-2-4`, '2', '4', 2, 'active', 'w-1', null],
        [`${topic}-0-4-5`, '4', '5', 1, 'failed', null, 'S3 said no'],
      ],
    );
    const item = json(await f.call('GET', '/api/v1/topics')).topics.find(
      (x: TopicRecord) => x.topic === topic,
    );
    assert.deepEqual(item.summary, {
      partitions: 1,
      rangesInFlight: 2,
      committedRecords: 2,
      committedBytes: 0,
    });
  });

  test('PATCH pauses and changes policy; the record says so', async () => {
    const res = await f.call('PATCH', `/api/v1/topics/${topic}`, { paused: true, format: 'raw' });
    assert.equal(res.statusCode, 200, res.body);
    const t = json<TopicRecord>(res);
    assert.equal(t.paused, true);
    assert.equal(t.format, 'raw');
    assert.equal(t.compression, 'zstd');
    assert.equal(t.createdAt, created.createdAt);
    assert.ok(t.updatedAt >= created.updatedAt);
    const stored = decodeJson<TopicRecord>((await f.zk.get(topicPath(topic)))!.data, 'topic');
    assert.equal(stored.paused, true);
    const resumed = json<TopicRecord>(await f.call('PATCH', `/api/v1/topics/${topic}`, { paused: false }));
    assert.equal(resumed.paused, false);
    assert.equal(resumed.format, 'raw');
  });

  test('PATCH refuses fields it cannot change, wrong types and empty bodies', async () => {
    for (const [body, pattern] of [
      [{ topic: 'x' }, /^topic: is not a known field/],
      [{ startFrom: 'latest' }, /^startFrom: is not a known field/],
      [{ paused: 'yes' }, /^paused: must be a boolean \(true or false\), got the string "yes"/],
      [{}, /^body: must have at least 1 field/],
      [{ maxRangeMessages: -3 }, /^maxRangeMessages: must be at least 1, got -3/],
      [
        { destination: { bucket: f.bucket, prefix: '../up' } },
        /^destination\.prefix: must not contain a "\.\." segment/,
      ],
    ] as const) {
      const res = await f.call('PATCH', `/api/v1/topics/${topic}`, body);
      assert.equal(res.statusCode, 400, `${JSON.stringify(body)} → ${res.body}`);
      assert.match(json(res).message, pattern);
    }
  });

  test('concurrent PATCHes all land (version-checked writes retry)', async () => {
    const values = [1001, 1002, 1003, 1004, 1005];
    const answers = await Promise.all(
      values.map((v, i) =>
        f.call(
          'PATCH',
          `/api/v1/topics/${topic}`,
          i % 2 ? { maxRangeMessages: v } : { flushIntervalMs: v * 10 },
        ),
      ),
    );
    for (const a of answers) assert.equal(a.statusCode, 200, a.body);
    const node = await f.zk.get(topicPath(topic));
    assert.ok(node!.version >= 5 + 2, `every write made a version, got ${node!.version}`);
  });

  test('unknown and invalid topic names in the path', async () => {
    const missing = await f.call('GET', '/api/v1/topics/not-registered-here');
    assert.equal(missing.statusCode, 404);
    assert.equal(json(missing).code, 'SLUICE_ERR_TOPIC_NOT_REGISTERED');
    assert.match(
      json(missing).message,
      /not registered with Sluice; register it with POST \/api\/v1\/topics/,
    );
    assert.equal(
      (await f.call('PATCH', '/api/v1/topics/not-registered-here', { paused: true })).statusCode,
      404,
    );
    assert.equal((await f.call('DELETE', '/api/v1/topics/not-registered-here')).statusCode, 404);
    // A long but valid name reaches the handler (Fastify's default limit would answer 414).
    const longest = await f.call('GET', `/api/v1/topics/${'x'.repeat(249)}`);
    assert.equal(longest.statusCode, 404, longest.body);
    const long = await f.call('GET', `/api/v1/topics/${'x'.repeat(250)}`);
    assert.equal(long.statusCode, 400, long.body);
    assert.match(json(long).message, /params\.topic: must be at most 249 characters, got 250/);
    const dollar = await f.call('DELETE', '/api/v1/topics/bad%24name');
    assert.equal(dollar.statusCode, 400, dollar.body);
    const weird = await f.call('PATCH', `/api/v1/topics/${encodeURIComponent('a/b')}`, { paused: true });
    assert.equal(weird.statusCode, 400, weird.body);
    assert.match(json(weird).message, /params\.topic: may contain only letters/);
  });

  test('DELETE is 202 with state deleting; S3 is not asked; later changes are 409', async () => {
    const res = await f.call('DELETE', `/api/v1/topics/${topic}`);
    assert.equal(res.statusCode, 202, res.body);
    assert.equal(json<TopicRecord>(res).state, 'deleting');
    const again = await f.call('DELETE', `/api/v1/topics/${topic}`);
    assert.equal(again.statusCode, 202);
    const patch = await f.call('PATCH', `/api/v1/topics/${topic}`, { paused: true });
    assert.equal(patch.statusCode, 409);
    assert.equal(json(patch).code, 'SLUICE_ERR_TOPIC_STATE');
    const repost = await f.call('POST', '/api/v1/topics', good());
    assert.equal(repost.statusCode, 409);
    assert.match(json(repost).message, /still being deleted/);
  });
});
