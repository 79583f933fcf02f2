/**
 * Pure: a topic's inline schema → the Parquet schema of its files, and one Kafka record → one
 * row of them, or the reason it does not fit (the record then goes to the range's
 * rejected-records object, rejected-records.ts). No I/O, no clocks: the same record gives the
 * same row on every retry (invariant 3).
 *
 * Kafka's fields come first, as top-level columns (never a struct):
 *
 *   __kafka_partition  int32            __kafka_key        binary, null when the key is
 *   __kafka_offset     int64 (exact)    __kafka_headers    list<struct<key string, value binary>>
 *   __kafka_timestamp  timestamp(ms)    __kafka_tombstone  boolean: the value was null
 *   __sluice_event_time timestamp(ms): the time that chose the record's time folder
 *
 * then the declared fields in their order, then `__sluice_extra` (a JSON object text of the
 * fields the schema does not name) when the topic keeps them.
 */

import {
  type ColumnType,
  type ColumnTypeName,
  ErrorCodes,
  EXTRA_COLUMN,
  type InlineSchema,
  PARQUET_ENCODING,
  SluiceError,
} from '@sluice/shared';
import type { SchemaElement } from 'hyparquet-writer';

/**
 * A column as the file declares it: an inline schema's {@link ColumnType}, or one of the types
 * only registry schemas have (registry-columns.ts): `float` (32-bit), `time` (of day, `unit`
 * ms | us) and `fixed` (`size` bytes).
 */
export interface FileColumnType extends Omit<ColumnType, 'type' | 'items' | 'fields' | 'values'> {
  type: ColumnTypeName | 'float' | 'time' | 'fixed';
  /** `fixed`: its length in bytes. */
  size?: number;
  items?: FileColumnType;
  fields?: FileColumnField[];
  values?: FileColumnType;
}

export interface FileColumnField extends FileColumnType {
  name: string;
}

/** What a record does not fit: the reason names the field and what was expected. */
export class RecordRejection extends Error {}

const reject = (message: string): never => {
  throw new RecordRejection(message);
};

/** The columns Sluice adds before the value's, in file order. */
export const KAFKA_COLUMNS = [
  '__kafka_partition',
  '__kafka_offset',
  '__kafka_timestamp',
  '__kafka_key',
  '__kafka_headers',
  '__kafka_tombstone',
  '__sluice_event_time',
] as const;

const TS_MS = { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' } as const;

function repetition(t: FileColumnType): 'OPTIONAL' | 'REQUIRED' {
  return t.nullable === false ? 'REQUIRED' : 'OPTIONAL';
}

/** The schema elements of one column (depth first, as Parquet's flat schema lists them). */
function elementsOf(name: string, t: FileColumnType): SchemaElement[] {
  const repetition_type = repetition(t);
  switch (t.type) {
    case 'string':
      return [{ name, repetition_type, type: 'BYTE_ARRAY', converted_type: 'UTF8' }];
    case 'binary':
      return [{ name, repetition_type, type: 'BYTE_ARRAY' }];
    case 'int32':
      return [{ name, repetition_type, type: 'INT32' }];
    case 'int64':
      return [{ name, repetition_type, type: 'INT64' }];
    case 'double':
      return [{ name, repetition_type, type: 'DOUBLE' }];
    case 'float':
      return [{ name, repetition_type, type: 'FLOAT' }];
    case 'fixed':
      return [{ name, repetition_type, type: 'FIXED_LEN_BYTE_ARRAY', type_length: t.size! }];
    case 'time':
      // TIME(MILLIS) is an INT32, TIME(MICROS) an INT64 (LogicalTypes.md).
      return [
        {
          name,
          repetition_type,
          type: t.unit === 'us' ? 'INT64' : 'INT32',
          logical_type: { type: 'TIME', isAdjustedToUTC: true, unit: t.unit === 'us' ? 'MICROS' : 'MILLIS' },
        },
      ];
    case 'boolean':
      return [{ name, repetition_type, type: 'BOOLEAN' }];
    case 'date':
      return [{ name, repetition_type, type: 'INT32', converted_type: 'DATE' }];
    case 'timestamp':
      return [
        {
          name,
          repetition_type,
          type: 'INT64',
          logical_type: { ...TS_MS, unit: t.unit === 'us' ? 'MICROS' : 'MILLIS' },
        },
      ];
    case 'decimal': {
      const precision = t.precision ?? 38;
      // The smallest physical type the precision fits: what parquet-mr and Spark write.
      const type = precision <= 9 ? 'INT32' : precision <= 18 ? 'INT64' : 'BYTE_ARRAY';
      return [{ name, repetition_type, type, converted_type: 'DECIMAL', precision, scale: t.scale ?? 0 }];
    }
    case 'list':
      // The three-level list of the Parquet spec (LogicalTypes.md), as pyarrow and Spark write it.
      return [
        { name, repetition_type, converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        ...elementsOf('element', t.items!),
      ];
    case 'map':
      return [
        { name, repetition_type, converted_type: 'MAP', num_children: 1 },
        { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
        { name: 'key', repetition_type: 'REQUIRED', type: 'BYTE_ARRAY', converted_type: 'UTF8' },
        ...elementsOf('value', t.values!),
      ];
    case 'struct':
      return [
        { name, repetition_type, num_children: t.fields!.length },
        ...t.fields!.flatMap((f) => elementsOf(f.name, f)),
      ];
    default:
      throw new RangeError(`unknown column type ${JSON.stringify(t.type)}`);
  }
}

/** Kafka's columns ({@link KAFKA_COLUMNS}), in file order. */
const KAFKA_ELEMENTS: SchemaElement[] = [
  { name: '__kafka_partition', repetition_type: 'REQUIRED', type: 'INT32' },
  { name: '__kafka_offset', repetition_type: 'REQUIRED', type: 'INT64' },
  { name: '__kafka_timestamp', repetition_type: 'REQUIRED', type: 'INT64', logical_type: TS_MS },
  { name: '__kafka_key', repetition_type: 'OPTIONAL', type: 'BYTE_ARRAY' },
  ...elementsOf('__kafka_headers', {
    type: 'list',
    nullable: false,
    items: {
      type: 'struct',
      nullable: false,
      fields: [
        { name: 'key', type: 'string', nullable: false },
        { name: 'value', type: 'binary' },
      ],
    },
  }),
  { name: '__kafka_tombstone', repetition_type: 'REQUIRED', type: 'BOOLEAN' },
  { name: '__sluice_event_time', repetition_type: 'REQUIRED', type: 'INT64', logical_type: TS_MS },
];

/** What a Parquet file of a topic holds: its flat schema and its top-level column names in order. */
export interface ParquetLayout {
  schema: SchemaElement[];
  names: string[];
}

/**
 * The layout of a file: Kafka's columns, then the value's `fields`, then the extra column if
 * asked. `key`: the type of `__kafka_key` when keys are decoded by the registry (else binary).
 */
export function layoutOf(
  fields: readonly FileColumnField[],
  extraColumn: boolean,
  key?: FileColumnType,
): ParquetLayout {
  const kafka =
    key === undefined
      ? KAFKA_ELEMENTS
      : KAFKA_ELEMENTS.flatMap((e) =>
          e.name === '__kafka_key' ? elementsOf('__kafka_key', { ...key, nullable: true }) : [e],
        );
  const value = fields.flatMap((f) => elementsOf(f.name, f));
  const extra: SchemaElement[] = extraColumn
    ? [{ name: EXTRA_COLUMN, repetition_type: 'OPTIONAL', type: 'BYTE_ARRAY', converted_type: 'JSON' }]
    : [];
  const names = [...KAFKA_COLUMNS, ...fields.map((f) => f.name), ...(extraColumn ? [EXTRA_COLUMN] : [])];
  return {
    schema: [{ name: 'schema', num_children: names.length }, ...kafka, ...value, ...extra],
    names,
  };
}

/** The layout of an inline schema's files: Kafka's columns, the declared ones, the extra one. */
export function inlineLayoutOf(schema: InlineSchema): ParquetLayout {
  return layoutOf(schema.fields, schema.unknownFields === 'json');
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const DAY_MS = 86_400_000;

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

function int64Of(v: unknown, at: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d{1,19}$/.test(v)) {
    const n = BigInt(v);
    if (n >= INT64_MIN && n <= INT64_MAX) return n;
  }
  return reject(
    `${at}: expected an int64 (a whole number; above 2^53 as a decimal string to stay exact), got ${kind(v)}`,
  );
}

/** A decimal's unscaled value: JSON number or decimal text, at most `scale` digits after the point. */
function decimalOf(v: unknown, t: FileColumnType, at: string): bigint {
  const precision = t.precision ?? 38;
  const scale = t.scale ?? 0;
  const text = typeof v === 'number' && Number.isFinite(v) ? String(v) : typeof v === 'string' ? v : '';
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m)
    return reject(
      `${at}: expected a decimal(${precision}, ${scale}) as a number or decimal text, got ${kind(v)}`,
    );
  const frac = (m[3] ?? '').replace(/0+$/, '');
  // A JSON number reached us as a double: past 2^53, or past 15 significant digits, its text
  // is not the producer's any more, so storing it would change the value without a word.
  if (typeof v === 'number' && !Number.isSafeInteger(v)) {
    const significant = `${m[2]}${frac}`.replace(/^0+/, '').length;
    if (Math.abs(v) >= 2 ** 53 || significant > 15)
      return reject(
        `${at}: ${text} has more digits than a JSON number keeps exactly (a double: 15 significant digits, integers below 2^53); send the decimal as text, e.g. "12345678901234567890.12"`,
      );
  }
  if (frac.length > scale)
    return reject(
      `${at}: ${text} has more than ${scale} digits after the point (decimal(${precision}, ${scale}))`,
    );
  const digits = `${m[2]}${frac.padEnd(scale, '0')}`.replace(/^0+(?=\d)/, '');
  if (digits.length > precision)
    return reject(`${at}: ${text} has more than ${precision} digits (decimal(${precision}, ${scale}))`);
  const n = BigInt(digits);
  return m[1] === '-' ? -n : n;
}

function timestampOf(v: unknown, t: FileColumnType, at: string): bigint {
  const us = t.unit === 'us';
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(v)) {
    // Fractions below a millisecond are kept for µs columns: Date.parse stops at ms.
    const ms = Date.parse(v.replace(' ', 'T'));
    if (Number.isFinite(ms)) {
      if (!us) return BigInt(ms);
      const frac = /\.\d{3}(\d{1,3})/.exec(v)?.[1] ?? '';
      return BigInt(ms) * 1000n + BigInt(frac.padEnd(3, '0') || '0');
    }
  }
  return reject(
    `${at}: expected a timestamp (epoch ${us ? 'microseconds' : 'milliseconds'} or ISO-8601 text), got ${kind(v)}`,
  );
}

function dateOf(v: unknown, at: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && Math.abs(v) < 2 ** 31) return v;
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) {
    const ms = Date.parse(`${v}T00:00:00Z`);
    if (Number.isFinite(ms) && new Date(ms).toISOString().startsWith(v)) return ms / DAY_MS;
  }
  return reject(`${at}: expected a date ("YYYY-MM-DD" or days since 1970-01-01), got ${kind(v)}`);
}

/** One JSON value as the writer takes it for a column of type `t`; `at` names it in a rejection. */
export function columnValue(t: FileColumnType, v: unknown, at: string): unknown {
  if (v === null || v === undefined) {
    if (t.nullable === false)
      reject(`${at}: is required (nullable: false), got ${v === null ? 'null' : 'nothing'}`);
    return null;
  }
  switch (t.type) {
    case 'string':
      return typeof v === 'string' ? v : reject(`${at}: expected a string, got ${kind(v)}`);
    case 'binary':
      if (typeof v === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(v) && v.length % 4 === 0)
        return Buffer.from(v, 'base64');
      return reject(`${at}: expected binary as base64 text, got ${kind(v)}`);
    case 'boolean':
      return typeof v === 'boolean' ? v : reject(`${at}: expected true or false, got ${kind(v)}`);
    case 'int32':
      if (typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31) return v;
      return reject(`${at}: expected an int32 (a whole number from -2^31 to 2^31-1), got ${kind(v)}`);
    case 'int64':
      return int64Of(v, at);
    case 'double':
    case 'float':
      return typeof v === 'number' ? v : reject(`${at}: expected a number, got ${kind(v)}`);
    case 'timestamp':
      return timestampOf(v, t, at);
    case 'date':
      return dateOf(v, at);
    case 'decimal':
      return decimalOf(v, t, at);
    case 'list':
      if (!Array.isArray(v)) return reject(`${at}: expected an array, got ${kind(v)}`);
      return v.map((item, i) => columnValue(t.items!, item, `${at}[${i}]`));
    case 'map':
      if (typeof v !== 'object' || Array.isArray(v))
        return reject(`${at}: expected an object (a map), got ${kind(v)}`);
      return Object.entries(v as Record<string, unknown>).map(([key, value]) => ({
        key,
        value: columnValue(t.values!, value, `${at}.${key}`),
      }));
    case 'struct':
      if (typeof v !== 'object' || Array.isArray(v))
        return reject(`${at}: expected an object, got ${kind(v)}`);
      return structOf(t.fields!, v as Record<string, unknown>, at, 'drop').row;
    default:
      throw new RangeError(`unknown column type ${JSON.stringify(t.type)}`);
  }
}

/** A struct's (or the value's) declared fields, and the JSON text of the ones not declared. */
function structOf(
  fields: readonly FileColumnField[],
  v: Record<string, unknown>,
  at: string,
  unknown: 'drop' | 'json',
): { row: Record<string, unknown>; extra: Record<string, unknown> | null } {
  const row: Record<string, unknown> = {};
  for (const f of fields) row[f.name] = columnValue(f, v[f.name], at ? `${at}.${f.name}` : f.name);
  return { row, extra: unknown === 'drop' ? null : extraOf(fields, v) };
}

/** The fields of `v` that `fields` does not name, or null when there are none. */
function extraOf(
  fields: readonly FileColumnField[],
  v: Record<string, unknown>,
): Record<string, unknown> | null {
  const rest: Record<string, unknown> = {};
  let any = false;
  for (const k of Object.keys(v)) {
    if (fields.some((f) => f.name === k)) continue;
    rest[k] = v[k];
    any = true;
  }
  // The writer stores it as JSON text (the column's JSON type), in the value's key order.
  return any ? rest : null;
}

/** A Kafka record as the row builder needs it (structurally the worker's fetched record). */
export interface RowSource {
  partition: number;
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  headers: Array<[Buffer, Buffer | null]>;
  /** The value's bytes; null for a tombstone. */
  value: Buffer | null;
}

/** How many of Kafka's columns open every row ({@link KAFKA_COLUMNS}). */
export const KAFKA_COLUMN_COUNT = KAFKA_COLUMNS.length;
/** Where `__kafka_key` is in a row. */
export const KEY_COLUMN = KAFKA_COLUMNS.indexOf('__kafka_key');

/** The headers of a record without any: one array for all of them (the writer only reads it). */
const NO_HEADERS: readonly never[] = Object.freeze([]);

/**
 * Kafka's columns of a record, into `out[0]` to `out[6]` in {@link KAFKA_COLUMNS} order. A row
 * is an array in the layout's column order, filled in place: no object per row that the
 * writer would have to take apart again by name.
 */
export function kafkaValuesInto(
  out: unknown[],
  rec: Omit<RowSource, 'partition'>,
  partition: number,
  eventTimeMs: number,
): void {
  out[0] = partition;
  out[1] = rec.offset;
  out[2] = rec.timestamp;
  out[3] = rec.key;
  out[4] =
    rec.headers.length === 0
      ? NO_HEADERS
      : rec.headers.map(([k, v]) => ({ key: k.toString('utf8'), value: v }));
  out[5] = rec.value === null;
  out[6] = BigInt(eventTimeMs);
}

/**
 * The value columns of an inline schema's row, into `out` after Kafka's (layout order: the
 * declared fields, then the extra column when the topic keeps unnamed fields). `parsed` is the
 * value's JSON (as record-encoder.ts `parseJsonText` gives it: undefined when the value is not
 * JSON text). Throws {@link RecordRejection} when the value does not fit; `out` is then
 * half-filled and must not be used.
 */
export function inlineValuesInto(
  out: unknown[],
  schema: InlineSchema,
  value: Buffer | null,
  parsed: unknown,
): void {
  const unknown = schema.unknownFields ?? 'drop';
  let i = KAFKA_COLUMN_COUNT;
  if (value === null) {
    // A tombstone is a row too: its value columns are null, which required ones cannot be.
    for (const f of schema.fields) out[i++] = columnValue(f, null, f.name);
    if (unknown === 'json') out[i] = null;
    return;
  }
  const v = jsonObjectOf(parsed);
  for (const f of schema.fields) out[i++] = columnValue(f, v[f.name], f.name);
  if (unknown === 'json') out[i] = extraOf(schema.fields, v);
}

/**
 * One record's row by column name (Kafka's, the declared ones, the extra one): the same
 * values {@link kafkaValuesInto} and {@link inlineValuesInto} write, for a reader of one row.
 * Throws {@link RecordRejection} when the value does not fit.
 */
export function rowOf(
  schema: InlineSchema,
  rec: RowSource,
  parsed: unknown,
  eventTimeMs: number,
): Record<string, unknown> {
  const values: unknown[] = [];
  kafkaValuesInto(values, rec, rec.partition, eventTimeMs);
  inlineValuesInto(values, schema, rec.value, parsed);
  return Object.fromEntries(inlineLayoutOf(schema).names.map((n, i) => [n, values[i] ?? null]));
}

/** The value as a JSON object, or the rejection that says what it is instead. */
function jsonObjectOf(parsed: unknown): Record<string, unknown> {
  if (parsed === undefined || parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    reject(
      parsed === undefined
        ? 'the value is not JSON text (UTF-8 JSON): an inline schema maps the fields of a JSON object'
        : `the value is ${kind(parsed)}, not a JSON object: an inline schema maps the fields of a JSON object`,
    );
  }
  return parsed as Record<string, unknown>;
}

/**
 * The value columns of a JSON object's row (`fields` as declared; the others dropped or kept
 * as JSON). Throws {@link RecordRejection} when it is no JSON object or a field does not fit.
 */
export function valueColumnsOf(
  fields: readonly FileColumnField[],
  parsed: unknown,
  unknown: 'drop' | 'json' = 'drop',
): { row: Record<string, unknown>; extra: Record<string, unknown> | null } {
  return structOf(fields, jsonObjectOf(parsed), '', unknown);
}

/**
 * The encoding revision a range's Parquet files are written with: its snapshot's, 1 when the
 * snapshot predates revisions. A revision this worker does not know is refused before any byte.
 */
export function parquetRevisionOf(revision: number | undefined): number {
  if (revision === undefined) return 1;
  if (!Number.isSafeInteger(revision) || revision < 1 || revision > PARQUET_ENCODING) {
    throw new SluiceError(
      ErrorCodes.NEWER_LAYOUT,
      `the range was planned for Parquet encoding revision ${revision}, and this worker writes revisions 1 to ${PARQUET_ENCODING}: upgrade the workers before the masters (README, "Upgrading")`,
      { retryable: true },
    );
  }
  return revision;
}
