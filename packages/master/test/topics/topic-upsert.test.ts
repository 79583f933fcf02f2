/**
 * The PUT planner on its own: what a declared config means against a stored record, field by
 * field, with the refusals a user would meet.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes, isSluiceError, ValidationError } from '@sluice/shared';
import { topicRecord } from '@sluice/test-kit';
import type { TopicPutBody } from '../../src/api/topic-schemas.ts';
import { planTopicUpsert } from '../../src/topics/topic-upsert.ts';

const stored = topicRecord('orders', {
  destination: { bucket: 'lake', prefix: 'raw' },
  maxRangeMessages: 5_000_000,
  flushIntervalMs: 600_000,
  mirrorGroup: 'legacy.orders',
  starts: [{ partition: 0, startOffset: '0', resumed: false }],
  resume: true,
  paused: true,
});
const declared: TopicPutBody = {
  destination: { bucket: 'lake', prefix: 'raw' },
  mirrorGroup: 'legacy.orders',
};

test('a topic not registered is created with the registration body', () => {
  const plan = planTopicUpsert('orders', undefined, { ...declared, topic: 'orders', resume: false });
  assert.equal(plan.result, 'created');
  assert.deepEqual(plan.result === 'created' && plan.body, { ...declared, topic: 'orders', resume: false });
});

test('the stored config declared again is unchanged; so is the whole record PUT back', () => {
  assert.equal(planTopicUpsert('orders', stored, declared).result, 'unchanged');
  // The record carries read-only fields (state, topicId, starts, paused…): accepted and ignored.
  assert.equal(planTopicUpsert('orders', stored, stored as TopicPutBody).result, 'unchanged');
  // A record stored before finalizeLatenessMs existed reads it as its default.
  const { finalizeLatenessMs: _f, ...older } = stored;
  assert.equal(planTopicUpsert('orders', older, declared).result, 'unchanged');
});

test('each changed field is listed with when it applies; an omitted field means its default', () => {
  const plan = planTopicUpsert('orders', stored, {
    destination: { bucket: 'lake', prefix: 'raw/v2/' },
    flushIntervalMs: 60_000,
    format: 'raw',
  });
  assert.equal(plan.result, 'changed');
  assert.deepEqual(plan.changes, [
    {
      field: 'destination',
      from: { bucket: 'lake', prefix: 'raw' },
      to: { bucket: 'lake', prefix: 'raw/v2' },
      applies: 'new-ranges',
    },
    { field: 'flushIntervalMs', from: 600_000, to: 60_000, applies: 'now' },
    { field: 'format', from: 'jsonl', to: 'raw', applies: 'new-ranges' },
    { field: 'mirrorGroup', from: 'legacy.orders', applies: 'now' },
  ]);
  assert.ok(plan.result === 'changed');
  assert.deepEqual(plan.unset, ['mirrorGroup'], 'the omitted mirror group returns to the default name');
  assert.deepEqual(plan.patch, {
    destination: { bucket: 'lake', prefix: 'raw/v2' },
    flushIntervalMs: 60_000,
    format: 'raw',
  });
});

test('a field this table does not know (added later) applies to new ranges', () => {
  const plan = planTopicUpsert('orders', { ...stored, keyTemplate: 'a' } as typeof stored, declared);
  assert.deepEqual(plan.changes, [{ field: 'keyTemplate', from: 'a', applies: 'new-ranges' }]);
});

function refusal(fn: () => unknown): { code: string; text: string } {
  try {
    fn();
  } catch (err) {
    assert.ok(isSluiceError(err), String(err));
    const text =
      err instanceof ValidationError ? err.problems.map((p) => `${p.path}: ${p.message}`).join('\n') : '';
    return { code: err.code, text: text || err.message };
  }
  assert.fail('the PUT was accepted');
}

test('refusals: another topic in the body, startFrom of a registered topic, a topic being deleted, a bad field', () => {
  assert.match(
    refusal(() => planTopicUpsert('orders', stored, { ...declared, topic: 'payments' })).text,
    /^topic: must be the path's topic "orders"/,
  );
  const start = refusal(() => planTopicUpsert('orders', stored, { ...declared, startFrom: 'latest' }));
  assert.equal(start.code, ErrorCodes.TOPIC_STATE);
  assert.match(start.text, /^startFrom: is decided at registration .*stored "earliest", asked "latest"/);
  const deleting = refusal(() => planTopicUpsert('orders', { ...stored, state: 'deleting' }, declared));
  assert.equal(deleting.code, ErrorCodes.TOPIC_STATE);
  assert.match(
    refusal(() => planTopicUpsert('orders', stored, { ...declared, kmsKeyId: 'k' })).text,
    /^kmsKeyId: is only allowed with serverSideEncryption "aws:kms"/,
  );
});

test('a changed parquet schema applies to new ranges', () => {
  const schema = { source: 'inline' as const, fields: [{ name: 'id', type: 'int64' as const }] };
  const parquet = topicRecord('clicks', { format: 'parquet', compression: 'zstd', schema });
  const wider = { ...schema, fields: [...schema.fields, { name: 'country', type: 'string' as const }] };
  const plan = planTopicUpsert('clicks', parquet, { ...parquet, schema: wider } as TopicPutBody);
  assert.equal(plan.result, 'changed');
  assert.deepEqual(
    plan.changes.map((c) => [c.field, c.applies]),
    [['schema', 'new-ranges']],
  );
});
