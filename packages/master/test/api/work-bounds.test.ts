/**
 * Issue 18 point 6, the parts a request can be refused for before anything runs: range sizes
 * below the installation's minimums (topics and replays), and a replay over the cap on running
 * replays. In-memory ZooKeeper; no service.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { REPLAYS_PATH, topicPath } from '@sluice/shared';
import { topicRecord } from '@sluice/test-kit';
import { createReplay } from '../../src/stores/replay-store.ts';
import { createTopic } from '../../src/stores/topic-store.ts';
import { replayRecord } from '../helpers/leader-fixture.ts';
import { type ApiFixture, apiFixture, json } from './api-fixture.ts';

let f: ApiFixture;
before(async () => {
  // The default minimums (ranges of at least 1,000 messages and 1 MiB); a cap of two running replays.
  f = await apiFixture({ SLUICE_MAX_RUNNING_REPLAYS: '2' });
  await createTopic(f.zk, topicRecord('clicks'));
});
after(() => f?.close());

const topicBody = (extra: Record<string, unknown>) => ({
  topic: 'orders',
  destination: { bucket: f.bucket, prefix: 'raw' },
  ...extra,
});

test('the minimum range sizes are the documented defaults', () => {
  assert.equal(f.config.minRangeMessages, 1000);
  assert.equal(f.config.minRangeBytes, 1024 * 1024);
  assert.equal(f.config.maxRunningReplays, 2);
});

test('a registration (and its dry run) asking for tiny ranges is 400 and says the minimum, why and the fix', async () => {
  for (const query of ['', '?dryRun=true']) {
    const res = await f.call(
      'POST',
      `/api/v1/topics${query}`,
      topicBody({ maxRangeMessages: 1, maxRangeBytes: 4096 }),
    );
    assert.equal(res.statusCode, 400, res.body);
    const problems = json(res).problems as Array<{ path: string; message: string }>;
    assert.deepEqual(
      problems.map((p) => p.path),
      ['maxRangeMessages', 'maxRangeBytes'],
    );
    assert.match(
      problems[0]!.message,
      /^must be at least 1000 \(SLUICE_MIN_RANGE_MESSAGES\), got 1: each range is a queue job, a ZooKeeper node and a commit record of its own; ask for 1000 or more, or lower SLUICE_MIN_RANGE_MESSAGES on the masters$/,
    );
    assert.match(problems[1]!.message, /^must be at least 1048576 \(SLUICE_MIN_RANGE_BYTES\), got 4096/);
  }
  assert.equal(await f.zk.exists(topicPath('orders')), false);
  // At the minimums the request goes on (the in-memory Kafka has no such topic: 404).
  const atMin = await f.call(
    'POST',
    '/api/v1/topics',
    topicBody({ maxRangeMessages: 1000, maxRangeBytes: 1048576 }),
  );
  assert.equal(atMin.statusCode, 404, atMin.body);
});

test('a PATCH to tiny ranges is 400; other changes of a topic stored with small ranges still land', async () => {
  const res = await f.call('PATCH', '/api/v1/topics/clicks', { maxRangeMessages: 999 });
  assert.equal(res.statusCode, 400, res.body);
  assert.match(json(res).message, /maxRangeMessages: must be at least 1000/);
  // topicRecord('clicks') has maxRangeMessages 100, stored before the rule: pausing it is fine.
  const pause = await f.call('PATCH', '/api/v1/topics/clicks', { paused: true });
  assert.equal(pause.statusCode, 200, pause.body);
});

test('a replay asking for tiny ranges is 400', async () => {
  const res = await f.call('POST', '/api/v1/replays', {
    topic: 'clicks',
    destination: { bucket: f.bucket, prefix: 'replays/tiny' },
    maxRangeMessages: 10,
  });
  assert.equal(res.statusCode, 400, res.body);
  assert.match(
    json(res).message,
    /maxRangeMessages: must be at least 1000 \(SLUICE_MIN_RANGE_MESSAGES\), got 10/,
  );
});

test('a replay beyond SLUICE_MAX_RUNNING_REPLAYS is 429, naming the cap, the running replays and the way out', async () => {
  await createReplay(f.zk, replayRecord('r-1'));
  await createReplay(f.zk, { ...replayRecord('r-2'), state: 'done' });
  // One running: below the cap, the request goes on (the in-memory Kafka then has no topic).
  const below = await f.call('POST', '/api/v1/replays', {
    topic: 'clicks',
    destination: { bucket: f.bucket, prefix: 'replays/two' },
  });
  assert.notEqual(below.statusCode, 429, below.body);
  await createReplay(f.zk, {
    ...replayRecord('r-3'),
    output: { ...replayRecord('r-3').output, destination: { bucket: 'bucket-a', prefix: 'replays/three' } },
  });
  const res = await f.call('POST', '/api/v1/replays', {
    topic: 'clicks',
    destination: { bucket: f.bucket, prefix: 'replays/four' },
  });
  assert.equal(res.statusCode, 429, res.body);
  assert.equal(json(res).code, 'SLUICE_ERR_LIMIT_REACHED');
  assert.match(
    json(res).message,
    /^the running replays \(2: r-1, r-3\) reach SLUICE_MAX_RUNNING_REPLAYS=2; wait until one finishes \(GET \/api\/v1\/replays\), cancel one \(DELETE \/api\/v1\/replays\/\{id\}\), or raise SLUICE_MAX_RUNNING_REPLAYS on the masters$/,
  );
  assert.deepEqual((await f.zk.children(REPLAYS_PATH)).sort(), ['r-1', 'r-2', 'r-3'], 'nothing stored');
});
