/**
 * `sluice topics add --dry-run` as text: with `--schema infer`, the proposed columns are printed
 * as the JSON a registration would store (to read back and edit), and each field left without a
 * column is named with the reason.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dryRunText } from '../src/integrity-commands.ts';

test('the dry run prints an inferred schema and the fields it left to __sluice_extra', () => {
  const schema = { source: 'inline', unknownFields: 'json', fields: [{ name: 'id', type: 'int64' }] };
  const text = dryRunText({
    dryRun: true,
    topic: 'clicks',
    topicId: 'id-1',
    config: {},
    partitions: [],
    backlog: { records: '3', bytes: 90 },
    output: { ranges: 1, objects: 1, typicalObjectBytes: 90, typicalObjectRecords: 3, firstKeys: [] },
    estimate: { sampledRecords: 3, bytesPerRecord: 30, method: 'sampled' },
    inferred: {
      schema,
      sampledRecords: 3,
      leftOut: [{ name: 'mixed', reason: 'has values of different kinds (whole number and string)' }],
    },
  });
  assert.match(text, /inferred schema \(3 records sampled\):\n\{\n {2}"source": "inline"/);
  assert.ok(text.includes(JSON.stringify(schema, null, 2)));
  assert.match(
    text,
    /no column for "mixed" \(kept in __sluice_extra\): it has values of different kinds \(whole number and string\)/,
  );
});
