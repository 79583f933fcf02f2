/**
 * The master's topics-file mode on the real stack (SLUICE_TOPICS_FILE): a master pointed at a
 * file registers its topics and their data moves; a changed file converges (the changed topic
 * shows the change, data keeps moving); a topic the file drops stays registered and is reported
 * until the file says `prune: true`, then it is deleted; an invalid file changes nothing and the
 * status names its line; a refused change is reported with the API's reason and line, and is
 * applied once what it needed exists; a standby shows the same report, and a new leader does
 * not re-apply the file it finds applied (an API change made since stays until the file
 * changes). Each step is checked the way an operator would: the
 * status's `topicsFile`, the topic's GET, the data committed in S3, the metrics.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { apiClient } from '../helpers/api.ts';
import { waitCommitted } from '../helpers/end-check.ts';
import { createTopic, highWatermarks, type TestTopic } from '../helpers/kafka.ts';
import { produceTagged } from '../helpers/load.ts';
import { uniqueName, waitFor } from '../helpers/processes.ts';
import { metricValue, scrape } from '../helpers/prometheus.ts';
import { topicStack } from '../helpers/topic-stack.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-topics-file-'));
const file = join(dir, 'topics.yaml');
// The master starts on a file naming no topic; each test writes the next version.
writeFileSync(file, 'topics: []\n');
const stack = topicStack('topics-file', { SLUICE_TOPICS_FILE: file, SLUICE_TOPICS_FILE_INTERVAL_MS: '500' });
const { api, bucket } = stack;
let orders: TestTopic;
let clicks: TestTopic;
/** A topic the file names before it exists in Kafka (deleted when the file ends). */
const late = uniqueName('tf-late');
let lateTopic: TestTopic | undefined;

interface Report {
  path: string;
  hash: string | null;
  appliedHash: string | null;
  result: string;
  error: string | null;
  line: number | null;
  prune: boolean;
  actions: Array<{ topic: string; action: string; changes: string[]; line: number | null }>;
  refusals: Array<{ topic: string; action: string; code: string; message: string; line: number | null }>;
}

/** The file's text: one entry per topic (`extra` lines go under it), `prune` when asked. */
function topicsFile(entries: Array<{ topic: string; extra?: string[] }>, prune = false): string {
  const lines = ['# written by test/integration/topics-file.test.ts', `prune: ${prune}`, 'defaults:'];
  lines.push('  destination:', `    bucket: ${bucket}`, '  maxRangeMessages: 100', 'topics:');
  for (const e of entries) lines.push(`  - topic: ${e.topic}`, ...(e.extra ?? []).map((l) => `    ${l}`));
  return `${lines.join('\n')}\n`;
}

async function report(): Promise<Report | null> {
  const res = await api.get('/api/v1/status');
  assert.equal(res.status, 200);
  return res.body.topicsFile as Report | null;
}

/** Writes the file and waits until the leader has read it (its hash is no longer `previous`) and says `result`. */
async function converge(text: string, result: string, previous: string | null): Promise<Report> {
  writeFileSync(file, text);
  return waitFor(
    `the leader to read the new topics file and report ${result}`,
    async () => {
      const r = await report();
      if (!r || r.hash === previous || r.result !== result) return false;
      return r;
    },
    60_000,
    250,
  );
}

const actionOf = (r: Report, topic: string) => r.actions.find((a) => a.topic === topic);
const topicGet = (topic: string) => api.get(`/api/v1/topics/${topic}`);

before(async () => {
  orders = await stack.newTopic('tf-orders');
  clicks = await stack.newTopic('tf-clicks');
});

after(async () => {
  await lateTopic?.delete();
  rmSync(dir, { recursive: true, force: true });
});

let last: Report;

test("the master registers the file's topics and their data moves", async () => {
  const empty = await waitFor('the first file applied', async () => (await report())?.appliedHash ?? false);
  last = await converge(
    topicsFile([{ topic: orders.name, extra: ['flushIntervalMs: 1000'] }, { topic: clicks.name }]),
    'applied',
    empty,
  );
  assert.equal(last.path, file);
  assert.equal(last.appliedHash, last.hash);
  assert.equal(actionOf(last, orders.name)?.action, 'created');
  assert.equal(actionOf(last, orders.name)?.line, 8, 'the line of its entry');
  assert.equal(actionOf(last, clicks.name)?.action, 'created');
  const got = await topicGet(orders.name);
  assert.equal(got.status, 200);
  assert.equal(got.body.flushIntervalMs, 1000);
  assert.equal(got.body.destination.bucket, bucket, 'defaults are merged under each entry');
  await produceTagged(orders, 300, 'v1');
  await waitCommitted(api, orders.name, await highWatermarks(orders.admin, orders.name));
});

test('a changed file converges: the changed topic shows the change and its data moves', async () => {
  last = await converge(
    topicsFile([{ topic: orders.name, extra: ['flushIntervalMs: 2000'] }, { topic: clicks.name }]),
    'applied',
    last.hash,
  );
  assert.equal(actionOf(last, orders.name)?.action, 'changed');
  assert.ok(actionOf(last, orders.name)?.changes.some((c) => c.includes('flushIntervalMs')));
  assert.equal(actionOf(last, clicks.name)?.action, 'unchanged');
  assert.equal((await topicGet(orders.name)).body.flushIntervalMs, 2000);
  await produceTagged(orders, 300, 'v2');
  await waitCommitted(api, orders.name, await highWatermarks(orders.admin, orders.name));
});

test('a topic the file drops stays registered and is reported until the file says prune: true', async () => {
  const ordersOnly = [{ topic: orders.name, extra: ['flushIntervalMs: 2000'] }];
  last = await converge(topicsFile(ordersOnly), 'applied', last.hash);
  assert.equal(actionOf(last, clicks.name)?.action, 'kept');
  assert.equal(last.prune, false);
  assert.equal((await topicGet(clicks.name)).status, 200, 'still registered');
  await new Promise((r) => setTimeout(r, 1_500)); // three more reads of the same file
  assert.equal((await topicGet(clicks.name)).body.state, 'active');

  last = await converge(topicsFile(ordersOnly, true), 'applied', last.hash);
  assert.equal(last.prune, true);
  assert.equal(actionOf(last, clicks.name)?.action, 'deleted');
  assert.equal(actionOf(last, orders.name)?.action, 'unchanged');
  await waitFor('clicks unregistered', async () => (await topicGet(clicks.name)).status === 404, 60_000);
});

test('an invalid file changes nothing and the status names its line', async () => {
  // A syntax error (a second `:` on one line), and the same change of flushIntervalMs beside it.
  const broken = topicsFile([{ topic: orders.name, extra: ['flushIntervalMs: 5000 :'] }], true);
  const brokenLine = broken.split('\n').findIndex((l) => l.includes('5000 :')) + 1;
  const applied = last.appliedHash;
  last = await converge(broken, 'invalid', last.hash);
  assert.equal(last.appliedHash, applied, 'the applied content is still the previous one');
  assert.equal(last.line, brokenLine);
  assert.match(
    last.error ?? '',
    new RegExp(`topics\\.yaml:${brokenLine}:\\d+: not valid YAML.*nothing was changed`),
  );
  assert.equal((await topicGet(orders.name)).body.flushIntervalMs, 2000);
  const metrics = await scrape(stack.master().url);
  assert.ok(metricValue(metrics, 'sluice_topics_file_applies_total', { result: 'invalid' }) >= 1);
});

test("a refused change is reported with the API's reason and line, and applied once possible", async () => {
  const text = topicsFile(
    [
      { topic: orders.name, extra: ['flushIntervalMs: 5'] },
      { topic: late, extra: ['compression: zstd'] },
    ],
    true,
  );
  const badLine = text.split('\n').findIndex((l) => l.includes('flushIntervalMs: 5')) + 1;
  last = await converge(text, 'partly-refused', last.hash);
  const byTopic = new Map(last.refusals.map((r) => [r.topic, r]));
  assert.equal(byTopic.get(orders.name)?.code, 'SLUICE_ERR_VALIDATION');
  assert.equal(byTopic.get(orders.name)?.line, badLine, 'the line of the refused field');
  assert.match(byTopic.get(orders.name)?.message ?? '', /flushIntervalMs/);
  assert.equal(byTopic.get(late)?.code, 'SLUICE_ERR_TOPIC_NOT_IN_KAFKA');
  assert.equal((await topicGet(orders.name)).body.flushIntervalMs, 2000, 'the refused change did not apply');
  const metrics = await scrape(stack.master().url);
  assert.equal(metricValue(metrics, 'sluice_topics_file_refused_topics'), 2);

  // The topic appears in Kafka: the next retry registers it; the invalid value stays refused.
  lateTopic = await createTopic(stack.kafka, late, 1);
  last = await waitFor(
    'the late topic registered by a retry',
    async () => {
      const r = await report();
      return r && actionOf(r, late)?.action === 'created' ? r : false;
    },
    60_000,
    250,
  );
  assert.equal(last.result, 'partly-refused');
  assert.deepEqual(
    last.refusals.map((r) => r.topic),
    [orders.name],
  );
  assert.equal((await topicGet(late)).status, 200);
});

test('a standby shows the same report; a new leader does not re-apply the file, so an API change stays until the file changes', async () => {
  const entries = (flush: number) => [
    { topic: orders.name, extra: [`flushIntervalMs: ${flush}`] },
    { topic: late },
  ];
  last = await converge(topicsFile(entries(2000), true), 'applied', last.hash);
  const standby = await stack.cluster.startMaster();
  const standbyApi = apiClient(standby.url, stack.cluster.token);
  const seen = (await standbyApi.get('/api/v1/status')).body;
  assert.equal(seen.master.leader, false);
  assert.deepEqual(seen.topicsFile, last, 'every master answers with the leader’s report');

  // An operator's change through the API, then the leader goes away.
  assert.equal((await api.patch(`/api/v1/topics/${orders.name}`, { flushIntervalMs: 4000 })).status, 200);
  await stack.master().stop();
  await waitFor(
    'the standby to lead',
    async () => (await standbyApi.get('/api/v1/status')).body.master.leader,
  );
  await new Promise((r) => setTimeout(r, 2_000)); // four reads of the unchanged file
  assert.equal((await standbyApi.get(`/api/v1/topics/${orders.name}`)).body.flushIntervalMs, 4000);

  // The next change of the file wins, applied by the new leader.
  writeFileSync(file, topicsFile(entries(6000), true));
  const next = await waitFor('the new leader to apply the changed file', async () => {
    const r = (await standbyApi.get('/api/v1/status')).body.topicsFile as Report & { master: string };
    return r.hash !== last.hash && r.result === 'applied' ? r : false;
  });
  assert.equal(next.master, seen.master.id, 'the new leader wrote the report');
  assert.equal((await standbyApi.get(`/api/v1/topics/${orders.name}`)).body.flushIntervalMs, 6000);
});
