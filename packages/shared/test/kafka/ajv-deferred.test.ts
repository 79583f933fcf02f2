/**
 * The bundles' stand-in for @platformatic/kafka's Ajv (scripts/bundle.ts, `sluice-ajv-deferred`)
 * loads Ajv at the first validation, not before, and then answers as Ajv does: same verdicts,
 * same errors, same error text, with the keywords added before it loaded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { deferAjv } from '../../src/kafka/ajv-deferred.ts';

const options = { allErrors: true, coerceTypes: false, strict: true };
const bigintKeyword = {
  keyword: 'bigint',
  validate: (_: unknown, x: unknown) => typeof x === 'bigint',
  error: { message: 'must be bigint' },
};
const schema = {
  type: 'object',
  properties: {
    clientId: { type: 'string', minLength: 1 },
    retries: { oneOf: [{ type: 'number', minimum: 0 }, { type: 'boolean' }] },
    offset: { bigint: true },
  },
  required: ['clientId'],
  additionalProperties: false,
};

function counted() {
  let loads = 0;
  const Deferred = deferAjv(() => {
    loads++;
    return Ajv2020 as never;
  });
  return { Deferred, loads: () => loads };
}

test('nothing loads until a validator is called, and then once', () => {
  const { Deferred, loads } = counted();
  const ajv = new Deferred(options);
  ajv.addKeyword(bigintKeyword);
  const a = ajv.compile(schema);
  const b = ajv.compile({ type: 'string' });
  assert.equal(loads(), 0, 'making the instance and compiling must not load Ajv');
  assert.equal(a({ clientId: 'sluice' }), true);
  assert.equal(b('x'), true);
  assert.equal(a({ clientId: 'again' }), true);
  assert.equal(loads(), 1);
});

test('verdicts, errors and their text are those of the real Ajv, keywords included', () => {
  const real = new Ajv2020(options);
  real.addKeyword(bigintKeyword);
  const realValidate = real.compile(schema);
  const ajv = new (counted().Deferred)(options);
  ajv.addKeyword(bigintKeyword);
  const validate = ajv.compile(schema);
  for (const data of [
    { clientId: 'sluice', retries: 3, offset: 5n },
    { clientId: '', retries: -1 },
    { retries: 'often', offset: 5 },
    { clientId: 'x', extra: true },
    'not an object',
  ]) {
    const expected = realValidate(data);
    assert.equal(
      validate(data),
      expected,
      JSON.stringify(data, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)),
    );
    assert.deepEqual(validate.errors, realValidate.errors);
    assert.equal(ajv.errorsText(validate.errors), real.errorsText(realValidate.errors));
  }
  assert.equal(validate({ clientId: 'ok' }), true);
  assert.equal(validate.errors, null, 'a valid call clears the last errors');
});

test('a keyword added after Ajv loaded reaches the real instance', () => {
  const ajv = new (counted().Deferred)(options);
  assert.equal(ajv.compile({ type: 'number' })(1), true);
  ajv.addKeyword({
    keyword: 'even',
    validate: (_: unknown, x: unknown) => typeof x === 'number' && x % 2 === 0,
  });
  const even = ajv.compile({ type: 'number', even: true });
  assert.equal(even(2), true);
  assert.equal(even(3), false);
});
