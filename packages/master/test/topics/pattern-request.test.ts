/**
 * A pattern's settings and `schema: { source: "infer" }`: a pattern registers topics it has not
 * seen yet, one sample per topic would give each its own columns, so its settings name them
 * (`inline`) and `infer` is refused at the pattern's own field.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { patternSettingsCheck } from '../../src/topics/pattern-request.ts';

const mins = { minRangeMessages: 1_000, minRangeBytes: 1024 * 1024 };

test('a pattern refuses infer, naming its settings field; inline columns are taken', () => {
  const base = { destination: { bucket: 'lake' }, format: 'parquet' as const };
  const refused = patternSettingsCheck({ ...base, schema: { source: 'infer' } }, 'clicks', mins);
  assert.equal(refused.config, null);
  assert.deepEqual(
    refused.problems.map((p) => p.path),
    ['settings.schema.source'],
  );
  assert.match(refused.problems[0]!.message, /a pattern's settings name the columns: \{ "source": "inline"/);
  const inline = { source: 'inline' as const, fields: [{ name: 'id', type: 'int64' }] };
  const taken = patternSettingsCheck({ ...base, schema: inline }, 'clicks', mins);
  assert.deepEqual(taken.problems, []);
  assert.deepEqual(taken.config?.schema, inline);
});
