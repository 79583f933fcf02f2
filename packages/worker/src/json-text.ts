/**
 * Pure: whether bytes of valid UTF-8 are one JSON text, decided on the bytes without
 * building a value. It accepts exactly what `JSON.parse` accepts (ECMA-404: the four
 * whitespace characters around one value; strings without raw control characters and with
 * the escapes `\" \\ \/ \b \f \n \r \t \uXXXX`; numbers `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`;
 * `true`, `false`, `null`; any depth), so the jsonl encoder can embed a value's text without
 * paying for `JSON.parse` and the objects it makes, which on small records cost more than all
 * the rest of encoding (bench/README.md). packages/worker/test/json-text.test.ts checks it
 * against JSON.parse.
 *
 * Bytes above 0x7f only occur inside strings of a JSON text; the caller has checked that the
 * bytes are UTF-8, so every such byte inside a string is part of a character JSON allows.
 */

/** Not a JSON text. */
export const NOT_JSON = 0;
/** A JSON text whose value is not the literal `null`. */
export const JSON_VALUE = 1;
/** The JSON text `null` (with optional whitespace). */
export const JSON_NULL = 2;

export type JsonTextKind = typeof NOT_JSON | typeof JSON_VALUE | typeof JSON_NULL;

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** Container kinds on the explicit stack (no recursion: any depth, like JSON.parse). */
const IN_ARRAY = 1;
const IN_OBJECT = 2;

function isSpace(b: number): boolean {
  return b === SPACE || b === LF || b === CR || b === TAB;
}

function isDigit(b: number): boolean {
  return b >= ZERO && b <= NINE;
}

function isHex(b: number): boolean {
  return (b >= ZERO && b <= NINE) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
}

/** Position after the string starting at `i` (its opening quote), or -1 when it is not one. */
function skipString(b: Uint8Array, i: number, end: number): number {
  i++;
  while (i < end) {
    const c = b[i] as number;
    if (c === QUOTE) return i + 1;
    if (c < 0x20) return -1;
    if (c === BACKSLASH) {
      if (i + 1 >= end) return -1;
      const e = b[i + 1] as number;
      if (e === 0x75 /* u */) {
        if (i + 5 >= end) return -1;
        if (!isHex(b[i + 2] as number) || !isHex(b[i + 3] as number)) return -1;
        if (!isHex(b[i + 4] as number) || !isHex(b[i + 5] as number)) return -1;
        i += 6;
        continue;
      }
      if (
        e === QUOTE ||
        e === BACKSLASH ||
        e === 0x2f /* / */ ||
        e === 0x62 /* b */ ||
        e === 0x66 /* f */ ||
        e === 0x6e /* n */ ||
        e === 0x72 /* r */ ||
        e === 0x74 /* t */
      ) {
        i += 2;
        continue;
      }
      return -1;
    }
    i++;
  }
  return -1;
}

/** Position after the number starting at `i`, or -1. */
function skipNumber(b: Uint8Array, i: number, end: number): number {
  if (b[i] === MINUS) i++;
  if (i >= end) return -1;
  if (b[i] === ZERO) i++;
  else if (isDigit(b[i] as number)) {
    while (i < end && isDigit(b[i] as number)) i++;
  } else return -1;
  if (i < end && b[i] === DOT) {
    i++;
    if (i >= end || !isDigit(b[i] as number)) return -1;
    while (i < end && isDigit(b[i] as number)) i++;
  }
  if (i < end && (b[i] === 0x65 || b[i] === 0x45) /* e E */) {
    i++;
    if (i < end && (b[i] === PLUS || b[i] === MINUS)) i++;
    if (i >= end || !isDigit(b[i] as number)) return -1;
    while (i < end && isDigit(b[i] as number)) i++;
  }
  return i;
}

/** Position after `word` at `i`, or -1. */
function skipWord(b: Uint8Array, i: number, end: number, word: readonly number[]): number {
  if (i + word.length > end) return -1;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word[k]) return -1;
  return i + word.length;
}

const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];

/** The container stack, reused: the function is synchronous, so one is enough. */
let stack = new Uint8Array(64);

/** What `b[start, end)` is as a JSON text. The bytes must be valid UTF-8. */
export function jsonTextKind(b: Uint8Array, start = 0, end = b.length): JsonTextKind {
  let i = start;
  while (i < end && isSpace(b[i] as number)) i++;
  if (i >= end) return NOT_JSON;
  const first = b[i] as number;
  // Scalars at the top: decided at once.
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    let after: number;
    if (first === QUOTE) after = skipString(b, i, end);
    else if (first === MINUS || isDigit(first)) after = skipNumber(b, i, end);
    else if (first === 0x74) after = skipWord(b, i, end, TRUE);
    else if (first === 0x66) after = skipWord(b, i, end, FALSE);
    else if (first === 0x6e) after = skipWord(b, i, end, NULL);
    else return NOT_JSON;
    if (after < 0) return NOT_JSON;
    while (after < end && isSpace(b[after] as number)) after++;
    if (after !== end) return NOT_JSON;
    return first === 0x6e ? JSON_NULL : JSON_VALUE;
  }

  let depth = 0;
  const push = (kind: number) => {
    if (depth === stack.length) {
      const grown = new Uint8Array(stack.length * 2);
      grown.set(stack);
      stack = grown;
    }
    stack[depth++] = kind;
  };

  // Expecting a value at `i` (after whitespace).
  for (;;) {
    while (i < end && isSpace(b[i] as number)) i++;
    if (i >= end) return NOT_JSON;
    let c = b[i] as number;
    if (c === OPEN_BRACE) {
      i++;
      while (i < end && isSpace(b[i] as number)) i++;
      if (i >= end) return NOT_JSON;
      if (b[i] === CLOSE_BRACE) {
        i++; // empty object: a complete value
      } else {
        push(IN_OBJECT);
        // A member: key string, colon, then the value (next turn of the loop).
        if (b[i] !== QUOTE) return NOT_JSON;
        i = skipString(b, i, end);
        if (i < 0) return NOT_JSON;
        while (i < end && isSpace(b[i] as number)) i++;
        if (i >= end || b[i] !== COLON) return NOT_JSON;
        i++;
        continue;
      }
    } else if (c === OPEN_BRACKET) {
      i++;
      while (i < end && isSpace(b[i] as number)) i++;
      if (i >= end) return NOT_JSON;
      if (b[i] === CLOSE_BRACKET) {
        i++; // empty array
      } else {
        push(IN_ARRAY);
        continue;
      }
    } else {
      if (c === QUOTE) i = skipString(b, i, end);
      else if (c === MINUS || isDigit(c)) i = skipNumber(b, i, end);
      else if (c === 0x74) i = skipWord(b, i, end, TRUE);
      else if (c === 0x66) i = skipWord(b, i, end, FALSE);
      else if (c === 0x6e) i = skipWord(b, i, end, NULL);
      else return NOT_JSON;
      if (i < 0) return NOT_JSON;
    }
    // A value is complete: close containers or move to the next element.
    for (;;) {
      while (i < end && isSpace(b[i] as number)) i++;
      if (depth === 0) return i === end ? JSON_VALUE : NOT_JSON;
      if (i >= end) return NOT_JSON;
      c = b[i] as number;
      const kind = stack[depth - 1];
      if (c === COMMA) {
        i++;
        if (kind === IN_OBJECT) {
          while (i < end && isSpace(b[i] as number)) i++;
          if (i >= end || b[i] !== QUOTE) return NOT_JSON;
          i = skipString(b, i, end);
          if (i < 0) return NOT_JSON;
          while (i < end && isSpace(b[i] as number)) i++;
          if (i >= end || b[i] !== COLON) return NOT_JSON;
          i++;
        }
        break; // the next value
      }
      if ((kind === IN_OBJECT && c === CLOSE_BRACE) || (kind === IN_ARRAY && c === CLOSE_BRACKET)) {
        i++;
        depth--;
        continue;
      }
      return NOT_JSON;
    }
  }
}
