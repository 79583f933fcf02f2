/**
 * What the CLI writes to a terminal, made inert. Values come from the API, and an old stored
 * value (a key prefix registered before the API refused control characters, a Kafka or S3
 * message) may hold control (Unicode Cc: ESC, CSI U+009B...) or format characters (Cf: bidi
 * overrides, zero-width): written raw, they move the cursor, rewrite lines or make text read
 * differently. Every line the CLI prints goes through {@link printAnswer} or
 * {@link escapeForTerminal}; newlines and tabs of the CLI's own layout stay as they are.
 */

const CONTROL_OR_FORMAT = /[\p{Cc}\p{Cf}]/gu;

/** Human text: each control or format character but newline and tab becomes `\u{9b}`. */
export function escapeForTerminal(text: string): string {
  return text.replace(CONTROL_OR_FORMAT, (c) =>
    c === '\n' || c === '\t' ? c : `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`,
  );
}

/**
 * JSON text for a terminal: JSON.stringify escapes only U+0000-U+001F, so the others (DEL,
 * C1, format characters) become `\uXXXX` escapes; the JSON still parses to the same value.
 */
export function jsonForTerminal(value: unknown): string {
  // A raw newline in JSON text is only ever the indentation's (strings escape theirs).
  return JSON.stringify(value, null, 2).replace(CONTROL_OR_FORMAT, (c) =>
    c === '\n'
      ? c
      : Array.from(
          { length: c.length },
          (_, i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`,
        ).join(''),
  );
}

/** Where the CLI prints (process.stdout, or a test's collector). */
export interface TextSink {
  write(text: string): unknown;
}

/** Prints an API answer: its JSON with --json, else the human text, escaped either way. */
export function printAnswer(
  json: boolean,
  value: unknown,
  human: () => string,
  sink: TextSink = process.stdout,
): void {
  sink.write(`${json ? jsonForTerminal(value) : escapeForTerminal(human())}\n`);
}
