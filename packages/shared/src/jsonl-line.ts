/**
 * The `jsonl` line grammar: what one line of a `jsonl` data object is. The worker's encoder
 * (packages/worker/src/record-encoder.ts) writes lines; the master's deep audit
 * (integrity/object-read-back.ts) reads each line's topic, partition and offset back. Both
 * take the grammar from here; packages/worker/test/record-encoder.test.ts parses the
 * encoder's real output with {@link parseJsonlLineHead}.
 *
 * One JSON object per record and line, ended by `\n`, fields in this order:
 *
 *     {"topic":"t","partition":0,"offset":42,"timestamp":1764057600000,
 *      "key":"k","headers":[{"key":"h","value":"v"}],"value":{...}}
 *
 *   - The line starts with {@link jsonlLineHead}: `topic`, `partition`, `offset`, always first
 *     and always in this order, so a reader finds them without parsing the rest of the line.
 *   - `offset` is the exact integer (written from the bigint's digits, never through a
 *     double), so offsets beyond 2^53 keep their digits; read it back as text, not with
 *     `JSON.parse`.
 *   - `key` is a UTF-8 string, null, or base64 followed by `"keyEncoding":"base64"`.
 *   - `headers` keep Kafka's order and repeated keys; a header that is not UTF-8 is base64 with
 *     `"keyEncoding"`/`"valueEncoding":"base64"` in that header object.
 *   - `value` is null only for a tombstone. A UTF-8 value that is a JSON text (other than
 *     `null`) is embedded as its original text, so that integers beyond 2^53 keep their digits;
 *     raw CR and LF in it can only be whitespace (JSON strings cannot hold them), so they become
 *     spaces and the record stays on one line. Other UTF-8 is a JSON string; anything else is
 *     base64 followed by `"valueEncoding":"base64"`.
 *
 * `raw` objects are each value's bytes and `\n` (a tombstone is an empty line); values may
 * hold newlines, so a `raw` object has no line grammar to read back.
 */

/** The text every line of a partition's `jsonl` objects starts with; the offset's digits follow. */
export function jsonlLineHead(topic: string, partition: number): string {
  return `{"topic":${JSON.stringify(topic)},"partition":${partition},"offset":`;
}

// Topic names are [a-zA-Z0-9._-] (topicNameProblem), so the topic's JSON string has no escapes.
const LINE_HEAD = /^\{"topic":"([^"\\]*)","partition":(\d+),"offset":(\d+),/;

/** The topic, partition and offset a `jsonl` line starts with, or null when it does not start like one. */
export function parseJsonlLineHead(
  line: string,
): { topic: string; partition: number; offset: bigint } | null {
  const m = LINE_HEAD.exec(line);
  if (!m) return null;
  return { topic: m[1]!, partition: Number(m[2]), offset: BigInt(m[3]!) };
}
