/**
 * Issue 16, patterns: a topic pattern registers the Kafka topics it takes, with its settings
 * and its name on each record, and not the ones it excludes, nor internal topics its wildcard
 * matches, unless another pattern names them; a topic created after the pattern is picked up
 * by the leader's discovery and its records land in S3 exactly once; GET and the status say
 * which pattern brought each topic in; a topic the operator unregistered is not registered
 * again; a pattern that does not compile is refused with 400 naming the problem.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSluiceCli } from '../helpers/cli-run.ts';
import { verifyEnd } from '../helpers/end-check.ts';
import { createTopic, type TestTopic } from '../helpers/kafka.ts';
import { produceTagged } from '../helpers/load.ts';
import { uniqueName, waitFor } from '../helpers/processes.ts';
import { metricValue, scrape } from '../helpers/prometheus.ts';
import { topicStack } from '../helpers/topic-stack.ts';

const stack = topicStack('topic-patterns', { SLUICE_PATTERN_DISCOVERY_INTERVAL_MS: '1000' });
const { api, bucket, kafka, s3 } = stack;
const prefix = 'patterns';
/** Every topic of this file starts with it, so the patterns take nothing of other tests. */
const base = uniqueName('pat');
const esc = (s: string) => s.replace(/[.-]/g, '\\$&');

const made: TestTopic[] = [];
async function kafkaTopic(name: string): Promise<TestTopic> {
  const t = await createTopic(kafka, name, 2);
  made.push(t);
  return t;
}
test.after(async () => {
  for (const t of made) await t.delete();
});

interface PatternView {
  name: string;
  deletedTopics: string[];
  topics: string[];
  discovery: { at: string; registered: string[]; refused: Array<{ topic: string; error: string }> } | null;
}

/** The pattern after a discovery pass that began after `since` (ISO time). */
async function passAfter(name: string, since: string): Promise<PatternView> {
  return waitFor(`a discovery pass of ${name} after ${since}`, async () => {
    const res = await api.get<PatternView>(`/api/v1/patterns/${name}`);
    return res.body.discovery && res.body.discovery.at > since ? res.body : false;
  });
}

test('a pattern that does not compile, or nests quantifiers, is refused with 400 naming the field', async () => {
  const res = await api.post('/api/v1/patterns', {
    name: 'broken',
    pattern: `${esc(base)}\\.(eu`,
    settings: { destination: { bucket, prefix } },
  });
  assert.equal(res.status, 400, JSON.stringify(res.body));
  assert.equal(res.body.code, 'SLUICE_ERR_VALIDATION');
  assert.equal(res.body.problems[0].path, 'pattern');
  assert.match(res.body.problems[0].message, /not a valid JavaScript regular expression/);
  const nested = await api.post('/api/v1/patterns', {
    name: 'slow',
    pattern: '(a+)+b',
    settings: { destination: { bucket, prefix } },
  });
  assert.equal(nested.status, 400);
  assert.match(nested.body.message, /pattern: must not repeat a group that itself repeats/);
  assert.equal((await api.get('/api/v1/patterns/broken')).status, 404, 'nothing stored');
});

test('a pattern registers the topics it takes now and later; exclusions, internal topics and deleted topics stay out', async (t) => {
  const now = await kafkaTopic(`${base}.now`);
  const excluded = await kafkaTopic(`${base}.skip`);
  // Matched by the wildcard of "lake", but internal: only a pattern naming it takes it.
  const internal = await kafkaTopic(`__${base}.internal`);
  const named = await kafkaTopic(`__${base}.named`);
  const before = await produceTagged(now, 120, 'before');

  const settings = {
    destination: { bucket, prefix },
    partitionBy: { kind: 'none' },
    maxRangeMessages: 50,
    flushIntervalMs: 300,
  };
  const created = await api.post('/api/v1/patterns', {
    name: 'lake',
    pattern: `.*${esc(base)}\\..*`,
    exclude: ['.*\\.skip'],
    settings,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const namedPattern = await api.post('/api/v1/patterns', {
    name: 'named-internal',
    pattern: esc(named.name),
    settings,
  });
  assert.equal(namedPattern.status, 201, JSON.stringify(namedPattern.body));

  const first = await waitFor('the pattern to register the existing topic', async () => {
    const res = await api.get<PatternView>('/api/v1/patterns/lake');
    return res.body.topics.includes(now.name) ? res.body : false;
  });
  assert.deepEqual(first.discovery?.refused, []);
  const shown = await api.get(`/api/v1/topics/${now.name}`);
  assert.equal(shown.status, 200);
  assert.equal(shown.body.pattern, 'lake', 'GET /topics/{t} says which pattern brought it in');
  assert.equal(shown.body.maxRangeMessages, 50, "registered with the pattern's settings");
  // The same pass saw them: neither excluded nor internal topics are registered.
  await passAfter('lake', first.discovery!.at);
  assert.equal((await api.get(`/api/v1/topics/${excluded.name}`)).status, 404, 'excluded');
  assert.equal((await api.get(`/api/v1/topics/${internal.name}`)).status, 404, 'internal, not named');
  const namedTopic = await waitFor('the pattern naming an internal topic to take it', async () => {
    const res = await api.get(`/api/v1/topics/${named.name}`);
    return res.status === 200 ? res.body : false;
  });
  assert.equal(namedTopic.pattern, 'named-internal');

  // A topic created after the pattern: picked up by the next pass, its records land exactly once.
  const later = await kafkaTopic(`${base}.later`);
  const produced = await produceTagged(later, 150, 'later');
  await waitFor('the topic created later to be registered', async () => {
    const res = await api.get(`/api/v1/topics/${later.name}`);
    return res.status === 200 && res.body.pattern === 'lake';
  });
  const end = await verifyEnd({ api, s3, admin: later.admin, bucket, prefix, topic: later.name, produced });
  await verifyEnd({ api, s3, admin: now.admin, bucket, prefix, topic: now.name, produced: before });
  const status = await api.get('/api/v1/status');
  const statusOf = (topic: string) =>
    (status.body.topics as Array<{ topic: string; pattern: string | null }>).find((x) => x.topic === topic);
  assert.equal(statusOf(later.name)?.pattern, 'lake', 'the status says which pattern brought it in');
  assert.equal(statusOf(named.name)?.pattern, 'named-internal');
  // The CLI's tables say it too.
  const sluice = (...args: string[]) => runSluiceCli(stack.master(), stack.cluster.token, args);
  const listed = await sluice('topics', 'list');
  assert.equal(listed.code, 0, listed.stderr);
  const row = listed.stdout.split('\n').find((l) => l.startsWith(`${later.name} `));
  assert.match(row ?? '', /\slake$/, `sluice topics list shows the pattern: ${listed.stdout}`);
  const statusText = await sluice('status');
  assert.match(statusText.stdout.split('\n').find((l) => l.startsWith(`${later.name} `)) ?? '', /\slake$/);
  const patterns = await sluice('patterns', 'show', 'lake');
  assert.equal(patterns.code, 0, patterns.stderr);
  assert.match(patterns.stdout, new RegExp(`topics: .*${esc(later.name)}`));
  const metrics = await scrape(stack.master().url);
  assert.ok(
    metricValue(metrics, 'sluice_pattern_registrations_total', { pattern: 'lake', result: 'registered' }) >=
      2,
  );

  // Unregistered by the operator: the pattern remembers it and does not take it back.
  assert.equal((await api.del(`/api/v1/topics/${later.name}`)).status, 202);
  assert.deepEqual((await api.get<PatternView>('/api/v1/patterns/lake')).body.deletedTopics, [later.name]);
  await waitFor(
    `${later.name} to be removed`,
    async () => (await api.get(`/api/v1/topics/${later.name}`)).status === 404,
  );
  const gone = new Date().toISOString();
  await passAfter('lake', gone);
  await passAfter('lake', new Date().toISOString());
  assert.equal((await api.get(`/api/v1/topics/${later.name}`)).status, 404, 'not registered again');

  // Deleting the pattern leaves its topics registered.
  assert.equal((await api.del('/api/v1/patterns/lake')).status, 200);
  assert.equal((await api.get(`/api/v1/topics/${now.name}`)).body.pattern, 'lake');
  t.diagnostic(`${produced.length} records of the later topic in ${end.commitRecords} commit records`);
});
