/**
 * The object forms of `startFrom` resolved against Kafka's offsets (start-from.ts): named
 * offsets with their range check and clamp, the first offset at or after a time, a consumer
 * group's committed offsets with its fallback and refusals; and the resolved offsets taking
 * their place among resumed partitions (topic-resume.ts). Kafka is the test kit's FakeKafka.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixedStartOf, isSluiceError, type PartitionOffsets, ValidationError } from '@sluice/shared';
import { FakeKafka } from '@sluice/test-kit';
import {
  groupStarts,
  namedOffsetStarts,
  resolveStartFrom,
  timestampStarts,
} from '../../src/topics/start-from.ts';
import { partitionStarts, registrationStarts } from '../../src/topics/topic-resume.ts';

/** Partition p holds offsets [earliest, latest); the last stable offset is 2 below the end. */
function offsets(...parts: Array<[number, number, number]>): PartitionOffsets[] {
  return parts.map(([partition, earliest, latest]) => ({
    partition,
    earliest: BigInt(earliest),
    latest: BigInt(latest),
    lastStable: BigInt(latest - 2),
  }));
}

const three = offsets([0, 10, 100], [1, 0, 50], [2, 5, 5]);
const all = [0, 1, 2];

function plain(m: Map<number, { offset: bigint; resolvedBy: string }>) {
  return Object.fromEntries([...m].map(([p, r]) => [p, `${r.offset} ${r.resolvedBy}`]));
}

test('named offsets start there; partitions not named follow the fallback (earliest by default)', () => {
  assert.deepEqual(plain(namedOffsetStarts('t', { offsets: { '0': '42', '1': '50' } }, three, all)), {
    0: '42 offsets',
    1: '50 offsets',
    2: '5 fallback',
  });
  assert.deepEqual(
    plain(namedOffsetStarts('t', { offsets: { '0': '10' }, fallback: 'latest' }, three, all)),
    { 0: '10 offsets', 1: '48 fallback', 2: '3 fallback' },
  );
});

test('an offset outside the log is refused with the partition, the offset and the valid range, unless clamped', () => {
  let problems: Array<{ path: string; message: string }> = [];
  assert.throws(
    () => namedOffsetStarts('t', { offsets: { '0': '9', '1': '51' } }, three, all),
    (e: unknown) => {
      problems = e instanceof ValidationError ? e.problems : [];
      return isSluiceError(e, 'SLUICE_ERR_START_FROM_UNUSABLE');
    },
  );
  assert.deepEqual(
    problems.map((p) => p.path),
    ['startFrom.offsets.0', 'startFrom.offsets.1'],
  );
  assert.match(
    problems[0]!.message,
    /^offset 9 is outside partition 0's log, which holds 10 \(log start\) to 100 \(high watermark\)/,
  );
  assert.match(problems[1]!.message, /offset 51 .* 0 \(log start\) to 50 .*"outOfRange": "clamp"/);
  assert.deepEqual(
    plain(namedOffsetStarts('t', { offsets: { '0': '9', '1': '51' }, outOfRange: 'clamp' }, three, all)),
    { 0: '10 offsets-clamped', 1: '50 offsets-clamped', 2: '5 fallback' },
  );
});

test('a partition the topic does not have is refused, naming the ones it has', () => {
  assert.throws(
    () => namedOffsetStarts('orders', { offsets: { '7': '1' }, outOfRange: 'clamp' }, three, all),
    (e: unknown) =>
      e instanceof ValidationError &&
      e.code === 'SLUICE_ERR_START_FROM_UNUSABLE' &&
      e.message ===
        'startFrom.offsets.7: topic "orders" has no partition 7 (its partitions are 0 to 2); name only those',
  );
});

test('a time: the first offset at or after it per partition; none that new: the high watermark', () => {
  const at = new Map<number, bigint | null>([
    [0, 40n],
    [1, null],
    [2, null],
  ]);
  assert.deepEqual(plain(timestampStarts(three, at)), {
    0: '40 timestamp',
    1: '50 timestamp',
    2: '5 timestamp',
  });
});

test('a consumer group: its committed offsets (also below the log start: the gap is reported), the fallback where it has none', () => {
  const view = {
    group: 'secor',
    state: 'Empty',
    members: 0,
    memberClients: [],
    offsets: new Map([
      [0, 3n],
      [1, 20n],
    ]),
  };
  assert.deepEqual(plain(groupStarts('t', view, 'earliest', three)), {
    0: '3 consumerGroup',
    1: '20 consumerGroup',
    2: '5 fallback',
  });
  assert.deepEqual(plain(groupStarts('t', view, 'latest', three))[2], '3 fallback');
});

test('a consumer group with members is refused (409): the old consumer must be stopped first', () => {
  const view = {
    group: 'connect-s3',
    state: 'Stable',
    members: 1,
    memberClients: ['connector-consumer-1@10.0.0.7'],
    offsets: new Map([[0, 50n]]),
  };
  assert.throws(
    () => groupStarts('t', view, 'earliest', three),
    (e: unknown) =>
      isSluiceError(e, 'SLUICE_ERR_CONSUMER_GROUP_ACTIVE') &&
      /has 1 member now \(state Stable; connector-consumer-1@10\.0\.0\.7\): stop the consumer/.test(
        e.message,
      ) &&
      /kafka-consumer-groups\.sh --bootstrap-server <brokers> --describe --group "connect-s3"/.test(
        e.message,
      ),
  );
});

test('a group with no committed offsets for the topic is refused with how to check it', () => {
  const view = {
    group: 'typo',
    state: 'Dead',
    members: 0,
    memberClients: [],
    offsets: new Map<number, bigint>(),
  };
  assert.throws(
    () => groupStarts('orders', view, 'earliest', three),
    (e: unknown) =>
      isSluiceError(e, 'SLUICE_ERR_START_FROM_UNUSABLE') &&
      e.message.startsWith(
        'startFrom.consumerGroup: consumer group "typo" has no committed offsets for topic "orders" (Kafka does not know the group); check the group id',
      ) &&
      e.message.includes('--list'),
  );
});

test('a committed offset beyond the high watermark is refused', () => {
  const view = { group: 'g', state: 'Empty', members: 0, memberClients: [], offsets: new Map([[1, 51n]]) };
  assert.throws(
    () => groupStarts('t', view, 'earliest', three),
    (e: unknown) =>
      isSluiceError(e, 'SLUICE_ERR_START_FROM_UNUSABLE') &&
      /offset 51 for partition 1, beyond its high watermark 50/.test(e.message),
  );
});

test('resolveStartFrom asks Kafka only for the object forms, and only for pending partitions', async () => {
  const kafka = new FakeKafka();
  kafka.times.set(
    't',
    new Map([
      [
        0,
        [
          [1000, 12n],
          [2000, 60n],
        ],
      ],
    ]),
  );
  kafka.groups.set('old', { members: [], offsets: new Map([['t', new Map([[1, 7n]])]]) });
  assert.equal((await resolveStartFrom(kafka, 't', 'latest', three, all)).size, 0);
  assert.deepEqual(plain(await resolveStartFrom(kafka, 't', { timestamp: 1500 }, three.slice(0, 2), all)), {
    0: '60 timestamp',
    1: '50 timestamp',
  });
  assert.deepEqual(
    plain(await resolveStartFrom(kafka, 't', { timestamp: '1970-01-01T00:00:01Z' }, three.slice(0, 1), all)),
    { 0: '12 timestamp' },
  );
  assert.deepEqual(plain(await resolveStartFrom(kafka, 't', { consumerGroup: 'old' }, three, all)), {
    0: '10 fallback',
    1: '7 consumerGroup',
    2: '5 fallback',
  });
  // Every partition resumes: the group is not even asked (a gone group refuses nothing).
  assert.equal((await resolveStartFrom(kafka, 't', { consumerGroup: 'gone' }, [], all)).size, 0);
});

test('partitions with commit records resume there; the resolved offsets fix the others, and the record says so', async () => {
  const kafka = new FakeKafka();
  kafka.groups.set('old', {
    members: [],
    offsets: new Map([
      [
        't',
        new Map([
          [0, 30n],
          [1, 7n],
        ]),
      ],
    ]),
  });
  const ends = new Map([[0, 44n]]);
  const starts = await registrationStarts(kafka, 't', { consumerGroup: 'old' }, three, ends, true);
  assert.deepEqual(starts, [
    { partition: 0, startOffset: 44n, resumed: true },
    { partition: 1, startOffset: 7n, resumed: false, resolvedBy: 'consumerGroup' },
    { partition: 2, startOffset: 5n, resumed: false, resolvedBy: 'fallback' },
  ]);
  // resume: false: the group's offset even where commit records are.
  const fresh = await registrationStarts(kafka, 't', { consumerGroup: 'old' }, three, ends, false);
  assert.deepEqual(fresh[0], { partition: 0, startOffset: 30n, resumed: false, resolvedBy: 'consumerGroup' });
  // Recovery repeats a registration: the group (gone by now) is not asked again; a partition
  // the registration did not know starts at its log start, like any partition added later.
  const recovered = await registrationStarts(
    kafka,
    't',
    { consumerGroup: 'gone' },
    three,
    ends,
    true,
    new Map([[1, 9n]]),
  );
  assert.deepEqual(
    recovered.map((s) => [s.partition, s.startOffset, s.resumed]),
    [
      [0, 44n, true],
      [1, 9n, true],
      [2, 5n, false],
    ],
  );
  // The leader takes a fixed start for resumed and resolved partitions, not for plain earliest/latest.
  const record = {
    starts: [
      { partition: 0, startOffset: '44', resumed: true },
      { partition: 1, startOffset: '7', resumed: false, resolvedBy: 'consumerGroup' as const },
      { partition: 2, startOffset: '3', resumed: false },
    ],
  };
  assert.deepEqual(
    [0, 1, 2].map((p) => fixedStartOf(record, p)),
    ['44', '7', undefined],
  );
  assert.deepEqual(
    partitionStarts(three, 'latest', new Map(), true).map((s) => s.startOffset),
    [98n, 48n, 3n],
  );
});
