/**
 * JSON Schema unions of several types (`"type": ["string", "integer"]`, a `oneOf`/`anyOf` of
 * several) as Parquet: a struct of optional members, one per branch, the one the value's JSON
 * type picks set, as Kafka Connect's JSON Schema converter builds its OneOf struct; branches a
 * value could not tell apart, and values of none of the types, are refused saying so.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RegisteredSchema } from '@sluice/shared';
import { RecordRejection } from '../src/parquet-columns.ts';
import { registryColumnsOf } from '../src/registry-columns.ts';

const json = (id: number, schema: unknown): RegisteredSchema => ({
  id,
  schemaType: 'JSON',
  schema: JSON.stringify(schema),
  references: [],
});

test('several types become a struct of optional members; the value fills the member of its type', () => {
  const cols = registryColumnsOf(
    json(1, {
      type: 'object',
      properties: {
        code: { type: ['string', 'integer', 'null'] },
        n: { oneOf: [{ type: 'integer' }, { type: 'number' }] },
        tags: {
          type: 'array',
          items: { anyOf: [{ type: 'boolean' }, { type: 'object', properties: { x: { type: 'string' } } }] },
        },
      },
    }),
  );
  assert.ok(!('reject' in cols));
  assert.deepEqual(
    cols.fields.map((f) => [f.name, f.type, f.nullable, f.fields?.map((m) => [m.name, m.type, m.nullable])]),
    [
      [
        'code',
        'struct',
        true,
        [
          ['member0', 'string', true],
          ['member1', 'int64', true],
        ],
      ],
      [
        'n',
        'struct',
        true,
        [
          ['member0', 'int64', true],
          ['member1', 'double', true],
        ],
      ],
      ['tags', 'list', true, undefined],
    ],
  );
  assert.deepEqual(cols.valueRow({ code: 'a1', n: 2, tags: [true, { x: 'y' }] }), {
    code: { member0: 'a1', member1: null },
    n: { member0: 2n, member1: null },
    tags: [
      { member0: true, member1: null },
      { member0: null, member1: { x: 'y' } },
    ],
  });
  // The first branch the value's type fits: 2.5 is no integer.
  assert.deepEqual(cols.valueRow({ code: 7, n: 2.5, tags: [] }), {
    code: { member0: null, member1: 7n },
    n: { member0: null, member1: 2.5 },
    tags: [],
  });
  assert.deepEqual(cols.valueRow({ code: null }), { code: null, n: null, tags: null });
  assert.throws(
    () => cols.valueRow({ code: true }),
    (err: unknown) =>
      err instanceof RecordRejection &&
      /^code: expected one of string, integer, got boolean$/.test(err.message),
  );
});

test('a top-level union is its members as columns; branches of one JSON type are refused', () => {
  const top = registryColumnsOf(json(2, { type: ['string', 'number'] }));
  assert.ok(!('reject' in top));
  assert.deepEqual(top.valueRow(1.5), { member0: null, member1: 1.5 });
  const same = registryColumnsOf(
    json(3, {
      oneOf: [
        { type: 'object', properties: { a: { type: 'string' } } },
        { type: 'object', properties: { b: { type: 'string' } } },
      ],
    }),
  );
  assert.ok('reject' in same);
  assert.match(same.reject, /the value is one of several schemas of JSON type object/);
});
