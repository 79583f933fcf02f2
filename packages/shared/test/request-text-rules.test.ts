/**
 * The shared rules for text that reaches keys, ZooKeeper paths and terminals (control and
 * format characters) and for offsets in requests (the signed 64-bit range). Pure.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  controlCharacterProblem,
  MAX_OFFSET,
  offsetProblem,
  parseOffset,
  parseRangeId,
  prefixProblem,
} from '../src/index.ts';

test('control (Cc) and format (Cf) characters are named by code point and position', () => {
  assert.equal(controlCharacterProblem('raw/kafka-é-日本'), null);
  for (const [text, shown, at] of [
    ['a\u009bb', 'U+009B', 2],
    ['\u202Eabc', 'U+202E', 1],
    ['ab\u2066', 'U+2066', 3],
    ['a\u200Bb', 'U+200B', 2],
    ['x\uFEFF', 'U+FEFF', 2],
    ['\u0000', 'U+0000', 1],
    ['a\u007f', 'U+007F', 2],
    ['😀\u00AD', 'U+00AD', 2],
  ] as const) {
    const problem = controlCharacterProblem(text) ?? '';
    assert.match(problem, /control characters or format characters \(Unicode categories Cc and Cf\)/, text);
    assert.ok(problem.includes(`found ${shown} at character ${at}`), `${JSON.stringify(text)}: ${problem}`);
  }
  assert.match(prefixProblem('raw/\u009b2J') ?? '', /U\+009B/);
  assert.match(prefixProblem('raw/\u202Etxt.exe') ?? '', /U\+202E/);
});

test('offsets are 0 to 2^63 - 1', () => {
  assert.equal(MAX_OFFSET, 9223372036854775807n);
  assert.equal(offsetProblem('0'), null);
  assert.equal(offsetProblem('00000000000000000042'), null);
  assert.equal(offsetProblem('9223372036854775807'), null);
  for (const bad of ['9223372036854775808', '18446744073709551615', '-1', '', '1e3', ' 1']) {
    assert.match(offsetProblem(bad) ?? '', /^must be a decimal integer from 0 to 9223372036854775807/, bad);
  }
  assert.throws(
    () => parseOffset('9223372036854775808', 'start'),
    /^RangeError: start must be a decimal integer/,
  );
  assert.throws(() => parseRangeId('t-0-0-9223372036854775808'), /above 9223372036854775807/);
  assert.equal(parseRangeId('t-0-0-9223372036854775807').end, MAX_OFFSET);
});
