/**
 * The group mirror's rules without a broker: the monotonic guard, one commit per topic for
 * many commits (batching), a live group left alone, a failure counted and retried, and the
 * status part built from the reports. The real group, read by Kafka's own tool, is
 * test/integration/group-mirror.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Coordinator, type GroupDescription, KafkaErrorCodes, type TopicRecord } from '@sluice/shared';
import { testLogger, topicRecord } from '@sluice/test-kit';
import { GroupMirror, type GroupMirrorKafka, type MirrorReports } from '../../src/kafka/group-mirror.ts';
import { mirrorPlan, mirrorRetryMs, offsetsAfter } from '../../src/kafka/group-mirror-plan.ts';
import { MasterMetrics } from '../../src/status/metrics.ts';
import { mirrorOf } from '../../src/status/mirror-status.ts';

const SETTINGS = { mirrorGroupOffsets: true, mirrorGroupPrefix: 'sluice.' };

test('mirrorPlan writes only partitions where the group is behind, and reports those it is ahead in', () => {
  const committed = new Map([
    [0, 100n],
    [1, 50n],
    [2, 7n],
    [3, 0n],
  ]);
  const inGroup = new Map([
    [0, 40n],
    [1, 50n],
    [2, 9n],
  ]);
  const plan = mirrorPlan(committed, inGroup);
  // Partition 3 has no group offset (-1): 0 is written, so a tool shows the whole log as lag.
  assert.deepEqual(
    [...plan.write],
    [
      [0, 100n],
      [3, 0n],
    ],
  );
  assert.deepEqual(plan.ahead, [{ partition: 2, groupOffset: 9n, committedOffset: 7n }]);
  assert.deepEqual(
    [...offsetsAfter(inGroup, plan.write)],
    [
      [0, 100n],
      [1, 50n],
      [2, 9n],
      [3, 0n],
    ],
  );
});

test('mirrorRetryMs doubles from 1 s and stops at one minute', () => {
  assert.deepEqual([1, 2, 3, 7, 8, 20].map(mirrorRetryMs), [1_000, 2_000, 4_000, 60_000, 60_000, 60_000]);
});

/** A consumer group store that answers like a coordinator, counting requests. */
class FakeGroups implements GroupMirrorKafka {
  readonly held = new Map<string, Map<number, bigint>>();
  readonly members = new Map<string, GroupDescription['members']>();
  commits: { group: string; topic: string; offsets: Map<number, bigint> }[] = [];
  failNext = 0;
  closed = false;
  readonly #at: Coordinator = { host: '127.0.0.1', port: 9092 };

  async coordinator(): Promise<Coordinator> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('connect ECONNREFUSED 127.0.0.1:9092');
    }
    return this.#at;
  }
  async describe(_c: Coordinator, group: string): Promise<GroupDescription> {
    const members = this.members.get(group) ?? [];
    return { errorCode: 0, state: members.length > 0 ? 'Stable' : 'Empty', members };
  }
  async offsets(_c: Coordinator, group: string, _topic: string, partitions: number[]) {
    const held = this.held.get(group) ?? new Map();
    return {
      errorCode: 0,
      partitions: new Map(
        partitions.map((p) => [p, { offset: held.get(p) ?? -1n, metadata: null, errorCode: 0 }]),
      ),
    };
  }
  async commit(_c: Coordinator, group: string, topic: string, offsets: ReadonlyMap<number, bigint>) {
    if ((this.members.get(group) ?? []).length > 0) {
      return new Map([...offsets.keys()].map((p) => [p, KafkaErrorCodes.UNKNOWN_MEMBER_ID]));
    }
    const held = this.held.get(group) ?? new Map<number, bigint>();
    for (const [p, o] of offsets) held.set(p, o);
    this.held.set(group, held);
    this.commits.push({ group, topic, offsets: new Map(offsets) });
    return new Map([...offsets.keys()].map((p) => [p, 0]));
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

function mirrorFixture(records: TopicRecord[]) {
  const kafka = new FakeGroups();
  const committed = new Map<string, Map<number, bigint>>();
  const reports: MirrorReports = new Map();
  const metrics = new MasterMetrics({ defaultMetrics: false });
  const mirror = new GroupMirror({
    kafka,
    kafkaBrokers: ['127.0.0.1:9092'],
    settings: SETTINGS,
    reports,
    topics: () => records,
    committed: (t) => new Map(committed.get(t) ?? []),
    log: testLogger(),
    failures: metrics.groupMirrorFailures,
  });
  const failures = async (topic: string, reason: string) =>
    (await metrics.registry.getSingleMetric('sluice_group_mirror_failures_total')!.get()).values.find(
      (v) => v.labels.topic === topic && v.labels.reason === reason,
    )?.value ?? 0;
  return { kafka, committed, reports, mirror, failures };
}

test('many commits of a topic between two rounds make one OffsetCommit with every partition', async () => {
  const f = mirrorFixture([topicRecord('orders')]);
  f.committed.set('orders', new Map([[0, 10n]]));
  for (let i = 0; i < 5; i++) {
    f.committed.set(
      'orders',
      new Map([
        [0, BigInt(10 + i * 10)],
        [1, BigInt(i)],
      ]),
    );
    f.mirror.note('orders');
  }
  await f.mirror.round();
  assert.equal(f.kafka.commits.length, 1);
  assert.deepEqual(f.kafka.commits[0], {
    group: 'sluice.orders',
    topic: 'orders',
    offsets: new Map([
      [0, 50n],
      [1, 4n],
    ]),
  });
  const report = f.reports.get('orders')!;
  assert.equal(report.state, 'following');
  assert.ok(report.mirroredAt);
  // Nothing new committed: no round writes again.
  await f.mirror.round();
  assert.equal(f.kafka.commits.length, 1);
});

test('a group moved ahead by someone else is reported and never moved back', async () => {
  const f = mirrorFixture([topicRecord('orders', { mirrorGroup: 'legacy-group' })]);
  f.kafka.held.set('legacy-group', new Map([[0, 500n]]));
  f.committed.set(
    'orders',
    new Map([
      [0, 100n],
      [1, 20n],
    ]),
  );
  f.mirror.note('orders');
  await f.mirror.round();
  assert.equal(f.kafka.held.get('legacy-group')!.get(0), 500n);
  // The other partition, behind, is still written.
  assert.equal(f.kafka.held.get('legacy-group')!.get(1), 20n);
  const report = f.reports.get('orders')!;
  assert.equal(report.state, 'group-ahead');
  assert.match(report.message!, /partition 0 at 500 \(Sluice committed 100\)/);
  assert.equal(await f.failures('orders', 'group-ahead'), 1);
});

test('a group with members is left alone, reported, and written once they are gone', async () => {
  const f = mirrorFixture([topicRecord('orders')]);
  f.kafka.members.set('sluice.orders', [{ clientId: 'someone', clientHost: '/10.0.0.9' }]);
  f.committed.set('orders', new Map([[0, 10n]]));
  f.mirror.note('orders');
  await f.mirror.round();
  assert.equal(f.kafka.commits.length, 0);
  assert.equal(f.reports.get('orders')!.state, 'group-active');
  assert.match(f.reports.get('orders')!.message!, /someone@\/10\.0\.0\.9/);
  assert.equal(await f.failures('orders', 'group-active'), 1);
  f.kafka.members.delete('sluice.orders');
  // Retried after its backoff without a new commit.
  await f.mirror.round(Date.now() + 60_000);
  assert.equal(f.kafka.commits.length, 1);
  assert.equal(f.reports.get('orders')!.state, 'following');
});

test('a Kafka failure is counted and retried in a later round; the commit path never sees it', async () => {
  const f = mirrorFixture([topicRecord('orders')]);
  f.kafka.failNext = 1;
  f.committed.set('orders', new Map([[0, 10n]]));
  f.mirror.note('orders');
  await f.mirror.round();
  assert.equal(f.reports.get('orders')!.state, 'failing');
  assert.match(f.reports.get('orders')!.message!, /SLUICE_ERR_KAFKA|ECONNREFUSED/);
  assert.equal(await f.failures('orders', 'failed'), 1);
  // Not yet due: nothing asked of Kafka.
  await f.mirror.round();
  assert.equal(f.kafka.commits.length, 0);
  await f.mirror.round(Date.now() + 2_000);
  assert.equal(f.kafka.commits.length, 1);
  assert.equal(f.reports.get('orders')!.state, 'following');
});

test('mirrorGroup null, a stopped topic and the off switch write nothing', async () => {
  const f = mirrorFixture([
    topicRecord('quiet', { mirrorGroup: null }),
    topicRecord('recreated', { state: 'stopped', error: 'topic id changed' }),
  ]);
  f.committed.set('quiet', new Map([[0, 10n]]));
  f.committed.set('recreated', new Map([[0, 10n]]));
  f.mirror.note('quiet');
  f.mirror.note('recreated');
  await f.mirror.round();
  assert.equal(f.kafka.commits.length, 0);
  assert.equal(f.reports.size, 0);
  const off = mirrorOf(
    topicRecord('orders'),
    [],
    undefined,
    { ...SETTINGS, mirrorGroupOffsets: false },
    true,
  );
  assert.deepEqual(off, {
    group: null,
    state: 'off',
    message: null,
    mirroredAt: null,
    lag: null,
    partitions: [],
  });
});

test('the status shows the group, its offsets and its lag against the high watermark', () => {
  const reports: MirrorReports = new Map([
    [
      'orders',
      {
        group: 'sluice.orders',
        state: 'following',
        message: null,
        mirroredAt: '2026-12-07T00:00:00.000Z',
        offsets: new Map([[0, 90n]]),
      },
    ],
  ]);
  const parts = [
    { partition: 0, highWatermark: '100' },
    { partition: 1, highWatermark: '5' },
  ];
  const m = mirrorOf(topicRecord('orders'), parts, reports, SETTINGS, true);
  assert.equal(m.group, 'sluice.orders');
  assert.equal(m.state, 'following');
  assert.deepEqual(m.partitions, [
    { partition: 0, offset: '90', lag: 10 },
    { partition: 1, offset: null, lag: null },
  ]);
  assert.equal(m.lag, null);
  const stopped = mirrorOf(topicRecord('orders', { state: 'stopped' }), parts, reports, SETTINGS, true);
  assert.deepEqual([stopped.group, stopped.state], ['sluice.orders', 'off']);
  assert.match(stopped.message ?? '', /stopped/);
  // A standby has no reports: it names the group and says it does not know.
  assert.equal(mirrorOf(topicRecord('orders'), parts, new Map(), SETTINGS, false).state, 'unknown');
});

test('stop closes the Kafka client and forgets the reports', async () => {
  const f = mirrorFixture([topicRecord('orders')]);
  f.committed.set('orders', new Map([[0, 10n]]));
  f.mirror.note('orders');
  await f.mirror.round();
  assert.equal(f.reports.size, 1);
  await f.mirror.stop();
  assert.equal(f.reports.size, 0);
  assert.ok(f.kafka.closed);
});

test('a topic with no started partition leaves its group alone and stays pending', async () => {
  const f = mirrorFixture([topicRecord('fresh')]);
  f.mirror.note('fresh');
  await f.mirror.round();
  assert.equal(f.kafka.commits.length, 0);
  assert.deepEqual([f.reports.get('fresh')?.state, f.reports.get('fresh')?.mirroredAt], ['pending', null]);
});
