/**
 * `sluice status` with the master's topics-file mode on: the file's result, an invalid file's
 * error with its line, and each refused topic with the API's reason.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StatusAnswer } from '@sluice/master/answer-types';
import { statusText } from '../src/status-text.ts';

const base = {
  leader: null,
  summary: {
    topics: 0,
    partitions: 0,
    lag: 0,
    lagMs: 0,
    ranges: { planned: 0, active: 0, done: 0, failed: 0 },
  },
  topics: [],
  workers: [],
  recentFailures: [],
  gaps: [],
  queue: null,
  queueError: null,
} as unknown as StatusAnswer;

const report: NonNullable<StatusAnswer['topicsFile']> = {
  path: '/etc/sluice/topics/topics.yaml',
  master: 'm-1',
  readAt: '2026-12-07T04:00:00.000Z',
  hash: 'b',
  appliedHash: 'a',
  appliedAt: '2026-12-07T03:00:00.000Z',
  result: 'partly-refused',
  error: null,
  line: null,
  prune: false,
  actions: [],
  refusals: [
    {
      topic: 'clicks',
      action: 'apply',
      code: 'SLUICE_ERR_TOPIC_NOT_IN_KAFKA',
      message: 'create it',
      line: 12,
    },
  ],
};

test('status names the topics file, its result and each refused topic with its line', () => {
  const text = statusText({ ...base, topicsFile: report });
  assert.match(
    text,
    /topics file \/etc\/sluice\/topics\/topics\.yaml: partly-refused \(applied 2026-12-07T03:00:00\.000Z\)/,
  );
  assert.match(text, /refused clicks \(line 12\): SLUICE_ERR_TOPIC_NOT_IN_KAFKA: create it/);
  assert.doesNotMatch(statusText({ ...base, topicsFile: null }), /topics file/);
});

test("status shows an invalid file's error, which names the line", () => {
  const error = 'SLUICE_ERR_TOPICS_FILE: topics.yaml:7:22: not valid YAML or JSON (nothing was changed)';
  const text = statusText({
    ...base,
    topicsFile: { ...report, result: 'invalid', error, line: 7, refusals: [] },
  });
  assert.match(text, /: invalid/);
  assert.match(text, /topics\.yaml:7:22: not valid YAML/);
});
