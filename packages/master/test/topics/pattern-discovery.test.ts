/**
 * The leader's discovery for topic patterns (pattern-discovery.ts) on the test kit's
 * ZooKeeper and Kafka: it registers the topics a pattern takes through the registration path,
 * with the pattern's settings and name; not excluded, internal or already registered ones; a
 * topic that appears later on the next pass; never again one the operator unregistered.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE_PATHS, loadMasterConfig, type MasterConfig, type TopicRecord } from '@sluice/shared';
import { FakeKafka, FakeZk, testLogger } from '@sluice/test-kit';
import { MasterMetrics } from '../../src/status/metrics.ts';
import type { OutputStore } from '../../src/stores/output-store.ts';
import { createPattern, type PatternRecord, rememberDeletedTopic } from '../../src/stores/pattern-store.ts';
import { createTopic, listTopics } from '../../src/stores/topic-store.ts';
import { PatternDiscovery, type PatternReports } from '../../src/topics/pattern-discovery.ts';
import { newTopicRecord, topicConfigFromBody } from '../../src/topics/topic-request.ts';

/** A destination with no commit records and no config objects: every topic starts per startFrom. */
const emptyStore = {
  list: async () => [],
  folders: async () => [],
  commits: async () => [],
  text: async () => null,
  putJson: async () => true,
} as unknown as OutputStore;

function setup() {
  const server = new FakeZk();
  for (const p of BASE_PATHS) server.put(p);
  const zk = server.session();
  const kafka = new FakeKafka();
  const config = loadMasterConfig({
    SLUICE_KAFKA_BROKERS: '127.0.0.1:1',
    SLUICE_ZOOKEEPER: '127.0.0.1:1',
    SLUICE_REDIS_URL: 'redis://127.0.0.1:1',
  }) as MasterConfig;
  const probed: string[] = [];
  const reports: PatternReports = new Map();
  const metrics = new MasterMetrics({ defaultMetrics: false });
  const discovery = new PatternDiscovery({
    deps: {
      zk: () => zk,
      kafka,
      config,
      checkDestination: async (topic) => {
        probed.push(topic);
      },
    },
    store: emptyStore,
    log: testLogger(),
    metrics,
    reports,
    intervalMs: 60_000,
  });
  return { server, zk, kafka, discovery, reports, probed, metrics };
}

const pattern = (over: Partial<PatternRecord> = {}): PatternRecord => ({
  name: 'orders',
  pattern: 'orders\\..*',
  exclude: ['orders\\.test'],
  deletedTopics: [],
  settings: { destination: { bucket: 'lake', prefix: 'raw' }, compression: 'zstd' },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

const registered = async (zk: ReturnType<FakeZk['session']>): Promise<Map<string, TopicRecord>> =>
  new Map((await listTopics(zk)).map(({ record }) => [record.topic, record]));

test('a pass registers the topics a pattern takes, with its settings and its name, and nothing else', async (t) => {
  const s = setup();
  t.after(() => s.server.closeAll());
  for (const topic of ['orders.eu', 'orders.us', 'orders.test', 'payments', '__consumer_offsets', '_schemas'])
    s.kafka.set(topic, `id-${topic}`, [[0, 0n, 10n]]);
  // Registered by name before: left as it is.
  s.kafka.set('orders.byname', 'id-byname', [[0, 0n, 5n]]);
  const byName = newTopicRecord(
    topicConfigFromBody({ topic: 'orders.byname', destination: { bucket: 'other' } }),
    'id-byname',
    new Date(),
  );
  await createTopic(s.zk, byName);
  await createPattern(s.zk, pattern());
  await createPattern(
    s.zk,
    pattern({ name: 'internal', pattern: '.*', createdAt: '2026-02-01T00:00:00.000Z' }),
  );

  await s.discovery.pass();

  const topics = await registered(s.zk);
  assert.deepEqual([...topics.keys()], ['orders.byname', 'orders.eu', 'orders.us', 'payments']);
  for (const name of ['orders.eu', 'orders.us']) {
    const r = topics.get(name)!;
    assert.equal(r.pattern, 'orders');
    assert.equal(r.compression, 'zstd');
    assert.deepEqual(r.destination, { bucket: 'lake', prefix: 'raw' });
    assert.equal(r.topicId, `id-${name}`);
  }
  assert.equal(topics.get('payments')!.pattern, 'internal', 'the catch-all takes what the first leaves');
  assert.equal(topics.get('orders.byname')!.pattern, undefined);
  assert.equal(topics.get('orders.byname')!.destination.bucket, 'other');
  assert.deepEqual(s.probed.sort(), ['orders.eu', 'orders.us', 'payments'], 'each destination probed');
  const report = s.reports.get('orders')!;
  assert.deepEqual(report.registered, ['orders.eu', 'orders.us']);
  // orders.test is excluded from "orders": the catch-all created later takes it.
  assert.deepEqual(
    s.reports.get('internal')!.contested.map((c) => `${c.topic}<${c.takenBy}`),
    ['orders.byname<orders', 'orders.eu<orders', 'orders.us<orders'],
  );
  const counted = (await s.metrics.registry.getSingleMetric('sluice_pattern_registrations_total')!.get())
    .values;
  assert.equal(
    counted.find((v) => v.labels.pattern === 'orders' && v.labels.result === 'registered')?.value,
    2,
  );
});

test('a topic created later is registered by the next pass; one the operator unregistered is not', async (t) => {
  const s = setup();
  t.after(() => s.server.closeAll());
  await createPattern(s.zk, pattern());
  await s.discovery.pass();
  assert.equal((await registered(s.zk)).size, 0, 'nothing in Kafka yet');

  s.kafka.set('orders.new', 'id-new', [[0, 0n, 3n]]);
  s.kafka.set('orders.gone', 'id-gone', [[0, 0n, 3n]]);
  await rememberDeletedTopic(s.zk, 'orders', 'orders.gone', new Date());
  await s.discovery.pass();
  assert.deepEqual([...(await registered(s.zk)).keys()], ['orders.new']);
  // A second pass finds it registered: no second registration, no refusal.
  await s.discovery.pass();
  assert.deepEqual(s.reports.get('orders')!.registered, []);
  assert.deepEqual(s.reports.get('orders')!.refused, []);
  assert.equal((await registered(s.zk)).get('orders.new')!.pattern, 'orders');
});

test('a registration that fails is reported on the pattern and tried again next pass', async (t) => {
  const s = setup();
  t.after(() => s.server.closeAll());
  // Its folder is another topic's: the registration path refuses it (409 for POST /topics).
  const holder = newTopicRecord(
    topicConfigFromBody({ topic: 'holder', destination: { bucket: 'lake', prefix: 'raw/orders.x' } }),
    'id-holder',
    new Date(),
  );
  await createTopic(s.zk, holder);
  s.kafka.set('orders.x', 'id-ox', [[0, 0n, 3n]]);
  await createPattern(s.zk, pattern());
  await s.discovery.pass();
  const report = s.reports.get('orders')!;
  assert.deepEqual(report.registered, []);
  assert.equal(report.refused.length, 1);
  assert.equal(report.refused[0]!.topic, 'orders.x');
  assert.match(report.refused[0]!.error, /SLUICE_ERR_DESTINATION_OVERLAP/);
});
