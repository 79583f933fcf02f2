import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSluiceError } from '@sluice/shared';
import { fieldPath, schemaErrorFormatter, validationProblems } from '../../src/api/validation-problems.ts';

test('JSON pointers become dotted field paths', () => {
  assert.equal(fieldPath(''), '');
  assert.equal(fieldPath('/destination/bucket'), 'destination.bucket');
  assert.equal(fieldPath('/items/0/name'), 'items[0].name');
  assert.equal(fieldPath('/a~1b/c~0d'), 'a/b.c~d');
});

test('a wrong type names the field, the expected type and what was sent', () => {
  const [p] = validationProblems(
    [{ keyword: 'type', instancePath: '/maxRangeBytes', params: { type: 'integer' }, data: '100' }],
    'body',
  );
  assert.deepEqual(p, { path: 'maxRangeBytes', message: 'must be an integer, got the string "100"' });
});

test('an unknown field lists the known ones', () => {
  const [p] = validationProblems(
    [
      {
        keyword: 'additionalProperties',
        instancePath: '/destination',
        params: { additionalProperty: 'region' },
        parentSchema: { properties: { bucket: {}, prefix: {} } },
      },
    ],
    'body',
  );
  assert.deepEqual(p, {
    path: 'destination.region',
    message: 'is not a known field; known fields are bucket, prefix',
  });
});

test('missing, enum, bounds and discriminator problems read as sentences', () => {
  const problems = validationProblems(
    [
      { keyword: 'required', instancePath: '', params: { missingProperty: 'destination' } },
      {
        keyword: 'enum',
        instancePath: '/format',
        params: { allowedValues: ['jsonl', 'raw'] },
        data: 'csv',
      },
      { keyword: 'minimum', instancePath: '/maxRangeBytes', params: { limit: 1024 }, data: -5 },
      { keyword: 'maximum', instancePath: '/flushIntervalMs', params: { limit: 86400000 }, data: 1e12 },
      {
        keyword: 'discriminator',
        instancePath: '/partitionBy',
        params: { error: 'mapping', tag: 'kind', tagValue: 'weekly' },
        parentSchema: {
          oneOf: [
            { properties: { kind: { const: 'none' } } },
            { properties: { kind: { const: 'kafka-time' } } },
          ],
        },
      },
    ],
    'body',
  );
  assert.deepEqual(problems, [
    { path: 'destination', message: 'is required' },
    { path: 'format', message: 'must be one of jsonl, raw, got the string "csv"' },
    { path: 'maxRangeBytes', message: 'must be at least 1024, got -5' },
    { path: 'flushIntervalMs', message: 'must be at most 86400000, got 1000000000000' },
    { path: 'partitionBy.kind', message: 'must be one of none, kafka-time, got the string "weekly"' },
  ]);
});

test('a missing body says to send JSON', () => {
  const [p] = validationProblems(
    [{ keyword: 'type', instancePath: '', params: { type: 'object' }, data: null }],
    'body',
  );
  assert.equal(p?.path, 'body');
  assert.match(p!.message, /JSON object sent with Content-Type: application\/json/);
});

test('fields outside the body carry their part as a prefix, and duplicates are dropped', () => {
  const e = { keyword: 'type', instancePath: '/topic', params: { type: 'string' } };
  assert.deepEqual(validationProblems([e, e], 'params'), [
    { path: 'params.topic', message: 'must be a string' },
  ]);
});

test('the formatter gives a SLUICE_ERR_VALIDATION error whose message lists every problem', () => {
  const err = schemaErrorFormatter(
    [
      { keyword: 'required', instancePath: '', params: { missingProperty: 'topic' } },
      { keyword: 'type', instancePath: '/paused', params: { type: 'boolean' }, data: 'yes' },
    ],
    'body',
  );
  assert.ok(isSluiceError(err, 'SLUICE_ERR_VALIDATION'));
  assert.equal(
    err.message,
    'topic: is required; paused: must be a boolean (true or false), got the string "yes"',
  );
});
