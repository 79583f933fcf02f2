/**
 * Kafka records → the bytes of an object's lines. Pure; the hot path of the worker.
 *
 * `jsonl` lines follow the grammar of packages/shared/src/jsonl-line.ts (the master's deep
 * audit reads them back by it); this file writes it byte by byte, without building a value.
 * `raw`: each value's bytes and `\n`; a tombstone is an empty line.
 *
 * The output is a pure function of the records (invariant 3): no clocks, no locale.
 */
import { isUtf8 } from 'node:buffer';
import { type Format, jsonlLineHead } from '@sluice/shared';
import type { ChunkBuilder } from './chunk-builder.ts';
import { JSON_VALUE, jsonTextKind } from './json-text.ts';

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
function utf8Text(bytes: Buffer): string | undefined {
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

const LINE_END = Buffer.from('}\n');
const NULL_LINE_END = Buffer.from('null}\n');
const TIMESTAMP_FIELD = Buffer.from(',"timestamp":');
const KEY_FIELD = Buffer.from(',"key":');
const NULL = Buffer.from('null');
const KEY_BASE64 = Buffer.from(',"keyEncoding":"base64"');
const HEADERS_FIELD = Buffer.from(',"headers":[');
const HEADER_KEY = Buffer.from('{"key":');
const HEADER_KEY_BASE64 = Buffer.from(',"keyEncoding":"base64","value":');
const HEADER_VALUE = Buffer.from(',"value":');
const HEADER_NULL_END = Buffer.from('null}');
const HEADER_BASE64_END = Buffer.from(',"valueEncoding":"base64"}');
const VALUE_FIELD = Buffer.from('],"value":');
const VALUE_BASE64_END = Buffer.from(',"valueEncoding":"base64"}\n');
const HEX = '0123456789abcdef';

/**
 * Appends `bytes` (valid UTF-8) as a JSON string: the bytes JSON.stringify gives for their
 * text. It escapes `"`, `\` and the characters below U+0020 (the short forms where JSON has
 * them, else `\u00xx`) and nothing else; UTF-8 cannot hold the lone surrogates it would escape.
 */
function jsonString(bytes: Uint8Array, out: ChunkBuilder): void {
  out.byte(0x22);
  let from = 0;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const c = bytes[i] as number;
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) continue;
    if (i > from) out.bytes(bytes, from, i);
    from = i + 1;
    out.byte(0x5c);
    if (c === 0x22 || c === 0x5c) out.byte(c);
    else if (c === 0x08) out.byte(0x62);
    else if (c === 0x09) out.byte(0x74);
    else if (c === 0x0a) out.byte(0x6e);
    else if (c === 0x0c) out.byte(0x66);
    else if (c === 0x0d) out.byte(0x72);
    else out.ascii(`u00${HEX[c >> 4]}${HEX[c & 15]}`);
  }
  if (n > from) out.bytes(bytes, from, n);
  out.byte(0x22);
}

/** Appends a JSON text's bytes with CR and LF (whitespace there) turned into spaces. */
function oneLine(bytes: Uint8Array, out: ChunkBuilder): void {
  let from = 0;
  const n = bytes.length;
  let i = (bytes as Buffer).indexOf(0x0a);
  const cr = (bytes as Buffer).indexOf(0x0d);
  if (i < 0 && cr < 0) {
    out.bytes(bytes);
    return;
  }
  i = i < 0 ? cr : cr < 0 ? i : Math.min(i, cr);
  for (; i < n; i++) {
    const c = bytes[i] as number;
    if (c !== 0x0a && c !== 0x0d) continue;
    if (i > from) out.bytes(bytes, from, i);
    out.byte(0x20);
    from = i + 1;
  }
  if (n > from) out.bytes(bytes, from, n);
}

/**
 * Encodes records one at a time, either as a line of its own ({@link RecordEncoder.encode})
 * or straight into the chunks of an object ({@link RecordEncoder.encodeInto}, the worker's
 * path); both give the same bytes. After `encode`, {@link RecordEncoder.lastJson} holds the
 * parsed value when it was a JSON text; `encodeInto` never parses: time bucketing that needs
 * the value asks {@link RecordEncoder.parseValue} first.
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
  readonly #prefixBytes: Buffer;
  readonly #parseRaw: boolean;

  constructor(opts: RecordEncoderOptions) {
    this.format = opts.format;
    this.#prefix = jsonlLineHead(opts.topic, opts.partition);
    this.#prefixBytes = Buffer.from(this.#prefix, 'utf8');
    this.#parseRaw = opts.parseValues === true;
  }

  /** One record's line, newline included: a string for `jsonl`, a Buffer for `raw`. */
  encode(rec: EncodableRecord): string | Buffer {
    return this.format === 'jsonl' ? this.#jsonLine(rec) : this.#rawLine(rec);
  }

  /**
   * The value's parsed JSON, or undefined when it is not a JSON text (or is `null`, or a
   * tombstone, or not UTF-8): what event-time bucketing reads. Sets {@link lastJson}.
   */
  parseValue(rec: EncodableRecord): unknown {
    const v = rec.value;
    const text = v === null ? undefined : utf8Text(v);
    this.lastJson = text === undefined ? undefined : parseJsonText(text);
    return this.lastJson;
  }

  /** Appends one record's line, newline included, to `out`. Never parses the value. */
  encodeInto(rec: EncodableRecord, out: ChunkBuilder): void {
    if (this.format === 'raw') {
      const v = rec.value;
      if (v === null) this.tombstones++;
      else out.bytes(v);
      out.byte(0x0a);
      return;
    }
    out.bytes(this.#prefixBytes);
    out.ascii(rec.offset.toString());
    out.bytes(TIMESTAMP_FIELD);
    out.ascii(String(Number(rec.timestamp)));
    out.bytes(KEY_FIELD);
    const key = rec.key;
    if (key === null) out.bytes(NULL);
    else if (isUtf8(key)) jsonString(key, out);
    else {
      out.ascii(JSON.stringify(key.toString('base64')));
      out.bytes(KEY_BASE64);
    }
    out.bytes(HEADERS_FIELD);
    const headers = rec.headers;
    for (let i = 0; i < headers.length; i++) {
      const [hk, hv] = headers[i]!;
      if (i > 0) out.byte(0x2c);
      out.bytes(HEADER_KEY);
      if (isUtf8(hk)) {
        jsonString(hk, out);
        out.bytes(HEADER_VALUE);
      } else {
        out.ascii(JSON.stringify(hk.toString('base64')));
        out.bytes(HEADER_KEY_BASE64);
      }
      if (hv === null) out.bytes(HEADER_NULL_END);
      else if (isUtf8(hv)) {
        jsonString(hv, out);
        out.byte(0x7d);
      } else {
        out.ascii(JSON.stringify(hv.toString('base64')));
        out.bytes(HEADER_BASE64_END);
      }
    }
    out.bytes(VALUE_FIELD);
    const v = rec.value;
    if (v === null) {
      this.tombstones++;
      out.bytes(NULL_LINE_END);
    } else if (!isUtf8(v)) {
      this.binaryValues++;
      out.ascii(JSON.stringify(v.toString('base64')));
      out.bytes(VALUE_BASE64_END);
    } else {
      if (jsonTextKind(v) === JSON_VALUE) oneLine(v, out);
      else jsonString(v, out);
      out.bytes(LINE_END);
    }
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
