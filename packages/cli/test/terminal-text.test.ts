/**
 * The CLI prints nothing that can drive a terminal: control (Cc) and format (Cf) characters
 * from API answers are escaped in tables, in --json output and in error messages. Pure.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeForTerminal, jsonForTerminal, printAnswer } from '../src/terminal-text.ts';

const NASTY = 'raw\u009b2J\u001b[31m\u202Etxt\u200B\uFEFF\r\u007f\u{E0001}';

test('human text: control and format characters become \\u{..}, newlines and tabs stay', () => {
  assert.equal(
    escapeForTerminal(`a\tb\n${NASTY}`),
    'a\tb\nraw\\u{9b}2J\\u{1b}[31m\\u{202e}txt\\u{200b}\\u{feff}\\u{d}\\u{7f}\\u{e0001}',
  );
  assert.equal(escapeForTerminal('raw/kafka-é-日本'), 'raw/kafka-é-日本');
});

test('JSON text: every control or format character is a \\u escape and the value is unchanged', () => {
  const value = { destination: { prefix: NASTY } };
  const text = jsonForTerminal(value);
  assert.deepEqual(
    [...text].filter((c) => /[\p{Cc}\p{Cf}]/u.test(c) && c !== '\n'),
    [],
  );
  assert.ok(text.includes('\\u009b') && text.includes('\\u202e') && text.includes('\\udb40\\udc01'), text);
  assert.deepEqual(JSON.parse(text), value);
});

test('printAnswer escapes both outputs', () => {
  const written: string[] = [];
  const sink = { write: (t: string) => written.push(t) };
  printAnswer(false, null, () => `prefix ${NASTY}`, sink);
  printAnswer(true, { prefix: NASTY }, () => '', sink);
  for (const w of written) {
    const controls = [...w].filter((c) => /[\p{Cc}\p{Cf}]/u.test(c) && c !== '\n');
    assert.deepEqual(controls, [], JSON.stringify(w));
  }
});
