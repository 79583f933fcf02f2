/**
 * The request rules of `startFrom`'s object forms that JSON schema cannot word
 * (topic-config.ts): partition keys, offsets, times and group ids, each refused naming the
 * field and what is accepted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  normalizeStartFrom,
  partitionKeyProblem,
  startFromProblems,
  startGroupIdProblem,
  startPositionOf,
  startTimestampMs,
  topicConfigProblems,
} from '../src/index.ts';

test('partition keys are decimal int32 numbers without leading zeros', () => {
  for (const ok of ['0', '1', '2147483647']) assert.equal(partitionKeyProblem(ok), null, ok);
  for (const bad of ['', '-1', '01', '1.0', 'x', '2147483648', ' 1']) {
    assert.match(
      partitionKeyProblem(bad) ?? '',
      /^must name a partition as a decimal number from 0 to 2147483647/,
      bad,
    );
  }
});

test('times: epoch milliseconds or ISO-8601 with a date and a time (UTC without a zone)', () => {
  assert.equal(startTimestampMs(1_700_000_000_000), 1_700_000_000_000);
  assert.equal(startTimestampMs('2026-01-31T12:00:00Z'), Date.UTC(2026, 0, 31, 12));
  assert.equal(startTimestampMs('2026-01-31 12:00'), Date.UTC(2026, 0, 31, 12));
  assert.equal(startTimestampMs('2026-01-31T12:00:00.250+02:00'), Date.UTC(2026, 0, 31, 10, 0, 0, 250));
  for (const bad of [-1, 1.5, '2026-01-31', 'yesterday', '2026-13-01T00:00:00Z', '1700000000000']) {
    assert.equal(typeof startTimestampMs(bad), 'string', String(bad));
  }
  assert.match(
    String(startTimestampMs('noon')),
    /^must be epoch milliseconds or ISO-8601 text .*got "noon"$/,
  );
});

test('group ids: 1 to 255 characters without control or format characters', () => {
  assert.equal(startGroupIdProblem('secor_backup.v2'), null);
  assert.match(startGroupIdProblem('') ?? '', /^must not be empty/);
  assert.match(startGroupIdProblem('x'.repeat(256)) ?? '', /at most 255/);
  assert.match(startGroupIdProblem('a\u202eb') ?? '', /U\+202E/);
});

test('every problem of a startFrom object is reported with its path, through topicConfigProblems too', () => {
  assert.deepEqual(
    startFromProblems({ offsets: { '0': '5', '01': '1', '2': '99999999999999999999' } }).map((p) => p.path),
    // Integer-like keys come first in a JavaScript object.
    ['startFrom.offsets.2', 'startFrom.offsets.01'],
  );
  assert.deepEqual(
    topicConfigProblems({ startFrom: { timestamp: 'soon' } }).map((p) => p.path),
    ['startFrom.timestamp'],
  );
  assert.deepEqual(
    topicConfigProblems({ startFrom: { consumerGroup: '' } }).map((p) => p.path),
    ['startFrom.consumerGroup'],
  );
  assert.deepEqual(startFromProblems('latest'), []);
});

test('the position of partitions an object form does not decide', () => {
  assert.equal(startPositionOf('latest'), 'latest');
  assert.equal(startPositionOf({ consumerGroup: 'g' }), 'earliest');
  assert.equal(startPositionOf({ consumerGroup: 'g', fallback: 'latest' }), 'latest');
  assert.equal(startPositionOf({ offsets: { '0': '1' }, fallback: 'latest' }), 'latest');
});

test('the stored form writes the defaults out, so that GET and PUT see what the record holds', () => {
  assert.deepEqual(normalizeStartFrom({ offsets: { '0': '5' } }), {
    offsets: { '0': '5' },
    fallback: 'earliest',
    outOfRange: 'refuse',
  });
  assert.deepEqual(normalizeStartFrom({ consumerGroup: 'g' }), { consumerGroup: 'g', fallback: 'earliest' });
  assert.deepEqual(normalizeStartFrom({ timestamp: '2026-01-01T00:00:00Z' }), {
    timestamp: '2026-01-01T00:00:00Z',
  });
  assert.equal(normalizeStartFrom('latest'), 'latest');
});
