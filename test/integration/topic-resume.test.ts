/**
 * Issue 15 point 1: a topic deleted and registered again (same Kafka topic, same destination)
 * resumes each partition right after the commit records its earlier registration left in S3,
 * so nothing is written twice (with `startFrom: earliest`) and nothing produced while it was
 * unregistered is skipped (with `startFrom: latest`); the dry run and the registration answer
 * say where each partition starts. `resume: false` starts per `startFrom` anyway, and the audit
 * reports it (when, where each partition started, what was skipped or written twice).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verifyEnd, waitCommitted } from '../helpers/end-check.ts';
import { highWatermarks, type TestTopic } from '../helpers/kafka.ts';
import { produceTagged } from '../helpers/load.ts';
import { waitFor } from '../helpers/processes.ts';
import type { ProducedRecord } from '../helpers/records.ts';
import { topicStack } from '../helpers/topic-stack.ts';

const { s3, bucket, api, newTopic } = topicStack('topic-resume');
const prefix = 'resume';

interface Start {
  partition: number;
  startOffset: string;
  resumed: boolean;
  commitRecordsEnd?: string;
}

const produce = produceTagged;

function body(t: TestTopic, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    topic: t.name,
    destination: { bucket, prefix },
    partitionBy: { kind: 'none' },
    maxRangeMessages: 70,
    flushIntervalMs: 300,
    ...extra,
  };
}

/** DELETE, then wait until the leader removed the topic (404). */
async function unregister(t: TestTopic): Promise<void> {
  assert.equal((await api.del(`/api/v1/topics/${t.name}`)).status, 202);
  await waitFor(
    `${t.name} to be removed`,
    async () => (await api.get(`/api/v1/topics/${t.name}`)).status === 404,
  );
}

interface Registration {
  /** The registration answer's `starts`. */
  starts: Start[] | undefined;
  /** What the dry run just before said of each partition. */
  dryRun: Start[];
}

/** A dry run, then the registration (201). Their starts are checked by {@link assertStarts}. */
async function register(t: TestTopic, extra: Record<string, unknown> = {}): Promise<Registration> {
  const dry = await api.post('/api/v1/topics?dryRun=true', body(t, extra));
  assert.equal(dry.status, 200, JSON.stringify(dry.body));
  const res = await api.post('/api/v1/topics', body(t, extra));
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const dryRun = (dry.body.partitions as Start[]).map((p) => ({
    partition: p.partition,
    startOffset: p.startOffset,
    resumed: p.resumed,
  }));
  return { starts: res.body.starts as Start[] | undefined, dryRun };
}

/** The registration answer and its dry run both say each partition starts at `hw` (resumed or not). */
function assertStarts(r: Registration, hw: Map<number, bigint>, resumed: boolean, what: string): void {
  const expected = startsAt(hw, resumed);
  const byPartition = (a: Start, b: Start) => a.partition - b.partition;
  // commitRecordsEnd (resume: false only) is checked by the test of resume: false.
  const answered = (r.starts ?? []).map(({ partition, startOffset, resumed }) => ({
    partition,
    startOffset,
    resumed,
  }));
  assert.deepEqual(answered.sort(byPartition), expected, `registration answer: ${what}`);
  assert.deepEqual([...r.dryRun].sort(byPartition), expected, `dry run: ${what}`);
}

/** Every record produced since the topic was first registered is in S3 exactly once (end-check.ts). */
function endCheck(topic: TestTopic, produced: ProducedRecord[], logStartOffsets?: Map<number, bigint>) {
  return verifyEnd({
    api,
    s3,
    admin: topic.admin,
    bucket,
    prefix,
    topic: topic.name,
    produced,
    ...(logStartOffsets ? { logStartOffsets } : {}),
  });
}

function startsAt(hw: Map<number, bigint>, resumed: boolean): Start[] {
  return [...hw]
    .sort(([a], [b]) => a - b)
    .map(([partition, o]) => ({ partition, startOffset: o.toString(), resumed }));
}

test('startFrom earliest: registered again after DELETE, it resumes after its commit records and writes nothing twice', async (t) => {
  const topic = await newTopic('resume-early');
  const first = await produce(topic, 400, 'a');
  const hw1 = await highWatermarks(topic.admin, topic.name);
  const firstReg = await register(topic);
  await waitCommitted(api, topic.name, hw1);
  await unregister(topic);

  const second = await produce(topic, 400, 'b');
  const again = await register(topic);
  const end = await endCheck(topic, [...first, ...second]);

  assertStarts(firstReg, new Map([...hw1].map(([p]) => [p, 0n])), false, 'a first registration starts at 0');
  assertStarts(again, hw1, true, 'each partition resumes at the end of its commit records');
  const stored = (await api.get(`/api/v1/topics/${topic.name}`)).body as { resume: boolean; starts: Start[] };
  assert.equal(stored.resume, true);
  assert.deepEqual(stored.starts, again.starts, 'the stored record keeps the decision');
  t.diagnostic(
    `800 records, ${end.commitRecords} commit records, resumed at ${[...hw1.values()].join(', ')}`,
  );
});

test('startFrom latest: what was produced while unregistered is not skipped', async (t) => {
  const topic = await newTopic('resume-late');
  await produce(topic, 100, 'before');
  const hw0 = await highWatermarks(topic.admin, topic.name);
  const firstReg = await register(topic, { startFrom: 'latest' });
  await waitFor('the partitions to start', async () => {
    const r = await api.get(`/api/v1/topics/${topic.name}`);
    return (r.body.partitions as Array<{ started: boolean }>).every((p) => p.started);
  });
  const first = await produce(topic, 200, 'x');
  const hw1 = await highWatermarks(topic.admin, topic.name);
  await waitCommitted(api, topic.name, hw1);
  await unregister(topic);

  const second = await produce(topic, 200, 'y');
  const again = await register(topic, { startFrom: 'latest' });
  await endCheck(topic, [...first, ...second], hw0);

  assertStarts(firstReg, hw0, false, 'a first registration starts at the log end');
  assertStarts(again, hw1, true, 'each partition resumes after its commit records, not at the log end');
  t.diagnostic(`resumed at ${[...hw1.values()].join(', ')}; 400 records after registration in S3 once`);
});

test('resume: false starts every partition where startFrom says, and says so (the audit too)', async () => {
  const topic = await newTopic('resume-off');
  await produce(topic, 200, 'a');
  const hw1 = await highWatermarks(topic.admin, topic.name);
  await register(topic);
  await waitCommitted(api, topic.name, hw1);
  await unregister(topic);

  await produce(topic, 100, 'b');
  const hw2 = await highWatermarks(topic.admin, topic.name);
  const reg = await register(topic, { startFrom: 'latest', resume: false });
  assertStarts(reg, hw2, false, 'resume: false starts at the log end');
  const view = await waitFor('the partitions to start', async () => {
    const r = await api.get(`/api/v1/topics/${topic.name}`);
    const parts = r.body.partitions as Array<{
      started: boolean;
      partition: number;
      committedOffset: string;
    }>;
    return parts.every((p) => p.started) ? r.body : false;
  });
  assert.equal(view.resume, false);
  assert.deepEqual(view.starts, reg.starts);
  for (const p of view.partitions as Array<{ partition: number; committedOffset: string }>) {
    assert.equal(
      p.committedOffset,
      hw2.get(p.partition)!.toString(),
      `partition ${p.partition} starts at the log end`,
    );
  }
  // The audit says why the 100 records produced while unregistered are not in S3.
  const audit = await api.get(`/api/v1/topics/${topic.name}/audit`);
  assert.equal(audit.status, 200, JSON.stringify(audit.body));
  const off = audit.body.startedWithoutResume;
  assert.equal(off?.registeredAt, view.createdAt);
  assert.deepEqual(
    [...off.partitions].sort((a: Start, b: Start) => a.partition - b.partition),
    [...hw2.keys()].sort().map((p) => ({
      partition: p,
      startOffset: hw2.get(p)!.toString(),
      commitRecordsEnd: hw1.get(p)!.toString(),
      detail: `offsets [${hw1.get(p)}, ${hw2.get(p)}) not copied (after the commit records, before the start)`,
    })),
  );
});
