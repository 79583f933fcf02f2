/**
 * Pure: a writer schema from the Schema Registry → the Parquet columns of its files, and a
 * value decoded with it (registry-values.ts) → the value columns of its row. Exists so that
 * `format: "parquet"` with `schema: { source: "registry" }` lays out columns the way
 * parquet-avro (and so Kafka Connect's S3 sink) does, on the same column machinery as inline
 * schemas (parquet-columns.ts). No I/O, no clocks: one value gives one row on every retry.
 * JSON Schema and Protobuf schemas map as Kafka Connect's converters do (see jsonColumnsOf,
 * protoFieldsOf below). Avro:
 *
 *   record            struct (group); the top-level record's fields are the file's columns
 *   [null, T]         T, optional; a field of any other type is required
 *   [A, B, …]         struct of optional members member0, member1, … (null left out), the one
 *                     the value took set, the others null
 *   enum              string            fixed           fixed-length binary
 *   array             LIST              map             MAP (string keys)
 *   bytes             binary            string          string
 *   int, long, float, double, boolean   as themselves
 *   timestamp-millis / -micros          TIMESTAMP(MILLIS / MICROS, UTC)
 *   date              DATE              time-millis / -micros   TIME(MILLIS / MICROS, UTC)
 *   decimal (bytes or fixed)            DECIMAL(precision, scale)
 *   uuid              string
 *
 * A schema that cannot be laid out (recursive records, an empty record, a field named like
 * Sluice's own columns) is a rejection of the records written with it, never a range failure.
 */
import {
  RESERVED_COLUMN_PREFIXES,
  type RegisteredSchema,
  type ResolvedReference,
  type SchemaRejection,
} from '@sluice/shared';
import type avro from 'avsc';
import protobuf from 'protobufjs';
import {
  columnValue,
  type FileColumnField,
  type FileColumnType,
  layoutOf,
  type ParquetLayout,
  RecordRejection,
  valueColumnsOf,
} from './parquet-columns.ts';
import { avroSchemaOf, avroTypeOf, PROTO_TIMESTAMP, PROTO_WRAPPERS } from './registry-values.ts';

/** The columns of one registry schema's files, and how a decoded value fills them. */
export interface RegistryColumns {
  layout: ParquetLayout;
  /** The value's top-level columns (after Kafka's). */
  fields: FileColumnField[];
  /** The value's top-level columns of a row, from the value as avsc decoded it. */
  valueRow(value: unknown): Record<string, unknown>;
  /** The schema as one column (a struct of a record's fields): `__kafka_key` of decoded keys. */
  column: FileColumnType;
  /** A decoded value as the value of {@link column}. */
  columnValue(value: unknown): unknown;
}

/** The column a non-record value is written to (a schema of `"string"`, an array, …). */
export const VALUE_COLUMN = 'value';

type Convert = (v: unknown) => unknown;
interface Node {
  column: FileColumnType;
  convert: Convert;
}

/** What an Avro schema cannot be laid out as: the message says what and where. */
class LayoutError extends Error {}

type AvroJson = string | AvroJson[] | { [k: string]: unknown };

const same: Convert = (v) => v;
const toBigInt: Convert = (v) => BigInt(v as number | bigint);

/** A decimal's unscaled value: Avro stores it as big-endian two's complement bytes. */
export function unscaledOf(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return bytes[0]! & 0x80 ? n - (1n << BigInt(bytes.length * 8)) : n;
}

/** The lay-out of one schema, and its rejection when it has none. Cached per registry entry. */
const cache = new WeakMap<RegisteredSchema, RegistryColumns | SchemaRejection>();

/** The columns of the files of writer schema `s` (an Avro schema), or why there are none. */
/** Protobuf: the layout of each message type a schema's records were written as. */
const messageCache = new WeakMap<protobuf.Type, RegistryColumns | SchemaRejection>();

/**
 * The columns of the files of writer schema `s`, or why there are none. A Protobuf schema's
 * columns are those of `message`, the type the record's message indexes named.
 */
export function registryColumnsOf(
  s: RegisteredSchema,
  message?: protobuf.Type,
): RegistryColumns | SchemaRejection {
  const known = message === undefined ? cache.get(s) : messageCache.get(message);
  if (known !== undefined) return known;
  const out = layOut(s, message);
  if (message === undefined) cache.set(s, out);
  else messageCache.set(message, out);
  return out;
}

function layOut(s: RegisteredSchema, message: protobuf.Type | undefined): RegistryColumns | SchemaRejection {
  try {
    if (s.schemaType === 'JSON') return jsonColumnsOf(JSON.parse(s.schema) as JsonNode, s.resolved ?? []);
    if (s.schemaType === 'PROTOBUF') {
      if (message === undefined) throw new LayoutError('the record names no message type');
      return topColumns(protoFieldsOf(message, new Set()), (fields) => (v) => valueColumnsOf(fields, v).row);
    }
    const json = avroSchemaOf(s) as AvroJson;
    return avroColumnsOf(json, avroTypeOf(json));
  } catch (err) {
    const why = err instanceof LayoutError ? err.message : `it does not parse: ${(err as Error).message}`;
    return { reject: `writer schema ${s.id} has no Parquet layout: ${why}` };
  }
}

/**
 * The columns of Avro schema `json` (whose avsc type, built by registry-values.ts `avroTypeOf`,
 * decoded the values). Throws {@link LayoutError} when Parquet cannot hold it.
 */
export function avroColumnsOf(json: AvroJson, type: avro.Type): RegistryColumns {
  const walk = new Walk();
  const top = walk.node(json, type, '');
  if (top.column.type === 'struct' && isRecord(type))
    return topColumns(top.column.fields!, () => top.convert as (v: unknown) => Record<string, unknown>);
  return valueColumn(top.column, top.convert);
}

/** A value that is no record: one column, `value`. */
function valueColumn(column: FileColumnType, convert: (v: unknown) => unknown): RegistryColumns {
  const fields = [{ name: VALUE_COLUMN, ...column }];
  return {
    layout: layoutOf(fields, false),
    fields,
    valueRow: (v) => ({ [VALUE_COLUMN]: convert(v) }),
    column,
    columnValue: convert,
  };
}

/** A record's (object's, message's) fields as the file's top-level columns, after Kafka's. */
function topColumns(
  fields: FileColumnField[],
  rowOf: (fields: FileColumnField[]) => (v: unknown) => Record<string, unknown>,
): RegistryColumns {
  for (const f of fields) {
    const reserved = RESERVED_COLUMN_PREFIXES.find((p) => f.name.startsWith(p));
    if (reserved)
      throw new LayoutError(
        `field "${f.name}" starts with "${reserved}", which Sluice keeps for Kafka's columns; rename it in a new schema version`,
      );
  }
  const valueRow = rowOf(fields);
  return {
    layout: layoutOf(fields, false),
    fields,
    valueRow,
    column: { type: 'struct', fields },
    columnValue: valueRow,
  };
}

/** Layouts of files whose `__kafka_key` is typed by a key schema, per value and key columns. */
const keyedLayouts = new WeakMap<RegistryColumns, WeakMap<RegistryColumns, ParquetLayout>>();

/** The layout of files of `value`'s columns whose keys are decoded with `key`'s (one object each). */
export function keyedLayoutOf(value: RegistryColumns, key: RegistryColumns): ParquetLayout {
  let byKey = keyedLayouts.get(value);
  if (byKey === undefined) {
    byKey = new WeakMap();
    keyedLayouts.set(value, byKey);
  }
  let layout = byKey.get(key);
  if (layout === undefined) {
    layout = layoutOf(value.fields, false, key.column);
    byKey.set(key, layout);
  }
  return layout;
}

type JsonNode = { [k: string]: unknown };

/**
 * A JSON Schema → columns, as Kafka Connect's JSON Schema converter maps it: an object's
 * properties → struct fields (required ones non-null), string, integer (int64), number
 * (double), boolean, array → LIST, an object of `additionalProperties` only → MAP, a type
 * `[T, "null"]` or `oneOf`/`anyOf` of T and null → optional T, several types (`["string",
 * "integer"]`, a `oneOf`/`anyOf` of several) → a struct of optional `member0`, `member1`…, one
 * per branch, the one the value's JSON type picks set (Connect's OneOf struct, with the member
 * names Sluice gives Avro unions); `$ref`s are followed, inside the
 * schema (`#/…`) and to the schemas of its references (`address.json`, `address.json#/…`: the
 * reference's name, or its last path segment when the `$ref` is a URL).
 * Values are JSON, so the inline schema's checks take them (parquet-columns.ts columnValue):
 * a value of the wrong type is a rejection naming the field.
 */
function jsonColumnsOf(doc: JsonNode, refs: readonly ResolvedReference[]): RegistryColumns {
  const open = new Set<string>();
  const docs = new Map<string, JsonNode>();
  const lastSegment = (name: string) => name.slice(name.lastIndexOf('/') + 1);
  /** The document a `$ref` names before its `#`: a reference's schema. */
  const docOf = (file: string, at: string): JsonNode => {
    const ref =
      refs.find((r) => r.name === file) ?? refs.find((r) => lastSegment(r.name) === lastSegment(file));
    if (ref === undefined)
      throw new LayoutError(
        `${at || 'the value'} refers to ${file}, which is none of the schema's references (${refs.map((r) => r.name).join(', ') || 'it has none'})`,
      );
    if (ref.schemaType !== 'JSON')
      throw new LayoutError(
        `${at || 'the value'} refers to ${file}, a ${ref.schemaType} schema (subject ${ref.subject}), not a JSON Schema`,
      );
    let out = docs.get(ref.name);
    if (out === undefined) {
      out = JSON.parse(ref.schema) as JsonNode;
      docs.set(ref.name, out);
    }
    return out;
  };
  /** The node a `$ref` names and the document it is in (its own `#/…` refs are resolved there). */
  const deref = (
    n: JsonNode,
    at: string,
    base: JsonNode,
  ): { n: JsonNode; base: JsonNode; key: string | null } => {
    const ref = n.$ref;
    if (typeof ref !== 'string') return { n, base, key: null };
    const hash = ref.indexOf('#');
    const file = hash < 0 ? ref : ref.slice(0, hash);
    const target = file === '' ? base : docOf(file, at);
    let node: unknown = target;
    for (const part of (hash < 0 ? '' : ref.slice(hash + 1)).split('/').filter(Boolean))
      node = (node as JsonNode | undefined)?.[part.replaceAll('~1', '/').replaceAll('~0', '~')];
    if (node === null || typeof node !== 'object')
      throw new LayoutError(`${at}: ${ref} is not in the schema`);
    const key = `${file === '' && base === doc ? '' : file}#${hash < 0 ? '' : ref.slice(hash + 1)}`;
    if (open.has(key)) throw new LayoutError(`${at}: ${ref} contains itself: Parquet has no recursive types`);
    return { n: node as JsonNode, base: target, key };
  };
  const node = (raw: JsonNode, at: string, base: JsonNode): FileColumnType => {
    const d = deref(raw, at, base);
    if (d.key !== null) open.add(d.key);
    try {
      return typeOf(d.n, at, d.base);
    } finally {
      if (d.key !== null) open.delete(d.key);
    }
  };
  /** Struct columns that stand for a union of several types (one optional member per branch). */
  const unions = new WeakSet<FileColumnType>();
  const unionOf = (members: FileColumnType[], nullable: boolean, at: string): FileColumnType => {
    const kinds = members.map((m) => jsonKindOf(m, unions, at));
    const twice = kinds.find((k, i) => kinds.indexOf(k) !== i);
    if (twice !== undefined)
      throw new LayoutError(
        `${at || 'the value'} is one of several schemas of JSON type ${twice}: a value could not say which it is; only branches of distinct types map to columns`,
      );
    const column: FileColumnType = {
      type: 'struct',
      nullable,
      fields: members.map((m, i) => ({ name: `member${i}`, ...m, nullable: true })),
    };
    unions.add(column);
    return column;
  };
  const memberAt = (at: string, i: number) => (at ? `${at}.member${i}` : `member${i}`);
  const typeOf = (n: JsonNode, at: string, base: JsonNode): FileColumnType => {
    const union = (n.oneOf ?? n.anyOf) as JsonNode[] | undefined;
    if (Array.isArray(union)) {
      const other = union.filter((b) => b.type !== 'null');
      if (other.length === 0) throw new LayoutError(`${at || 'the value'} is of type null alone`);
      const nullable = other.length < union.length;
      if (other.length === 1) {
        const only = node(other[0]!, at, base);
        const column = { ...only, nullable };
        if (unions.has(only)) unions.add(column);
        return column;
      }
      return unionOf(
        other.map((b, i) => node(b, memberAt(at, i), base)),
        nullable,
        at,
      );
    }
    let t = n.type;
    let nullable = false;
    if (Array.isArray(t)) {
      const other = t.filter((x) => x !== 'null');
      nullable = other.length < t.length;
      if (other.length > 1)
        return unionOf(
          other.map((x, i) => typeOf({ ...n, type: x }, memberAt(at, i), base)),
          nullable,
          at,
        );
      t = other[0];
    }
    if (t === undefined)
      t = n.properties ? 'object' : n.enum || typeof n.const === 'string' ? 'string' : undefined;
    switch (t) {
      case 'string':
        return { type: 'string', nullable };
      case 'integer':
        return { type: 'int64', nullable };
      case 'number':
        return { type: 'double', nullable };
      case 'boolean':
        return { type: 'boolean', nullable };
      case 'array':
        if (n.items === null || typeof n.items !== 'object' || Array.isArray(n.items))
          throw new LayoutError(`${at} is an array without one "items" schema`);
        return { type: 'list', nullable, items: node(n.items as JsonNode, `${at}[]`, base) };
      case 'object': {
        const props = n.properties as Record<string, JsonNode> | undefined;
        if (props && Object.keys(props).length > 0) {
          const required = new Set(Array.isArray(n.required) ? (n.required as string[]) : []);
          const fields = Object.entries(props).map(([name, p]) => {
            const c = node(p, at ? `${at}.${name}` : name, base);
            const field = { name, ...c, nullable: c.nullable !== false || !required.has(name) };
            if (unions.has(c)) unions.add(field);
            return field;
          });
          return { type: 'struct', nullable, fields };
        }
        const extra = n.additionalProperties;
        if (extra !== null && typeof extra === 'object')
          return { type: 'map', nullable, values: node(extra as JsonNode, `${at}{}`, base) };
        throw new LayoutError(
          `${at || 'the value'} is an object with neither properties nor additionalProperties schema`,
        );
      }
      default:
        throw new LayoutError(
          `${at || 'the value'} has the type ${JSON.stringify(t)}, which maps to no column`,
        );
    }
  };
  const top = node(doc, '', doc);
  // Values of unions are JSON of one branch: moved into that branch's member first.
  const fix = unionValuesOf(top, unions, '') ?? ((v: unknown) => v);
  if (top.type === 'struct')
    return topColumns(top.fields!, (fields) => (v) => valueColumnsOf(fields, fix(v)).row);
  return valueColumn(top, (v) => columnValue(top, fix(v), VALUE_COLUMN));
}

type JsonKind = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';

/** The JSON type a union member's column takes. */
function jsonKindOf(c: FileColumnType, unions: WeakSet<FileColumnType>, at: string): JsonKind {
  if (unions.has(c)) throw new LayoutError(`${at || 'the value'} is a union inside a union`);
  switch (c.type) {
    case 'string':
      return 'string';
    case 'int64':
      return 'integer';
    case 'double':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'list':
      return 'array';
    default:
      return 'object';
  }
}

function fitsKind(kind: JsonKind, v: unknown): boolean {
  switch (kind) {
    case 'string':
    case 'boolean':
      return typeof v === kind;
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'array':
      return Array.isArray(v);
    default:
      return typeof v === 'object' && v !== null && !Array.isArray(v);
  }
}

/**
 * What moves the JSON values of `c`'s unions into their members (the first branch whose type
 * the value has, as Kafka Connect's JSON Schema converter picks the first branch that
 * validates), or null when `c` holds no union. A value of none of the types is a rejection.
 */
function unionValuesOf(
  c: FileColumnType,
  unions: WeakSet<FileColumnType>,
  at: string,
): ((v: unknown) => unknown) | null {
  const where = at || 'the value';
  if (unions.has(c)) {
    const members = c.fields!.map((f) => ({
      name: f.name,
      kind: jsonKindOf(f, unions, at),
      inner: unionValuesOf(f, unions, at ? `${at}.${f.name}` : f.name),
    }));
    return (v) => {
      if (v === null || v === undefined) return v;
      const i = members.findIndex((m) => fitsKind(m.kind, v));
      if (i < 0)
        throw new RecordRejection(
          `${where}: expected one of ${members.map((m) => m.kind).join(', ')}, got ${Array.isArray(v) ? 'an array' : typeof v}`,
        );
      const out: Record<string, unknown> = {};
      members.forEach((m, j) => {
        out[m.name] = j !== i ? null : m.inner === null ? v : m.inner(v);
      });
      return out;
    };
  }
  if (c.type === 'struct') {
    const fixes = c
      .fields!.map((f) => [f.name, unionValuesOf(f, unions, at ? `${at}.${f.name}` : f.name)] as const)
      .filter((e): e is readonly [string, (v: unknown) => unknown] => e[1] !== null);
    if (fixes.length === 0) return null;
    return (v) => {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
      const out = { ...(v as Record<string, unknown>) };
      for (const [name, fix] of fixes) if (out[name] !== undefined) out[name] = fix(out[name]);
      return out;
    };
  }
  if (c.type === 'list') {
    const fix = unionValuesOf(c.items!, unions, `${at}[]`);
    return fix === null ? null : (v) => (Array.isArray(v) ? v.map(fix) : v);
  }
  if (c.type === 'map') {
    const fix = unionValuesOf(c.values!, unions, `${at}{}`);
    return fix === null
      ? null
      : (v) =>
          v === null || typeof v !== 'object' || Array.isArray(v)
            ? v
            : Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, fix(x)]));
  }
  return null;
}

/** Protobuf scalar types → columns (values as protobufjs' toObject gives them: 64-bit as text). */
const PROTO_SCALARS: Record<string, FileColumnType['type']> = {
  double: 'double',
  float: 'float',
  int32: 'int32',
  sint32: 'int32',
  sfixed32: 'int32',
  uint32: 'int64',
  fixed32: 'int64',
  int64: 'int64',
  sint64: 'int64',
  sfixed64: 'int64',
  uint64: 'int64',
  fixed64: 'int64',
  bool: 'boolean',
  string: 'string',
  bytes: 'binary',
};

/**
 * A Protobuf message → columns, as Kafka Connect's Protobuf converter maps it: message →
 * struct, repeated → LIST, map → MAP, enum → string, google.protobuf.Timestamp → TIMESTAMP
 * (MILLIS, UTC), a wrapper (StringValue…) → its scalar, null when unset; every field optional
 * (proto3 gives unset scalars their defaults, so they are never null in practice). The values
 * come rewritten to match by registry-values.ts (wellKnownOf).
 */
function protoFieldsOf(type: protobuf.Type, open: Set<string>): FileColumnField[] {
  if (open.has(type.fullName))
    throw new LayoutError(`message ${type.fullName} contains itself: Parquet has no recursive types`);
  if (type.fieldsArray.length === 0)
    throw new LayoutError(`message ${type.fullName} has no fields: Parquet has no empty groups`);
  open.add(type.fullName);
  const fields = type.fieldsArray.map((f): FileColumnField => {
    f.resolve();
    const at = `${type.fullName}.${f.name}`;
    let base: FileColumnType;
    const wrapper = f.resolvedType ? PROTO_WRAPPERS[f.resolvedType.fullName] : undefined;
    if (f.resolvedType?.fullName === PROTO_TIMESTAMP) base = { type: 'timestamp', unit: 'ms' };
    else if (wrapper !== undefined) base = { type: PROTO_SCALARS[wrapper]! };
    else if (f.resolvedType instanceof protobuf.Type)
      base = { type: 'struct', fields: protoFieldsOf(f.resolvedType, open) };
    else if (f.resolvedType instanceof protobuf.Enum) base = { type: 'string' };
    else {
      const scalar = PROTO_SCALARS[f.type];
      if (scalar === undefined) throw new LayoutError(`${at} has the type ${f.type}, which is not resolved`);
      base = { type: scalar };
    }
    if (f instanceof protobuf.MapField) return { name: f.name, type: 'map', nullable: false, values: base };
    if (f.repeated)
      return { name: f.name, type: 'list', nullable: false, items: { ...base, nullable: false } };
    return { name: f.name, ...base };
  });
  open.delete(type.fullName);
  return fields;
}

function isRecord(t: avro.Type): t is avro.types.RecordType {
  return t.typeName === 'record' || t.typeName === 'error';
}

/** One schema's walk: named types seen so far (for references by name) and the records open. */
class Walk {
  readonly #named = new Map<string, { [k: string]: unknown }>();
  readonly #open = new Set<string>();

  node(json: AvroJson, type: avro.Type, at: string): Node {
    const where = at === '' ? 'the value' : at;
    if (Array.isArray(json)) return this.#union(json, type as avro.types.WrappedUnionType, at);
    if (typeof json === 'string') {
      const def = type.name !== undefined ? this.#named.get(type.name) : undefined;
      // A reference to a named type defined earlier in the schema: lay it out again from its definition.
      if (def !== undefined) return this.node(def, type, at);
      return this.#logical(json, undefined, type, where);
    }
    if (type.name !== undefined) this.#named.set(type.name, json);
    const t = json.type;
    if (typeof t !== 'string') return this.node(t as AvroJson, type, at);
    switch (t) {
      case 'record':
      case 'error':
        return this.#record(type as avro.types.RecordType, json, at);
      case 'array': {
        const items = this.node(json.items as AvroJson, (type as avro.types.ArrayType).itemsType, `${at}[]`);
        return {
          column: { type: 'list', nullable: false, items: items.column },
          convert: (v) => (v as unknown[]).map(items.convert),
        };
      }
      case 'map': {
        const values = this.node(json.values as AvroJson, (type as avro.types.MapType).valuesType, `${at}{}`);
        return {
          column: { type: 'map', nullable: false, values: values.column },
          convert: (v) =>
            Object.entries(v as Record<string, unknown>).map(([key, value]) => ({
              key,
              value: values.convert(value),
            })),
        };
      }
      default:
        return this.#logical(t, json, type, where);
    }
  }

  #record(type: avro.types.RecordType, json: { [k: string]: unknown }, at: string): Node {
    const name = type.name ?? String(json.name);
    if (this.#open.has(name))
      throw new LayoutError(`record ${name} contains itself (at ${at}): Parquet has no recursive types`);
    if (type.fields.length === 0)
      throw new LayoutError(`record ${name} has no fields: Parquet has no empty groups`);
    this.#open.add(name);
    const jsonFields = json.fields as Array<{ name: string; type: AvroJson }>;
    const nodes = type.fields.map((f, i) =>
      this.node(jsonFields[i]!.type, f.type, at === '' ? f.name : `${at}.${f.name}`),
    );
    this.#open.delete(name);
    const names = type.fields.map((f) => f.name);
    const fields: FileColumnField[] = nodes.map((n, i) => ({ name: names[i]!, ...n.column }));
    return {
      column: { type: 'struct', nullable: false, fields },
      convert: (v) => {
        const rec = v as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (let i = 0; i < names.length; i++) out[names[i]!] = nodes[i]!.convert(rec[names[i]!]);
        return out;
      },
    };
  }

  /** A union: [null, T] is an optional T; any other is a struct of optional members. */
  #union(json: AvroJson[], type: avro.types.WrappedUnionType, at: string): Node {
    const branches = type.types;
    const nonNull = [...branches.keys()].filter((i) => branches[i]!.typeName !== 'null');
    if (nonNull.length === 0) throw new LayoutError(`${at || 'the value'} is a union of null alone`);
    const hasNull = nonNull.length < branches.length;
    // avsc decodes an unambiguous union as the branch's value, an ambiguous one as { name: value }.
    const wrapped = type.typeName === 'union:wrapped';
    const branchOf = (v: unknown): number => {
      if (wrapped) {
        const name = Object.keys(v as object)[0];
        return branches.findIndex((b) => b.branchName === name);
      }
      return branches.findIndex((b) => b.typeName !== 'null' && b.isValid(v));
    };
    const inner = (v: unknown, i: number) =>
      wrapped ? (v as Record<string, unknown>)[branches[i]!.branchName!] : v;
    if (nonNull.length === 1) {
      const only = nonNull[0]!;
      const n = this.node(json[only]!, branches[only]!, at);
      return {
        column: { ...n.column, nullable: true },
        convert: (v) => (v === null ? null : n.convert(inner(v, only))),
      };
    }
    const members = nonNull.map((i, m) => ({
      branch: i,
      name: `member${m}`,
      node: this.node(json[i]!, branches[i]!, `${at}.member${m}`),
    }));
    return {
      column: {
        type: 'struct',
        nullable: hasNull,
        fields: members.map((m) => ({ name: m.name, ...m.node.column, nullable: true })),
      },
      convert: (v) => {
        if (v === null) return null;
        const i = branchOf(v);
        const out: Record<string, unknown> = {};
        for (const m of members) out[m.name] = m.branch === i ? m.node.convert(inner(v, i)) : null;
        return out;
      },
    };
  }

  /** A primitive, enum or fixed type, with its logical type when it has a valid one. */
  #logical(t: string, json: { [k: string]: unknown } | undefined, type: avro.Type, where: string): Node {
    const logical = json?.logicalType;
    const required = (column: FileColumnType, convert: Convert = same): Node => ({
      column: { ...column, nullable: false },
      convert,
    });
    if ((t === 'bytes' || t === 'fixed') && logical === 'decimal') {
      const precision = json!.precision;
      const scale = json!.scale ?? 0;
      // The Avro specification: a decimal whose attributes are invalid is read as its underlying type.
      const valid =
        Number.isInteger(precision) &&
        (precision as number) > 0 &&
        Number.isInteger(scale) &&
        (scale as number) >= 0 &&
        (scale as number) <= (precision as number);
      if (valid)
        return required({ type: 'decimal', precision: precision as number, scale: scale as number }, (v) =>
          unscaledOf(v as Uint8Array),
        );
    }
    switch (t) {
      case 'null':
        throw new LayoutError(`${where} is of type null, which Parquet has no column for`);
      case 'boolean':
        return required({ type: 'boolean' });
      case 'int':
        if (logical === 'date') return required({ type: 'date' });
        if (logical === 'time-millis') return required({ type: 'time', unit: 'ms' });
        return required({ type: 'int32' });
      case 'long':
        if (logical === 'timestamp-millis') return required({ type: 'timestamp', unit: 'ms' }, toBigInt);
        if (logical === 'timestamp-micros') return required({ type: 'timestamp', unit: 'us' }, toBigInt);
        if (logical === 'time-micros') return required({ type: 'time', unit: 'us' }, toBigInt);
        return required({ type: 'int64' }, toBigInt);
      case 'float':
        return required({ type: 'float' });
      case 'double':
        return required({ type: 'double' });
      case 'bytes':
        return required({ type: 'binary' });
      case 'string':
      case 'enum':
        // uuid is a string with a logical type: written as the string it is.
        return required({ type: 'string' });
      case 'fixed':
        return required({ type: 'fixed', size: (type as avro.types.FixedType).size });
      default:
        throw new LayoutError(`${where} has the unknown type ${JSON.stringify(t)}`);
    }
  }
}
