/**
 * Issue 18 point 7: a topic's folder is its own. Registration (and its dry run) and a
 * destination change refuse a folder equal to, inside or holding another topic's or a running
 * replay's, with 409 naming the other writer, as replays do. In-memory ZooKeeper; the check
 * comes before Kafka or S3 is asked.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeJson, type TopicRecord, topicPath } from '@sluice/shared';
import { topicRecord } from '@sluice/test-kit';
import { createReplay } from '../../src/stores/replay-store.ts';
import { createTopic } from '../../src/stores/topic-store.ts';
import { destinationConflict, topicFolder } from '../../src/topics/output-folders.ts';
import { type ApiFixture, apiFixture, json } from '../api/api-fixture.ts';
import { replayRecord } from '../helpers/leader-fixture.ts';

let f: ApiFixture;
before(async () => {
  f = await apiFixture();
  // s3://bucket-a/raw/clicks/ and s3://bucket-a/elsewhere/views/; a replay in s3://bucket-a/replays/clicks/.
  await createTopic(f.zk, topicRecord('clicks'));
  await createTopic(f.zk, topicRecord('views', { destination: { bucket: 'bucket-a', prefix: 'elsewhere' } }));
  await createReplay(f.zk, replayRecord('r-1'));
});
after(() => f?.close());

const register = (topic: string, prefix: string, bucket = 'bucket-a', query = '') =>
  f.call('POST', `/api/v1/topics${query}`, { topic, destination: { bucket, prefix } });

test('the folder check: equal, inside and holding overlap; a sibling with a common name start does not', () => {
  const clicks = topicFolder({ topic: 'clicks', destination: { bucket: 'b', prefix: 'raw' } });
  const folder = (topic: string, prefix: string, bucket = 'b') =>
    topicFolder({ topic, destination: { bucket, prefix } });
  assert.match(
    destinationConflict(folder('x', 'raw/clicks'), [clicks])!,
    /inside the folder of topic "clicks"/,
  );
  assert.match(
    destinationConflict(folder('clicks', 'raw'), [clicks])!,
    /inside the folder of topic "clicks"/,
  );
  assert.match(destinationConflict(folder('raw', ''), [clicks])!, /holds the folder of topic "clicks"/);
  assert.equal(destinationConflict(folder('clicks2', 'raw'), [clicks]), null);
  assert.equal(destinationConflict(folder('x', 'raw/clicks', 'other'), [clicks]), null, 'another bucket');
});

test('registering a topic inside another topic’s folder is 409 and names that topic and the fix', async () => {
  for (const query of ['', '?dryRun=true']) {
    const res = await register('orders', 'raw/clicks', 'bucket-a', query);
    assert.equal(res.statusCode, 409, `${query} ${res.body}`);
    assert.equal(json(res).code, 'SLUICE_ERR_DESTINATION_OVERLAP');
    assert.match(
      json(res).message,
      /s3:\/\/bucket-a\/raw\/clicks\/orders\/ is inside the folder of topic "clicks" \(s3:\/\/bucket-a\/raw\/clicks\/\); choose a prefix outside it/,
    );
  }
  const holding = await register('raw', '');
  assert.equal(holding.statusCode, 409, holding.body);
  assert.match(json(holding).message, /holds the folder of topic "clicks"/);
  const replay = await register('clicks', 'replays', 'bucket-a');
  assert.equal(replay.statusCode, 409, replay.body);
  assert.match(json(replay).message, /the folder of replay r-1/);
  assert.equal(await f.zk.exists(topicPath('orders')), false, 'nothing was stored');
});

test('a folder of its own passes the check (the in-memory Kafka then has no such topic: 404)', async () => {
  for (const [topic, prefix, bucket] of [
    ['orders', 'raw'],
    ['orders', 'raw/clicks', 'bucket-b'],
  ] as const) {
    const res = await register(topic, prefix, bucket);
    assert.equal(res.statusCode, 404, res.body);
    assert.equal(json(res).code, 'SLUICE_ERR_TOPIC_NOT_IN_KAFKA');
  }
});

test('moving a topic into another topic’s folder (PATCH) is 409 and changes nothing', async () => {
  const res = await f.call('PATCH', '/api/v1/topics/views', {
    destination: { bucket: 'bucket-a', prefix: 'raw/clicks' },
  });
  assert.equal(res.statusCode, 409, res.body);
  assert.equal(json(res).code, 'SLUICE_ERR_DESTINATION_OVERLAP');
  assert.match(
    json(res).message,
    /s3:\/\/bucket-a\/raw\/clicks\/views\/ is inside the folder of topic "clicks"/,
  );
  const stored = await f.zk.get(topicPath('views'));
  assert.equal(decodeJson<TopicRecord>(stored!.data, 'views').destination.prefix, 'elsewhere');
  // Its own folder again, or a free one, is fine.
  for (const prefix of ['elsewhere', 'fresh']) {
    const ok = await f.call('PATCH', '/api/v1/topics/views', { destination: { bucket: 'bucket-a', prefix } });
    assert.equal(ok.statusCode, 200, ok.body);
  }
});
