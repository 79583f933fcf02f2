/**
 * Issue 15 point 4: an event-time field in epoch seconds silently landed in `dt=1970-01-21`.
 * Against the real stack: with `unit: "s"` the records land in their own day's folder; the
 * same topic declared in `ms` (or with no unit, read as milliseconds) is refused at
 * registration, in the dry run and by a PATCH, with a message naming the field, the unit, an
 * example and what it read as, and the fix; records that fall back to Kafka time are counted
 * in the status and the master's metrics, not only in commit records.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { timeFolder } from '@sluice/shared';
import { waitCommitted } from '../helpers/end-check.ts';
import { highWatermarks, type TestTopic } from '../helpers/kafka.ts';
import { waitFor } from '../helpers/processes.ts';
import { metricValue, scrape } from '../helpers/prometheus.ts';
import { listAll } from '../helpers/s3.ts';
import { topicStack } from '../helpers/topic-stack.ts';

const { s3, bucket, api, master, newTopic } = topicStack('event-time-units');
const prefix = 'units';

function body(t: TestTopic, unit?: string): Record<string, unknown> {
  return {
    topic: t.name,
    destination: { bucket, prefix },
    partitionBy: { kind: 'event-time', field: 'event.ts', granularity: 'day', ...(unit ? { unit } : {}) },
    maxRangeMessages: 50,
    flushIntervalMs: 300,
  };
}

function assertRefusedAsMilliseconds(
  res: { status: number; body: { code?: string; message?: string } },
  unit: 'ms' | undefined,
): void {
  assert.equal(res.status, 422, JSON.stringify(res.body));
  assert.equal(res.body.code, 'SLUICE_ERR_EVENT_TIME_UNUSABLE');
  const msg = res.body.message ?? '';
  assert.match(msg, /partitionBy\.field "event\.ts"/);
  assert.match(msg, unit ? /in unit "ms"/ : /none declared: epoch milliseconds/);
  assert.match(msg, /e\.g\. \d{10} \(partition \d, offset \d+\) reads as 1970-01-/);
  assert.match(msg, /set partitionBy\.unit to "s"/);
}

test('epoch seconds: unit "s" lands in the day of the events; "ms" and no unit are refused; fallbacks are counted', async () => {
  const t = await newTopic('seconds');
  // Noon (UTC) of today: the 120 event times, two minutes of them, stay inside one day even when
  // the test runs just after midnight, and are at most half a day ahead (a day is plausible).
  const noonSec = Math.floor(Date.now() / 86_400_000) * 86_400 + 43_200;
  const messages = Array.from({ length: 120 }, (_, i) => ({
    partition: i % 2,
    key: `k${i}`,
    value: JSON.stringify({ event: { ts: noonSec - i }, n: i }),
  }));
  // Three records without a usable event time, among the good ones: counted, not refused.
  messages.splice(30, 0, { partition: 0, key: 'no-ts', value: JSON.stringify({ event: {} }) });
  messages.splice(60, 0, { partition: 1, key: 'bad-ts', value: JSON.stringify({ event: { ts: 'soon' } }) });
  messages.splice(90, 0, { partition: 0, key: 'not-json', value: 'plain text' });
  await t.producer.send({ topic: t.name, messages });
  const hw = await highWatermarks(t.admin, t.name);

  for (const unit of ['ms', undefined] as const) {
    assertRefusedAsMilliseconds(await api.post('/api/v1/topics?dryRun=true', body(t, unit)), unit);
    assertRefusedAsMilliseconds(await api.post('/api/v1/topics', body(t, unit)), unit);
  }
  assert.equal(
    (await api.get(`/api/v1/topics/${t.name}`)).status,
    404,
    'a refused registration stores nothing',
  );

  const day = timeFolder('day', noonSec * 1000);
  const dry = await api.post('/api/v1/topics?dryRun=true', body(t, 's'));
  assert.equal(dry.status, 200, JSON.stringify(dry.body));
  for (const k of dry.body.output.firstKeys as string[]) assert.ok(k.includes(`/${day}`), k);

  const reg = await api.post('/api/v1/topics', body(t, 's'));
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  assert.equal(reg.body.partitionBy.unit, 's');
  await waitCommitted(api, t.name, hw);

  const keys = (await listAll(s3, bucket, `${prefix}/${t.name}/`))
    .map((o) => o.key)
    .filter((k) => !k.includes('/_sluice/'));
  assert.ok(keys.length > 0);
  for (const k of keys) assert.ok(k.startsWith(`${prefix}/${t.name}/${day}`), `${k} is not in ${day}`);

  const topicStatus = await waitFor(
    'the status to count the fallbacks',
    async () => {
      const s = await api.get('/api/v1/status');
      const found = s.body.topics.find((x: { topic: string }) => x.topic === t.name);
      return found?.eventTimeFallbacks === 3 ? found : false;
    },
    30_000,
    300,
  );
  assert.equal(
    topicStatus.partitions.reduce(
      (n: number, p: { eventTimeFallbacks: number }) => n + p.eventTimeFallbacks,
      0,
    ),
    3,
  );
  assert.equal(
    metricValue(await scrape(master().url), 'sluice_event_time_fallbacks_total', { topic: t.name }),
    3,
  );

  // Changing the unit to one the records are not in is refused too; the topic keeps "s".
  const patch = await api.patch(`/api/v1/topics/${t.name}`, {
    partitionBy: { kind: 'event-time', field: 'event.ts', granularity: 'day', unit: 'ms' },
  });
  assertRefusedAsMilliseconds(patch, 'ms');
  assert.equal((await api.get(`/api/v1/topics/${t.name}`)).body.partitionBy.unit, 's');
});

test('ISO text declared as seconds is refused with the unit it reads in; an empty topic has nothing to check', async () => {
  const t = await newTopic('iso');
  await t.producer.send({
    topic: t.name,
    messages: [{ partition: 0, value: JSON.stringify({ event: { ts: new Date().toISOString() } }) }],
  });
  const res = await api.post('/api/v1/topics?dryRun=true', body(t, 's'));
  assert.equal(res.status, 422, JSON.stringify(res.body));
  assert.match(
    res.body.message,
    /in unit "s": 1 of 1 sampled values .* does not parse; .*set partitionBy\.unit to "iso8601"/,
  );

  const empty = await newTopic('empty');
  const reg = await api.post('/api/v1/topics', body(empty, 'ms'));
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
});
