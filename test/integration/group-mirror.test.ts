/**
 * Sluice's progress in Kafka's own terms, on the real stack: each topic's committed offsets
 * are mirrored into a consumer group, read back here by Kafka's own `kafka-consumer-groups`
 * tool (ConsumerGroupCommand from the stack's Kafka install) and by kafkajs' admin. The group
 * holds the committed offset (the next offset to read), follows later commits, never moves
 * backwards, leaves a group someone consumes with alone, and nothing is written when the
 * mirror is off (for a topic, or for the installation).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { loadStackEnv } from '@sluice/test-kit';
import type { Consumer } from 'kafkajs';
import { apiClient } from '../helpers/api.ts';
import { type Api, waitCommitted } from '../helpers/end-check.ts';
import { highWatermarks, type TestTopic } from '../helpers/kafka.ts';
import { produceTagged } from '../helpers/load.ts';
import { TestCluster, uniqueName, waitFor } from '../helpers/processes.ts';
import { metricValue, scrape } from '../helpers/prometheus.ts';
import { topicStack } from '../helpers/topic-stack.ts';

const run = promisify(execFile);
const stack = topicStack('group-mirror');
const env = loadStackEnv();

/** One line of `kafka-consumer-groups --describe` for a partition. */
interface DescribedRow {
  topic: string;
  partition: number;
  currentOffset: string;
  logEndOffset: string;
  lag: string;
}

/** A log4j2 configuration that keeps the tool's INFO lines off stdout. */
function quietLogConfig(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'sluice-kafka-tools-')), 'log4j2.properties');
  writeFileSync(
    file,
    [
      'rootLogger.level = error',
      'rootLogger.appenderRef.stderr.ref = STDERR',
      'appender.stderr.type = Console',
      'appender.stderr.name = STDERR',
      'appender.stderr.target = SYSTEM_ERR',
      'appender.stderr.layout.type = PatternLayout',
      'appender.stderr.layout.pattern = %m%n',
    ].join('\n'),
  );
  return file;
}
const LOG_CONFIG = quietLogConfig();

/**
 * `kafka-consumer-groups.sh --bootstrap-server … --describe --group <group>`: the stack keeps
 * Kafka's jars (not its bin/ scripts), so the tool's class is run as the script would.
 */
async function describeGroup(group: string): Promise<{ rows: DescribedRow[]; text: string }> {
  const home = env.SLUICE_STACK_KAFKA_HOME;
  assert.ok(home, 'stack.env has no SLUICE_STACK_KAFKA_HOME (the Kafka install of deploy/local/stack.sh)');
  const { stdout, stderr } = await run(
    'java',
    [
      '-Xmx128m',
      '-cp',
      `${home}/libs/*`,
      `-Dlog4j2.configurationFile=${LOG_CONFIG}`,
      'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
      '--bootstrap-server',
      env.SLUICE_KAFKA_BROKERS.split(',')[0]!,
      '--describe',
      '--group',
      group,
    ],
    { timeout: 60_000 },
  ).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    // The tool exits non-zero for a group Kafka does not know: its words are the answer.
    if (err.stdout === undefined) throw err;
    return { stdout: err.stdout, stderr: err.stderr ?? '' };
  });
  const rows: DescribedRow[] = [];
  for (const line of stdout.split('\n')) {
    const cells = line.trim().split(/\s+/);
    if (cells[0] !== group) continue;
    const [, topic, partition, currentOffset, logEndOffset, lag] = cells as [string, ...string[]];
    rows.push({
      topic: topic!,
      partition: Number(partition),
      currentOffset: currentOffset!,
      logEndOffset: logEndOffset!,
      lag: lag!,
    });
  }
  return { rows: rows.sort((a, b) => a.partition - b.partition), text: stdout + stderr };
}

/** kafkajs admin's view of a group's offsets for one topic: partition → offset (-1: none). */
async function fetchOffsets(t: TestTopic, group: string): Promise<Map<number, bigint>> {
  const [answer] = await t.admin.fetchOffsets({ groupId: group, topics: [t.name] });
  return new Map((answer?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
}

interface MirrorAnswer {
  group: string | null;
  state: string;
  message: string | null;
  mirroredAt: string | null;
  lag: number | null;
  partitions: { partition: number; offset: string | null; lag: number | null }[];
}

async function mirrorStatus(topic: string): Promise<MirrorAnswer> {
  const res = await stack.api.get('/api/v1/status');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const topics = (res.body as { topics: { topic: string; mirror: MirrorAnswer }[] }).topics;
  const t = topics.find((x) => x.topic === topic);
  assert.ok(t, `topic ${topic} is not in the status`);
  return t.mirror;
}

/** Registers `t` with small ranges, so that commits come quickly (through `api`: the file's cluster by default). */
async function register(
  t: TestTopic,
  extra: Record<string, unknown> = {},
  api: Api = stack.api,
): Promise<void> {
  const res = await api.post('/api/v1/topics', {
    topic: t.name,
    destination: { bucket: stack.bucket, prefix: 'mirror' },
    maxRangeMessages: 100,
    flushIntervalMs: 300,
    ...extra,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
}

/** A map's entries in partition order. */
const byPartition = <V>(m: Map<number, V>) => [...m].sort((a, b) => a[0] - b[0]);

const same = (a: Map<number, bigint>, b: Map<number, bigint>) =>
  a.size === b.size && [...a].every(([p, o]) => b.get(p) === o);

let moved: TestTopic;
let group: string;
/** Groups the tests made, removed when the file ends. */
const groupsMade: string[] = [];

/** The moved topic of the first three tests, made once (topicStack's own hook starts the cluster first). */
let made: Promise<void> | undefined;
function movedTopic(): Promise<void> {
  made ??= (async () => {
    moved = await stack.newTopic('mirrored', 2);
    group = `sluice.${moved.name}`;
    groupsMade.push(group);
    await produceTagged(moved, 300, 'first');
    await register(moved);
  })();
  return made;
}

test("the group holds each partition's committed offset, as kafka-consumer-groups and kafkajs admin read it", async () => {
  await movedTopic();
  const hw = await highWatermarks(moved.admin, moved.name);
  const view = await waitCommitted(stack.api, moved.name, hw);
  const committed = new Map(view.partitions.map((p) => [p.partition, BigInt(p.committedOffset)]));
  // Kafka's convention is the next offset to read: Sluice's committed offset, unchanged.
  await waitFor('the mirror group to hold the committed offsets', async () =>
    same(await fetchOffsets(moved, group), committed),
  );
  const { rows, text } = await describeGroup(group);
  assert.deepEqual(
    rows.map((r) => [r.topic, r.partition, r.currentOffset, r.logEndOffset, r.lag]),
    byPartition(committed).map(([p, o]) => [moved.name, p, o.toString(), hw.get(p)!.toString(), '0']),
    text,
  );
  const status = await waitFor('the status to say following', async () => {
    const m = await mirrorStatus(moved.name);
    return m.state === 'following' && m.partitions.every((p) => p.offset !== null) ? m : null;
  });
  assert.equal(status.group, group);
  assert.equal(status.lag, 0);
  assert.deepEqual(
    status.partitions.map((p) => [p.partition, p.offset]),
    byPartition(committed).map(([p, o]) => [p, o.toString()]),
  );
});

test('the group follows a later commit, and LAG shows what is not yet in S3', async () => {
  await movedTopic();
  // Records beyond what Sluice has, in a paused topic: the tool shows them as the group's lag.
  assert.equal((await stack.api.patch(`/api/v1/topics/${moved.name}`, { paused: true })).status, 200);
  // A planning pass that read the topic before the change ends within a few passes (250 ms each).
  await new Promise((r) => setTimeout(r, 2_000));
  const before = await fetchOffsets(moved, group);
  await produceTagged(moved, 200, 'second');
  const hw = await highWatermarks(moved.admin, moved.name);
  const { rows } = await describeGroup(group);
  assert.deepEqual(
    rows.map((r) => [r.partition, r.currentOffset, r.lag]),
    byPartition(before).map(([p, o]) => [p, o.toString(), (hw.get(p)! - o).toString()]),
  );
  assert.equal((await stack.api.patch(`/api/v1/topics/${moved.name}`, { paused: false })).status, 200);
  await waitCommitted(stack.api, moved.name, hw);
  await waitFor('the group to follow the new commits', async () =>
    same(await fetchOffsets(moved, group), hw),
  );
  const after = await describeGroup(group);
  assert.deepEqual(
    after.rows.map((r) => [r.partition, r.currentOffset, r.lag]),
    byPartition(hw).map(([p, o]) => [p, o.toString(), '0']),
  );
});

test('a group someone moved ahead is reported and never moved back', async () => {
  await movedTopic();
  const ahead = (await highWatermarks(moved.admin, moved.name)).get(0)! + 10_000n;
  await moved.admin.setOffsets({
    groupId: group,
    topic: moved.name,
    partitions: [{ partition: 0, offset: String(ahead) }],
  });
  await produceTagged(moved, 200, 'third');
  const hw = await highWatermarks(moved.admin, moved.name);
  await waitCommitted(stack.api, moved.name, hw);
  // Partition 1 follows; partition 0 stays where someone put it.
  await waitFor('partition 1 to follow', async () => (await fetchOffsets(moved, group)).get(1) === hw.get(1));
  const reported = new RegExp(`partition 0 at ${ahead} \\(Sluice committed ${hw.get(0)}\\)`);
  const m = await waitFor('the status to report the group ahead of the last commit', async () => {
    const s = await mirrorStatus(moved.name);
    return s.state === 'group-ahead' && reported.test(s.message ?? '') ? s : null;
  });
  assert.equal(m.group, group);
  const { rows } = await describeGroup(group);
  assert.equal(rows.find((r) => r.partition === 0)?.currentOffset, String(ahead));
  assert.equal(rows.find((r) => r.partition === 1)?.currentOffset, String(hw.get(1)));
});

test('a group with an active consumer is left alone and reported', async () => {
  const t = await stack.newTopic('live-group', 1);
  const liveGroup = uniqueName('someone-elses-group');
  groupsMade.push(liveGroup);
  const consumer: Consumer = stack.kafka.consumer({ groupId: liveGroup, sessionTimeout: 10_000 });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: t.name, fromBeginning: true });
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joined = true;
    });
    // It reads but never commits: whatever the group holds is Sluice's doing.
    await consumer.run({ autoCommit: false, eachMessage: async () => {} });
    await waitFor('the consumer to join its group', async () => joined);
    await produceTagged(t, 100, 'live');
    await register(t, { mirrorGroup: liveGroup });
    await waitCommitted(stack.api, t.name, await highWatermarks(t.admin, t.name));
    const m = await waitFor('the status to report the group active', async () => {
      const s = await mirrorStatus(t.name);
      return s.state === 'group-active' ? s : null;
    });
    assert.equal(m.group, liveGroup);
    assert.match(m.message ?? '', /has active members/);
    assert.deepEqual([...(await fetchOffsets(t, liveGroup)).values()], [-1n]);
    const metrics = await scrape(stack.master().url);
    assert.ok(
      metricValue(metrics, 'sluice_group_mirror_failures_total', { topic: t.name, reason: 'group-active' }) >=
        1,
      'sluice_group_mirror_failures_total counts the skipped round',
    );
  } finally {
    await consumer.disconnect();
  }
});

test('mirrorGroup null writes no group', async () => {
  const t = await stack.newTopic('unmirrored', 1);
  await produceTagged(t, 100, 'quiet');
  await register(t, { mirrorGroup: null });
  const hw = await highWatermarks(t.admin, t.name);
  await waitCommitted(stack.api, t.name, hw);
  const m = await mirrorStatus(t.name);
  assert.deepEqual([m.group, m.state], [null, 'off']);
  // Give a round of the mirror the time it would have taken, then look where it would have written.
  await new Promise((r) => setTimeout(r, 3_000));
  assert.deepEqual([...(await fetchOffsets(t, `sluice.${t.name}`)).values()], [-1n]);
  const { text } = await describeGroup(`sluice.${t.name}`);
  assert.match(text, /not found|does not exist/i);
});

test('SLUICE_MIRROR_GROUP_OFFSETS=false: an installation writes no group at all', async () => {
  const cluster = new TestCluster({
    name: 'group-mirror-off',
    env: { SLUICE_MIRROR_GROUP_OFFSETS: 'false' },
  });
  const t = await stack.newTopic('mirror-off', 1);
  try {
    const master = await cluster.startMaster();
    await cluster.startWorker();
    const api = apiClient(master.url, cluster.token);
    await produceTagged(t, 100, 'off');
    await register(t, {}, api);
    await waitCommitted(api, t.name, await highWatermarks(t.admin, t.name));
    await new Promise((r) => setTimeout(r, 3_000));
    assert.deepEqual([...(await fetchOffsets(t, `sluice.${t.name}`)).values()], [-1n]);
    const status = await api.get('/api/v1/status');
    const mine = (status.body as { topics: { topic: string; mirror: MirrorAnswer }[] }).topics.find(
      (x) => x.topic === t.name,
    );
    assert.deepEqual([mine?.mirror.group, mine?.mirror.state], [null, 'off']);
  } finally {
    await cluster.stopAll();
  }
});

test('a new leader carries the group on from where the last one left it', async () => {
  const cluster = new TestCluster({ name: 'group-mirror-failover' });
  const t = await stack.newTopic('mirror-failover', 1);
  const g = `sluice.${t.name}`;
  groupsMade.push(g);
  try {
    const first = await cluster.startMaster();
    await cluster.startWorker();
    const api = apiClient(first.url, cluster.token);
    await waitFor('the first master to lead', async () => {
      const res = await api.get('/api/v1/status');
      return (res.body as { master: { leader: boolean } }).master.leader;
    });
    const second = await cluster.startMaster();
    await produceTagged(t, 100, 'before');
    await register(t, {}, api);
    let hw = await highWatermarks(t.admin, t.name);
    await waitCommitted(api, t.name, hw);
    await waitFor('the group to hold the first leader’s commits', async () =>
      same(await fetchOffsets(t, g), hw),
    );
    await first.stop('SIGTERM');
    const next = apiClient(second.url, cluster.token);
    await produceTagged(t, 100, 'after');
    hw = await highWatermarks(t.admin, t.name);
    await waitCommitted(next, t.name, hw);
    await waitFor('the group to follow the new leader’s commits', async () =>
      same(await fetchOffsets(t, g), hw),
    );
    const { rows } = await describeGroup(g);
    assert.deepEqual(
      rows.map((r) => [r.partition, r.currentOffset, r.lag]),
      byPartition(hw).map(([p, o]) => [p, o.toString(), '0']),
    );
  } finally {
    await cluster.stopAll();
  }
});

after(async () => {
  // Kafka would expire the empty groups itself (offsets.retention.minutes); remove them now.
  const admin = stack.kafka.admin();
  await admin.connect();
  await admin.deleteGroups(groupsMade).catch(() => undefined);
  await admin.disconnect();
});
