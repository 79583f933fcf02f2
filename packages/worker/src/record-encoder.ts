/**
 * Kafka records → the bytes of an object's lines. Pure; the hot path of the worker.
 *
 * `jsonl`: one JSON object per record and line, fields in this order:
 *
 *     {"topic":"t","partition":0,"offset":42,"timestamp":1764057600000,
 *      "key":"k","headers":[{"key":"h","value":"v"}],"value":{...}}
 *
 *   - `offset` is the exact integer (written from the bigint's digits, never through a double).
 *   - `key` is a UTF-8 string, null, or base64 followed by `"keyEncoding":"base64"`.
 *   - `headers` keep Kafka's order and repeated keys; a header that is not UTF-8 is base64 with
 *     `"keyEncoding"`/`"valueEncoding":"base64"` in that header object.
 *   - `value` is null only for a tombstone. A UTF-8 value that is a JSON text (other than
 *     `null`) is embedded as its original text, so that integers beyond 2^53 keep their digits;
 *     raw CR and LF in it can only be whitespace (JSON strings cannot hold them), so they become
 *     spaces and the record stays on one line. Other UTF-8 is a JSON string; anything else is
 *     base64 followed by `"valueEncoding":"base64"`.
 *
 * `raw`: each value's bytes and `\n`; a tombstone is an empty line.
 *
 * The output is a pure function of the records (invariant 3): no clocks, no locale.
 */
import type { Format } from '@sluice/shared';

/** A record as the range reader returns it (structurally the same as `FetchedRecord`). */
export interface EncodableRecord {
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<[Buffer, Buffer | null]>;
}

// ignoreBOM: a leading U+FEFF is data and must survive the round trip.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const NEWLINE = 0x0a;
const CR_OR_LF = /[\r\n]/g;

/** The text of `bytes` when they are valid UTF-8, else undefined. */
export function utf8Text(bytes: Buffer): string | undefined {
  if (bytes.length === 0) return '';
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

export interface RecordEncoderOptions {
  format: Format;
  topic: string;
  partition: number;
  /**
   * Also parse values for `raw` (event-time buckets need the parsed value). `jsonl` always
   * parses, because it must know whether a value is JSON.
   */
  parseValues?: boolean;
}

/**
 * Encodes records one at a time. After {@link RecordEncoder.encode}, {@link RecordEncoder.lastJson}
 * holds the parsed value when it was a JSON text (so time bucketing does not parse twice).
 */
export class RecordEncoder {
  readonly format: Format;
  /** Records with a null value so far. */
  tombstones = 0;
  /** `jsonl` values that were not UTF-8 and were written as base64. */
  binaryValues = 0;
  /** The parsed value of the last record, or undefined when it was not a JSON text. */
  lastJson: unknown = undefined;

  readonly #prefix: string;
  readonly #parseRaw: boolean;

  constructor(opts: RecordEncoderOptions) {
    this.format = opts.format;
    this.#prefix = `{"topic":${JSON.stringify(opts.topic)},"partition":${opts.partition},"offset":`;
    this.#parseRaw = opts.parseValues === true;
  }

  /** One record's line, newline included: a string for `jsonl`, a Buffer for `raw`. */
  encode(rec: EncodableRecord): string | Buffer {
    return this.format === 'jsonl' ? this.#jsonLine(rec) : this.#rawLine(rec);
  }

  #rawLine(rec: EncodableRecord): Buffer {
    const v = rec.value;
    this.lastJson = undefined;
    if (v === null) {
      this.tombstones++;
      return Buffer.from([NEWLINE]);
    }
    if (this.#parseRaw) {
      const text = utf8Text(v);
      if (text !== undefined) this.lastJson = parseJsonText(text);
    }
    const out = Buffer.allocUnsafe(v.length + 1);
    v.copy(out, 0);
    out[v.length] = NEWLINE;
    return out;
  }

  #jsonLine(rec: EncodableRecord): string {
    let line = `${this.#prefix}${rec.offset.toString()},"timestamp":${Number(rec.timestamp)},"key":`;
    const key = rec.key;
    if (key === null) {
      line += 'null';
    } else {
      const text = utf8Text(key);
      line +=
        text === undefined
          ? `${JSON.stringify(key.toString('base64'))},"keyEncoding":"base64"`
          : JSON.stringify(text);
    }
    line += ',"headers":[';
    const headers = rec.headers;
    for (let i = 0; i < headers.length; i++) {
      const [hk, hv] = headers[i]!;
      if (i > 0) line += ',';
      const kt = utf8Text(hk);
      line +=
        kt === undefined
          ? `{"key":${JSON.stringify(hk.toString('base64'))},"keyEncoding":"base64","value":`
          : `{"key":${JSON.stringify(kt)},"value":`;
      if (hv === null) {
        line += 'null}';
      } else {
        const vt = utf8Text(hv);
        line +=
          vt === undefined
            ? `${JSON.stringify(hv.toString('base64'))},"valueEncoding":"base64"}`
            : `${JSON.stringify(vt)}}`;
      }
    }
    line += '],"value":';
    const v = rec.value;
    this.lastJson = undefined;
    if (v === null) {
      this.tombstones++;
      return `${line}null}\n`;
    }
    const text = utf8Text(v);
    if (text === undefined) {
      this.binaryValues++;
      return `${line}${JSON.stringify(v.toString('base64'))},"valueEncoding":"base64"}\n`;
    }
    const parsed = parseJsonText(text);
    if (parsed === undefined) return `${line}${JSON.stringify(text)}}\n`;
    this.lastJson = parsed;
    return `${line}${text.replace(CR_OR_LF, ' ')}}\n`;
  }
}

/**
 * The parsed value of a JSON text, or undefined when it is not one — or is the literal `null`,
 * which `jsonl` writes as the string "null" so that a null value always means a tombstone.
 */
export function parseJsonText(text: string): unknown {
  // Cheap rejection before paying for an exception: a JSON text starts with one of these
  // after optional whitespace.
  const c = firstNonSpace(text);
  if (c === -1) return undefined;
  if (
    !(
      (
        c === 0x7b /* { */ ||
        c === 0x5b /* [ */ ||
        c === 0x22 /* " */ ||
        c === 0x2d /* - */ ||
        (c >= 0x30 && c <= 0x39) ||
        c === 0x74 /* t */ ||
        c === 0x66 /* f */ ||
        c === 0x6e
      ) /* n */
    )
  ) {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return parsed === null ? undefined : parsed;
}

function firstNonSpace(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return c;
  }
  return -1;
}
