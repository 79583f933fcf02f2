/**
 * `schema: { source: "infer" }` (issue 13): the inline schema a sample of a topic's JSON values
 * suggests. Pure, so the dry run that proposes a schema and the registration that stores it
 * decide alike on the same sample; the master reads the sample (topics/schema-infer-sample.ts).
 *
 * The rules, per field, over every sampled value of it:
 *  - whole numbers (safe integers) → `int64`; any number with a fraction or beyond 2^53 → `double`
 *    (int32 never: a sample cannot bound the values to come, and int64 costs little once encoded);
 *  - true/false → `boolean`;
 *  - strings → `date` when every one is `YYYY-MM-DD`; `timestamp` in `us` when every one is an
 *    ISO-8601 date-time WITH a zone (`Z` or `±hh:mm`): microseconds keep every digit such a text
 *    can carry, and a text without a zone would read in the worker's local time, so it stays a
 *    `string`; anything else → `string`. Decimals and binary are never inferred (a JSON number
 *    is a double already, base64 text is indistinguishable from text);
 *  - objects → `struct` with the keys in the order first seen, or `map` when the keys vary
 *    widely ({@link isMapLike}); arrays → `list` of the items' inferred type;
 *  - every column is nullable: a sample cannot prove a field is always there, and a required
 *    column would reject a later record that lacks it.
 * A top-level field whose type cannot be decided (only nulls, only empty lists or objects, values
 * of kinds that do not widen into one type, nesting past {@link MAX_DEPTH}, past
 * {@link MAX_FIELDS} fields, a reserved name) is left out of the columns and named with the
 * reason in `leftOut`. Nothing is lost by that: an inferred schema keeps `unknownFields: "json"`,
 * so such a field, and a top-level field first seen after the sample, lands as JSON text in
 * `__sluice_extra`. (Inside a struct, fields not declared are dropped, as for any inline schema:
 * PATCH the schema to add them.) Columns keep the order in which the sample first shows them,
 * which is the producer's field order and does not change between runs on the same records.
 */
import {
  type ColumnField,
  type ColumnType,
  EXTRA_COLUMN,
  type InlineSchema,
  MAX_DEPTH,
  MAX_FIELDS,
  RESERVED_COLUMN_PREFIXES,
} from './inline-schema.ts';

/** Records a registration samples by default for `infer`, and at most. */
export const INFER_SAMPLE_DEFAULT = 1_000;
export const INFER_SAMPLE_MAX = 10_000;

/** Above this many distinct keys an object is a map whatever its keys. */
const MAP_ABOVE_KEYS = 64;
/** From this many distinct keys, keys that each appear in at most half of the objects make a map. */
const MAP_FROM_KEYS = 8;

/** What the sample showed of one field (or list item, or map value), merged over its values. */
interface Shape {
  kinds: Set<'boolean' | 'int' | 'double' | 'string' | 'object' | 'array'>;
  nulls: number;
  /** Of the strings: do all read as dates / as zoned ISO-8601 date-times. */
  allDates: boolean;
  allTimestamps: boolean;
  /** Of the objects: how many, each key's shape (in first-seen order) and how many had it. */
  objects: number;
  keys: Map<string, Shape>;
  keyCounts: Map<string, number>;
  /** Of the arrays: the items' shape (null while every array was empty). */
  items: Shape | null;
  /** Nested past MAX_DEPTH: not looked into. */
  tooDeep: boolean;
}

function newShape(): Shape {
  return {
    kinds: new Set(),
    nulls: 0,
    allDates: true,
    allTimestamps: true,
    objects: 0,
    keys: new Map(),
    keyCounts: new Map(),
    items: null,
    tooDeep: false,
  };
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const ZONED_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** A calendar date as the worker's `date` column reads it (`2024-02-30` is not one). */
function isDate(s: string): boolean {
  if (!DATE.test(s)) return false;
  const ms = Date.parse(`${s}T00:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().startsWith(s);
}

/** An ISO-8601 date-time with its zone, as the worker's `timestamp` column reads it. */
function isZonedTimestamp(s: string): boolean {
  return ZONED_DATE_TIME.test(s) && Number.isFinite(Date.parse(s.replace(' ', 'T')));
}

/** Adds one value (JSON, as parsed) at `depth` (a top-level field's value is at 0). */
function observe(shape: Shape, v: unknown, depth: number): void {
  if (v === null || v === undefined) {
    shape.nulls++;
    return;
  }
  if (depth > MAX_DEPTH) {
    shape.tooDeep = true;
    return;
  }
  if (typeof v === 'boolean') shape.kinds.add('boolean');
  else if (typeof v === 'number') shape.kinds.add(Number.isSafeInteger(v) ? 'int' : 'double');
  else if (typeof v === 'string') {
    shape.kinds.add('string');
    if (shape.allDates && !isDate(v)) shape.allDates = false;
    if (shape.allTimestamps && !isZonedTimestamp(v)) shape.allTimestamps = false;
  } else if (Array.isArray(v)) {
    shape.kinds.add('array');
    if (v.length > 0) {
      const items = shape.items ?? newShape();
      shape.items = items;
      for (const item of v) observe(items, item, depth + 1);
    }
  } else if (typeof v === 'object') {
    shape.kinds.add('object');
    observeObject(shape, v as Record<string, unknown>, depth + 1);
  }
}

/** Adds an object's fields, each at `depth`. */
function observeObject(shape: Shape, o: Record<string, unknown>, depth: number): void {
  shape.objects++;
  for (const [k, field] of Object.entries(o)) {
    let s = shape.keys.get(k);
    if (!s) {
      s = newShape();
      shape.keys.set(k, s);
    }
    shape.keyCounts.set(k, (shape.keyCounts.get(k) ?? 0) + 1);
    observe(s, field, depth);
  }
}

/** Two shapes as one (a map's values are every key's values). */
function merged(a: Shape, b: Shape): Shape {
  const out = newShape();
  out.kinds = new Set([...a.kinds, ...b.kinds]);
  out.nulls = a.nulls + b.nulls;
  out.allDates = a.allDates && b.allDates;
  out.allTimestamps = a.allTimestamps && b.allTimestamps;
  out.objects = a.objects + b.objects;
  out.tooDeep = a.tooDeep || b.tooDeep;
  for (const src of [a, b]) {
    for (const [k, s] of src.keys) {
      const had = out.keys.get(k);
      out.keys.set(k, had ? merged(had, s) : s);
      out.keyCounts.set(k, (out.keyCounts.get(k) ?? 0) + (src.keyCounts.get(k) ?? 0));
    }
  }
  out.items = a.items && b.items ? merged(a.items, b.items) : (a.items ?? b.items);
  return out;
}

/**
 * Keys that vary widely make a map, not a struct: more than {@link MAP_ABOVE_KEYS} distinct
 * keys (a struct that wide is an id-keyed object), or at least {@link MAP_FROM_KEYS} distinct
 * keys of which none is in more than half of the objects (ids, names, dates as keys).
 */
export function isMapLike(distinctKeys: number, objects: number, mostCommonKeyCount: number): boolean {
  if (distinctKeys > MAP_ABOVE_KEYS) return true;
  return distinctKeys >= MAP_FROM_KEYS && objects >= 2 && mostCommonKeyCount * 2 <= objects;
}

type Decided = { type: ColumnType; fields: number } | { problem: string };

/** A field's problem said of its items or values: "is null…" → "they are null…". */
function theyText(problem: string): string {
  return `they ${problem
    .replace(/^is /, 'are ')
    .replace(/^has /, 'have ')
    .replace(/^nests /, 'nest ')}`;
}

function kindsText(shape: Shape): string {
  return [...shape.kinds].map((k) => (k === 'int' ? 'whole number' : k)).join(' and ');
}

/** The column type of a shape, and how many fields it declares, or why there is none. */
function decide(shape: Shape): Decided {
  if (shape.tooDeep) return { problem: `nests deeper than ${MAX_DEPTH} levels` };
  if (shape.kinds.size === 0) return { problem: 'is null in every sampled record' };
  const kinds = [...shape.kinds];
  if (kinds.every((k) => k === 'int')) return { type: { type: 'int64' }, fields: 0 };
  if (kinds.every((k) => k === 'int' || k === 'double')) return { type: { type: 'double' }, fields: 0 };
  if (kinds.length > 1) return { problem: `has values of different kinds (${kindsText(shape)})` };
  switch (kinds[0]) {
    case 'boolean':
      return { type: { type: 'boolean' }, fields: 0 };
    case 'string':
      if (shape.allDates) return { type: { type: 'date' }, fields: 0 };
      if (shape.allTimestamps) return { type: { type: 'timestamp', unit: 'us' }, fields: 0 };
      return { type: { type: 'string' }, fields: 0 };
    case 'array': {
      if (!shape.items) return { problem: 'is an empty list in every sampled record' };
      const items = decide(shape.items);
      if ('problem' in items)
        return {
          problem: `has list items that cannot be typed: ${theyText(items.problem)}`,
        };
      return { type: { type: 'list', items: items.type }, fields: items.fields };
    }
    default:
      return decideObject(shape);
  }
}

function decideObject(shape: Shape): Decided {
  if (shape.keys.size === 0) return { problem: 'is an empty object in every sampled record' };
  const mostCommon = Math.max(...shape.keyCounts.values());
  if (isMapLike(shape.keys.size, shape.objects, mostCommon)) {
    const values = [...shape.keys.values()].reduce(merged);
    const v = decide(values);
    if ('problem' in v)
      return {
        problem: `is a map (its keys vary) whose values cannot be typed: ${theyText(v.problem)}`,
      };
    return { type: { type: 'map', values: v.type }, fields: v.fields };
  }
  const fields: ColumnField[] = [];
  let count = 0;
  for (const [name, s] of shape.keys) {
    if (name.length === 0 || name.length > 255) {
      return { problem: `has a key of ${name.length} characters; a struct field's name has 1 to 255` };
    }
    const d = decide(s);
    if ('problem' in d) return { problem: `has field "${name}" that ${d.problem}` };
    fields.push({ name, ...d.type });
    count += 1 + d.fields;
  }
  return { type: { type: 'struct', fields }, fields: count };
}

/** A top-level field the proposal leaves to `__sluice_extra`, and why. */
export interface LeftOutField {
  name: string;
  reason: string;
}

export interface InferredSchema {
  schema: InlineSchema;
  leftOut: LeftOutField[];
}

/**
 * The inline schema the sampled values suggest (objects, as JSON.parse gives them; the caller
 * refuses a sample with other values). `schema.fields` is empty when no field could be typed:
 * the caller refuses that too, naming `leftOut`.
 */
export function inferInlineSchema(values: ReadonlyArray<Record<string, unknown>>): InferredSchema {
  const top = newShape();
  for (const v of values) observeObject(top, v, 0);
  const fields: ColumnField[] = [];
  const leftOut: LeftOutField[] = [];
  let count = 0;
  for (const [name, shape] of top.keys) {
    const reserved = RESERVED_COLUMN_PREFIXES.find((p) => name.startsWith(p));
    if (reserved) {
      leftOut.push({ name, reason: `starts with "${reserved}", which Sluice keeps for its own columns` });
      continue;
    }
    if (name.length === 0 || name.length > 255) {
      leftOut.push({ name, reason: `is ${name.length} characters long; a column's name has 1 to 255` });
      continue;
    }
    const d = decide(shape);
    if ('problem' in d) {
      leftOut.push({ name, reason: d.problem });
      continue;
    }
    if (count + 1 + d.fields > MAX_FIELDS) {
      leftOut.push({ name, reason: `would take the schema past ${MAX_FIELDS} fields` });
      continue;
    }
    count += 1 + d.fields;
    fields.push({ name, ...d.type });
  }
  return { schema: { source: 'inline', fields, unknownFields: 'json' }, leftOut };
}

/** `leftOut` as one sentence for a message or a log line. */
export function leftOutText(leftOut: readonly LeftOutField[]): string {
  return leftOut.map((f) => `"${f.name}" ${f.reason}`).join('; ') + ` (kept as JSON text in ${EXTRA_COLUMN})`;
}
