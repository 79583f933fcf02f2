/**
 * The rules of `schema: { source: "infer" }` (schema-infer.ts) on small samples: each type the
 * proposal can hold, the fields it leaves to `__sluice_extra` and why, and that what it proposes
 * passes the registration's own checks of an inline schema.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inferInlineSchema, inlineSchemaProblems, isMapLike } from '@sluice/shared';

test('scalars: int64, double, boolean, string, date, timestamp (us), first-seen order, all nullable', () => {
  const { schema, leftOut } = inferInlineSchema([
    { id: 1, price: 2, ok: true, name: 'a', day: '2024-02-29', at: '2024-02-29T10:00:00Z' },
    { id: 2, price: 2.5, ok: false, name: 'b', day: '2024-03-01', at: '2024-03-01 10:00:00.123456+02:00' },
    { id: 9007199254740991, name: '2024-01-01', extra: 'x' },
  ]);
  assert.deepEqual(leftOut, []);
  assert.deepEqual(schema, {
    source: 'inline',
    unknownFields: 'json',
    fields: [
      { name: 'id', type: 'int64' },
      { name: 'price', type: 'double' },
      { name: 'ok', type: 'boolean' },
      { name: 'name', type: 'string' },
      { name: 'day', type: 'date' },
      { name: 'at', type: 'timestamp', unit: 'us' },
      { name: 'extra', type: 'string' },
    ],
  });
  assert.deepEqual(inlineSchemaProblems(schema), []);
});

test('strings that are not all dates or zoned date-times stay strings', () => {
  const { schema } = inferInlineSchema([
    { local: '2024-02-29T10:00:00', mixed: '2024-02-29', bad: '2024-02-30' },
    { local: '2024-02-29T11:00:00', mixed: '2024-02-29T10:00:00Z', bad: '2024-02-28' },
  ]);
  assert.deepEqual(
    schema.fields.map((f) => [f.name, f.type]),
    [
      ['local', 'string'],
      ['mixed', 'string'],
      ['bad', 'string'],
    ],
  );
});

test('a number beyond 2^53 is a double (it was never exact in JSON.parse)', () => {
  const { schema } = inferInlineSchema([{ n: 1 }, { n: 2 ** 60 }]);
  assert.deepEqual(schema.fields, [{ name: 'n', type: 'double' }]);
});

test('nested: structs with first-seen keys, lists of items, maps when keys vary', () => {
  const users = (i: number) =>
    Object.fromEntries(Array.from({ length: 3 }, (_, j) => [`user-${i * 3 + j}`, j]));
  const { schema, leftOut } = inferInlineSchema(
    Array.from({ length: 6 }, (_, i) => ({
      geo: { lat: 1.5, lon: i, tags: ['a'] },
      scores: users(i),
      items: [{ sku: 'x', qty: i }, null],
    })),
  );
  assert.deepEqual(leftOut, []);
  assert.deepEqual(schema.fields, [
    {
      name: 'geo',
      type: 'struct',
      fields: [
        { name: 'lat', type: 'double' },
        { name: 'lon', type: 'int64' },
        { name: 'tags', type: 'list', items: { type: 'string' } },
      ],
    },
    { name: 'scores', type: 'map', values: { type: 'int64' } },
    {
      name: 'items',
      type: 'list',
      items: {
        type: 'struct',
        fields: [
          { name: 'sku', type: 'string' },
          { name: 'qty', type: 'int64' },
        ],
      },
    },
  ]);
  assert.deepEqual(inlineSchemaProblems(schema), []);
});

test('the map rule: many distinct keys, or keys that each appear in at most half of the objects', () => {
  assert.equal(isMapLike(65, 1, 1), true);
  assert.equal(isMapLike(64, 1, 1), false);
  assert.equal(isMapLike(8, 4, 2), true);
  assert.equal(isMapLike(8, 4, 3), false);
  assert.equal(isMapLike(7, 10, 1), false);
  // A struct whose optional keys show up in some records is still a struct.
  const { schema } = inferInlineSchema(
    Array.from({ length: 10 }, (_, i) => ({ o: { a: i, ...(i % 2 ? { b: 'x' } : {}) } })),
  );
  assert.equal(schema.fields[0]?.type, 'struct');
});

test('undecidable fields are left out, named with the reason, and kept by unknownFields json', () => {
  const { schema, leftOut } = inferInlineSchema([
    { ok: 1, mixed: 1, none: null, empty: [], hollow: {}, __kafka_x: 1, deep: { a: { b: 1 } } },
    { ok: 2, mixed: 'one', none: null, empty: [], hollow: {}, deep: { a: { b: 'two' } } },
  ]);
  assert.deepEqual(schema.fields, [{ name: 'ok', type: 'int64' }]);
  assert.equal(schema.unknownFields, 'json');
  assert.deepEqual(
    leftOut.map((f) => f.name),
    ['mixed', 'none', 'empty', 'hollow', '__kafka_x', 'deep'],
  );
  assert.match(leftOut[0]!.reason, /different kinds \(whole number and string\)/);
  assert.match(leftOut[1]!.reason, /null in every sampled record/);
  assert.match(leftOut[2]!.reason, /empty list/);
  assert.match(leftOut[3]!.reason, /empty object/);
  assert.match(leftOut[4]!.reason, /"__kafka_"/);
  assert.match(leftOut[5]!.reason, /field "a" that has field "b" that has values of different kinds/);
});

test('nesting past the inline schema limit is left out rather than proposed and refused', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 20; i++) deep = { d: deep };
  const { schema, leftOut } = inferInlineSchema([{ keep: true, deep: deep as Record<string, unknown> }]);
  assert.deepEqual(schema.fields, [{ name: 'keep', type: 'boolean' }]);
  assert.match(leftOut[0]!.reason, /nests deeper than 16 levels/);
});

test('no field typed: an empty field list (the caller refuses it)', () => {
  const { schema, leftOut } = inferInlineSchema([{}, { a: null }]);
  assert.deepEqual(schema.fields, []);
  assert.equal(leftOut.length, 1);
});

test('the same sample gives the same schema (a dry run proposes what the registration stores)', () => {
  const sample = [
    { b: 1, a: { y: 1, x: [1.5] } },
    { c: 'z', a: { x: [], z: true } },
  ];
  assert.deepEqual(inferInlineSchema(sample), inferInlineSchema(structuredClone(sample)));
  assert.deepEqual(
    inferInlineSchema(sample).schema.fields.map((f) => f.name),
    ['b', 'a', 'c'],
  );
});

test('a list or map whose items cannot be typed says why, of the items', () => {
  const { leftOut } = inferInlineSchema([{ l: [1, 'a'], n: [null] }]);
  assert.deepEqual(leftOut, [
    {
      name: 'l',
      reason:
        'has list items that cannot be typed: they have values of different kinds (whole number and string)',
    },
    { name: 'n', reason: 'has list items that cannot be typed: they are null in every sampled record' },
  ]);
});
