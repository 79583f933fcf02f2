/** Pure: the byte-level JSON check accepts exactly what JSON.parse accepts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JSON_NULL, JSON_VALUE, jsonTextKind, NOT_JSON } from '../src/json-text.ts';

/** The old decision: JSON.parse on the text. */
function byParse(text: string): number {
  try {
    return JSON.parse(text) === null ? JSON_NULL : JSON_VALUE;
  } catch {
    return NOT_JSON;
  }
}

const kind = (text: string) => jsonTextKind(Buffer.from(text, 'utf8'));

test('agrees with JSON.parse on the edges of the grammar', () => {
  const cases = [
    '',
    ' ',
    '\t\r\n',
    '{}',
    '[]',
    ' {} ',
    '{"a":1}',
    '{"a":1,}',
    '[1,]',
    '[,1]',
    '{,}',
    '{"a"}',
    '{"a":}',
    '{"a" : [ 1 , 2 ] }',
    '{1:2}',
    "{'a':1}",
    '"',
    '"abc',
    '"a\\"b"',
    '"\\u00e9"',
    '"\\u00G9"',
    '"\\x41"',
    '"\\/"',
    '"\t"',
    '"\u0001"',
    '"\u007f"',
    '"\u2028"',
    '"é"',
    '0',
    '-0',
    '01',
    '-01',
    '1.',
    '.5',
    '1.5',
    '1e5',
    '1E+5',
    '1e-5',
    '1e',
    '1e+',
    '+1',
    '-',
    '--1',
    '1.5e3.2',
    'true',
    'false',
    'null',
    'nul',
    'truee',
    'True',
    'NaN',
    'Infinity',
    '1e999',
    ' null ',
    '\ufeff{}',
    '{}x',
    '{} {}',
    '[1] ]',
    '[[[]]]',
    '[[[]]',
    '{"a":{"b":{"c":[true,false,null]}}}',
    '"\\ud800"',
    '"\\uDFFF\\uD800"',
    '\u00a0{}',
    '{}\u00a0',
    '{"a":1}\n',
    '\n{"a":\r\n1}',
    '[1 2]',
    '{"a":1 "b":2}',
    '[-]',
    '[-1.e1]',
    '[1e1.5]',
    '"a"b"',
  ];
  for (const c of cases) assert.equal(kind(c), byParse(c), JSON.stringify(c));
});

test('any depth, like JSON.parse', () => {
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  assert.equal(kind(deep), JSON_VALUE);
  assert.equal(kind(`${'[{"a":'.repeat(5000)}1${'}]'.repeat(5000)}`), JSON_VALUE);
  assert.equal(kind(`${'['.repeat(5000)}${']'.repeat(4999)}`), NOT_JSON);
});

test('agrees with JSON.parse on random mutations of JSON texts', () => {
  // Deterministic: a fixed seed, so a failure can be reproduced.
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const alphabet = [
    '{',
    '}',
    '[',
    ']',
    '"',
    '\\',
    ':',
    ',',
    ' ',
    '\n',
    '0',
    '1',
    '-',
    '+',
    '.',
    'e',
    'E',
    'u',
    'a',
    't',
    'r',
    'n',
    'l',
    'f',
    's',
    '\u0001',
    'é',
    '/',
  ];
  const seeds = [
    '{"a":[1,2.5e-3,{"b":null}],"c":"x\\"y","d":true}',
    '[0,-1,"\\u00e9",[],{}]',
    '"str"',
    '-12.5E+7',
    'null',
  ];
  for (let i = 0; i < 30_000; i++) {
    let s = seeds[i % seeds.length] as string;
    const edits = 1 + Math.floor(rand() * 3);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(rand() * (s.length + 1));
      const op = rand();
      const ch = alphabet[Math.floor(rand() * alphabet.length)] as string;
      if (op < 0.4) s = s.slice(0, at) + ch + s.slice(at);
      else if (op < 0.7) s = s.slice(0, at) + s.slice(at + 1);
      else s = s.slice(0, at) + ch + s.slice(at + 1);
    }
    assert.equal(kind(s), byParse(s), JSON.stringify(s));
  }
});

test('reads only [start, end)', () => {
  const b = Buffer.from('xx{"a":1}yy');
  assert.equal(jsonTextKind(b, 2, 9), JSON_VALUE);
  assert.equal(jsonTextKind(b, 2, 10), NOT_JSON);
});
