/**
 * The topics file as its author meets it: YAML with comments or JSON in, one POST body per
 * topic with `defaults` under it, every mistake refused naming the file, line and fix; and an
 * export that reads back to the same bodies.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { entryProblemText, formatTopicsFile, isSluiceError, parseTopicsFile } from '@sluice/shared';

const yamlFile = `# the platform team's topics
apiVersion: 1
defaults:
  destination:
    bucket: lake        # every topic lands here
  compression: zstd
topics:
  - topic: orders
    destination: { prefix: raw }
    flushIntervalMs: 60000
  # payments keep gzip
  - topic: payments
    compression: gzip
`;

test('YAML with comments: defaults merged under each entry, destination field by field', () => {
  const file = parseTopicsFile(yamlFile, 'topics.yaml');
  assert.equal(file.prune, false);
  assert.deepEqual(
    file.topics.map((t) => t.body),
    [
      {
        topic: 'orders',
        destination: { bucket: 'lake', prefix: 'raw' },
        compression: 'zstd',
        flushIntervalMs: 60000,
      },
      { topic: 'payments', destination: { bucket: 'lake' }, compression: 'gzip' },
    ],
  );
  assert.deepEqual(
    file.topics.map((t) => t.line),
    [8, 12],
  );
  assert.equal(file.topics[0]?.fieldLines.flushIntervalMs, 10);
  assert.equal(file.topics[1]?.fieldLines.destination, 3, 'a field from defaults: the line of `defaults:`');
});

test('JSON reads the same, and prune: true is reported', () => {
  const json = JSON.stringify({
    prune: true,
    topics: [{ topic: 'orders', destination: { bucket: 'lake', prefix: 'raw' } }],
  });
  const file = parseTopicsFile(json, 'topics.json');
  assert.equal(file.prune, true);
  assert.deepEqual(file.topics[0]?.body, { topic: 'orders', destination: { bucket: 'lake', prefix: 'raw' } });
});

function refusal(text: string): string {
  try {
    parseTopicsFile(text, 'topics.yaml');
  } catch (err) {
    assert.ok(isSluiceError(err, 'SLUICE_ERR_TOPICS_FILE'), String(err));
    return err.message;
  }
  assert.fail('the file was accepted');
}

test('bad files are refused naming the file, the line and the column', () => {
  assert.match(
    refusal('topics:\n  - topic: a\n\t  compression: zstd\n'),
    /^topics\.yaml:3:1: not valid YAML or JSON: Tabs are not allowed as indentation; fix the syntax there$/,
  );
  assert.match(
    refusal(
      'topics:\n  - topic: a\n    destination: {bucket: b}\n  - topic: a\n    destination: {bucket: c}\n',
    ),
    /^topics\.yaml:4:5: topic "a" is named twice \(lines 2 and 4\)/,
  );
  assert.match(
    refusal('topic:\n  - topic: a\n'),
    /^topics\.yaml:1:1: unknown key "topic"; a topics file has apiVersion, prune, defaults, topics/,
  );
  assert.match(
    refusal('- topic: a\n'),
    /^topics\.yaml:1:1: the file is a list; write the list under a `topics:` key/,
  );
  assert.match(refusal('topics:\n  orders: {}\n'), /^topics\.yaml:2:3: `topics` must be a list/);
  assert.match(
    refusal('topics:\n  - destination: {bucket: b}\n'),
    /^topics\.yaml:2:5: the entry has no `topic:`/,
  );
  assert.match(refusal('prune: yes please\ntopics: []\n'), /^topics\.yaml:1:8: prune must be true or false/);
  assert.match(refusal('apiVersion: 2\ntopics: []\n'), /^topics\.yaml:1:13: apiVersion must be 1/);
  assert.match(
    refusal('topics:\n  - topic: a\n    topic: b\n'),
    /^topics\.yaml:3:5: not valid YAML or JSON: Map keys must be unique/,
  );
  assert.match(refusal('defaults: {topic: x}\ntopics: []\n'), /defaults must not name a topic/);
  assert.match(refusal('# nothing yet\n'), /missing `topics:`|expected a mapping/);
  assert.match(
    refusal('topics: [{topic: a, __proto__: {x: 1}}]\n'),
    /^topics\.yaml:1:21: the key __proto__ is not accepted/,
  );
  assert.match(refusal('topics: [{? [a]: b, topic: a}]\n'), /^topics\.yaml:1:13: a key must be a plain name/);
  const laughs = ['defaults:', ' a: &a [x, x, x, x, x, x, x, x, x]'];
  for (const [n, prev] of ['b', 'c', 'd', 'e', 'f'].entries())
    laughs.push(` ${prev}: &${prev} [${Array(9).fill(`*${'abcde'[n]}`).join(', ')}]`);
  assert.match(
    refusal(`${laughs.join('\n')}\ntopics: []\n`),
    /^topics\.yaml:2:2: cannot be read: Excessive alias count/,
  );
});

test('a field the master refuses is reported at its line', () => {
  const file = parseTopicsFile(yamlFile, 'topics.yaml');
  const orders = file.topics[0]!;
  assert.equal(
    entryProblemText('topics.yaml', orders, { path: 'flushIntervalMs', message: 'must be at least 100' }),
    'topics.yaml:10: orders: flushIntervalMs: must be at least 100',
  );
  assert.equal(
    entryProblemText('topics.yaml', orders, { path: 'destination.bucket', message: 'bad' }),
    'topics.yaml:9: orders: destination.bucket: bad',
  );
  assert.equal(
    entryProblemText('topics.yaml', orders, { path: 'format', message: 'cannot change' }),
    'topics.yaml:8: orders: format: cannot change',
    'a field the entry does not write: the entry line',
  );
});

test('an export holds the settable fields only, sorted, and reads back to the same bodies', () => {
  const records = [
    {
      topic: 'payments',
      destination: { bucket: 'lake', prefix: '' },
      format: 'jsonl',
      mirrorGroup: null,
      startFrom: { consumerGroup: 'secor', fallback: 'earliest' },
      topicId: 'abc',
      paused: true,
      state: 'active',
      error: null,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      resume: true,
      starts: [{ partition: 0, startOffset: '0', resumed: false }],
      summary: { partitions: 1 },
    },
    { topic: 'orders', destination: { bucket: 'lake', prefix: 'raw' }, flushIntervalMs: 60000 },
  ];
  const text = formatTopicsFile(records);
  assert.match(text, /^# /, 'it says what it is');
  const back = parseTopicsFile(text, 'export.yaml');
  assert.deepEqual(
    back.topics.map((t) => t.body),
    [
      { topic: 'orders', destination: { bucket: 'lake', prefix: 'raw' }, flushIntervalMs: 60000 },
      {
        topic: 'payments',
        destination: { bucket: 'lake', prefix: '' },
        format: 'jsonl',
        mirrorGroup: null,
        startFrom: { consumerGroup: 'secor', fallback: 'earliest' },
      },
    ],
  );
  assert.equal(formatTopicsFile([...records].reverse()), text, 'the same set gives the same text');
});
