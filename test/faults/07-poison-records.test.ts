/**
 * Poison records in a topic partitioned by event time: values whose event-time field is
 * missing, unparseable, out of range or not a time; values that are not JSON; values that
 * are not UTF-8; tombstones; and Kafka timestamps outside the years 0000-9999. None blocks
 * its partition: records without a usable event time go to the folder of their Kafka
 * timestamp (clamped to the years a folder can name) and are counted in the commit records
 * (`eventTimeFallbacks`); values that are not UTF-8 are kept as base64 with
 * `"valueEncoding":"base64"` (counted as `binaryValues`). Every record lands exactly once.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { apiClient } from '../helpers/api.ts';
import { commitSpans, verifyEnd } from '../helpers/end-check.ts';
import { FaultRun } from '../helpers/fault-run.ts';
import type { TestTopic } from '../helpers/kafka.ts';
import { produceAll, toHeaders } from '../helpers/load.ts';
import { waitFor } from '../helpers/processes.ts';
import { metricValue, scrape } from '../helpers/prometheus.ts';
import { hourFolder, makeEvents, type ProducedRecord } from '../helpers/records.ts';
import { getText } from '../helpers/s3.ts';

const run = new FaultRun({ name: 'fault-poison', bucket: 'fault-poison' });
const { s3, cluster, bucket } = run;
const prefix = 'poison';
let topic: TestTopic;

before(async () => {
  // Kafka 4 refuses timestamps more than an hour ahead unless the topic allows them.
  topic = await run.topic('poison', 2, [
    { name: 'message.timestamp.after.max.ms', value: '9223372036854775807' },
  ]);
});

/** The year 10000 begins here; Kafka timestamps at or past it are bucketed in 9999-12-31 23h. */
const FOLDER_END_MS = 253_402_300_800_000;

const POISON_VALUES: Array<string | Buffer | null> = [
  '{"id":"no-event"}',
  '{"event":{"host":"x"}}',
  '{"event":{"ts":"yesterday at noon"}}',
  '{"event":{"ts":"2026-02-30T10:00:00Z"}}',
  '{"event":{"ts":-1e20}}',
  '{"event":{"ts":null}}',
  '{"event":{"ts":{"at":1}}}',
  '{"event":"2026-11-24T10:00:00Z"}',
  'GET /index.html 200 (not JSON at all)',
  'null',
  '{"broken json',
  Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x7b, 0x22]),
  Buffer.from([0xc3, 0x28, 0x0a, 0xa0, 0xa1]),
  null,
];

test('poison records fall back to Kafka time, are counted, keep their bytes, and block nothing', async (t) => {
  const good = makeEvents(6_000, {
    startMs: Date.parse('2026-11-24T08:00:00Z'),
    spanMs: 3 * 3600_000,
    partitions: 2,
  });
  const poison: Array<ProducedRecord & { timestamp?: string }> = [];
  for (let i = 0; i < 700; i++) {
    const v = POISON_VALUES[i % POISON_VALUES.length]!;
    poison.push({
      key: `poison-${String(i).padStart(4, '0')}`,
      value: typeof v === 'string' ? v : null,
      ...(Buffer.isBuffer(v) ? { valueBytes: v } : {}),
      headers: [['kind', String(i % POISON_VALUES.length)]],
      eventMs: null,
      partition: i % 2,
      // Some with Kafka timestamps a folder cannot name: far past year 9999.
      ...(i % 50 === 7 ? { timestamp: String(FOLDER_END_MS + 86_400_000) } : {}),
    });
  }
  // Poison mixed in among the good records.
  const produced: ProducedRecord[] = [];
  for (let i = 0; i < good.length; i++) {
    produced.push(good[i]!);
    if (i % 9 === 0 && poison.length > 0) produced.push(poison.shift()!);
  }
  produced.push(...poison.splice(0));
  const odd = produced.filter((p) => (p as { timestamp?: string }).timestamp);
  await produceAll(
    topic.producer,
    topic.name,
    produced.filter((p) => !(p as { timestamp?: string }).timestamp),
  );
  for (const p of odd) {
    await topic.producer.send({
      topic: topic.name,
      messages: [
        {
          partition: p.partition,
          key: p.key,
          value: p.valueBytes ?? p.value,
          headers: toHeaders(p.headers),
          timestamp: (p as { timestamp?: string }).timestamp!,
        },
      ],
    });
  }

  const master = await cluster.startMaster();
  await Promise.all([cluster.startWorker(), cluster.startWorker()]);
  const api = apiClient(master.url, cluster.token);
  const res = await api.post('/api/v1/topics', {
    topic: topic.name,
    destination: { bucket, prefix },
    format: 'jsonl',
    partitionBy: { kind: 'event-time', field: 'event.ts', granularity: 'hour' },
    maxRangeMessages: 500,
    flushIntervalMs: 500,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));

  const fallbacks = produced.filter((p) => p.eventMs === null).length;
  const binary = produced.filter((p) => p.valueBytes).length;
  await verifyEnd({
    api,
    s3,
    admin: topic.admin,
    bucket,
    prefix,
    topic: topic.name,
    produced,
    folderOf: (line, p) => hourFolder(p.eventMs ?? Math.min(line.timestamp, FOLDER_END_MS - 1)),
  });
  let counted = 0;
  let binaryCounted = 0;
  for (const list of (await commitSpans(s3, bucket, prefix, topic.name)).values()) {
    for (const c of list) {
      const rec = JSON.parse(await getText(s3, bucket, c.key)) as {
        eventTimeFallbacks: number;
        binaryValues: number;
      };
      counted += rec.eventTimeFallbacks;
      binaryCounted += rec.binaryValues;
    }
  }
  assert.equal(counted, fallbacks, 'records without a usable event time are counted');
  assert.equal(binaryCounted, binary, 'values that are not UTF-8 are counted');
  // Counted where an operator looks too, not only in commit records (issue 15 point 4).
  await waitFor(
    'the status to count the fallbacks',
    async () =>
      (await api.get('/api/v1/status')).body.topics.find((x: { topic: string }) => x.topic === topic.name)
        ?.eventTimeFallbacks === fallbacks,
    30_000,
    300,
  );
  assert.equal(
    metricValue(await scrape(master.url), 'sluice_event_time_fallbacks_total', { topic: topic.name }),
    fallbacks,
  );
  t.diagnostic(
    `${produced.length} records: ${fallbacks} bucketed by Kafka time and counted (${odd.length} with timestamps past year 9999), ` +
      `${binary} non-UTF-8 values kept as base64; every partition committed to its high watermark`,
  );
});
