/**
 * The columns a topic declares for columnar output (`schema: { source: "inline", … }`), and
 * the registration's checks of them. Part of the output snapshot of every range (invariant 3):
 * the worker maps each JSON value onto exactly these columns, beside Kafka's own fields.
 *
 * Kafka's fields are top-level columns named `__kafka_<field>`, and Sluice's own
 * `__sluice_<what>`: a declared field may not start with either prefix, so no value field can
 * collide with them (refused at registration, not renamed).
 */
import type { Problem } from './errors.ts';

/** Scalar column types: JSON values of the matching kind, checked per record. */
export const SCALAR_COLUMN_TYPES = [
  'string',
  'int32',
  'int64',
  'double',
  'boolean',
  'timestamp',
  'date',
  'decimal',
  'binary',
] as const;
export const NESTED_COLUMN_TYPES = ['list', 'struct', 'map'] as const;
export const COLUMN_TYPES = [...SCALAR_COLUMN_TYPES, ...NESTED_COLUMN_TYPES] as const;
export type ColumnTypeName = (typeof COLUMN_TYPES)[number];

/** One column type; the members beside `type` belong to the types named in their comments. */
export interface ColumnType {
  type: ColumnTypeName;
  /** May the value be null or missing. @defaultValue true */
  nullable?: boolean;
  /** `timestamp`: the unit stored, and of a JSON number given. @defaultValue `ms` */
  unit?: 'ms' | 'us';
  /** `decimal`: digits in all (1-38) and after the point (0-precision). */
  precision?: number;
  scale?: number;
  /** `list`: the type of its items. */
  items?: ColumnType;
  /** `struct`: its fields. */
  fields?: ColumnField[];
  /** `map`: the type of its values (keys are the JSON object's keys, strings). */
  values?: ColumnType;
}

export interface ColumnField extends ColumnType {
  name: string;
}

/** `schema: { source: "inline" }`: the value's columns as the topic declares them. */
export interface InlineSchema {
  source: 'inline';
  fields: ColumnField[];
  /**
   * A value's fields the schema does not name: `drop`ped, or kept as one JSON object text in
   * the column {@link EXTRA_COLUMN}. @defaultValue `drop`
   */
  unknownFields?: 'drop' | 'json';
}

/** Where a topic's record structure comes from. */
export type TopicSchema = InlineSchema;

/** Prefixes of the columns Sluice adds; no declared field may start with one. */
export const RESERVED_COLUMN_PREFIXES = ['__kafka_', '__sluice_'] as const;
/** The JSON text of a value's fields the inline schema does not name (`unknownFields: "json"`). */
export const EXTRA_COLUMN = '__sluice_extra';

/** How deep a declared (or inferred) column nests, and how many fields a schema declares in all. */
export const MAX_DEPTH = 16;
export const MAX_FIELDS = 4096;

/** The registration's checks of an inline schema, with paths under `schema.` naming the field. */
export function inlineSchemaProblems(schema: InlineSchema): Problem[] {
  const out: Problem[] = [];
  if (!Array.isArray(schema.fields) || schema.fields.length === 0) {
    return [{ path: 'schema.fields', message: 'must list at least one field: { "name": …, "type": … }' }];
  }
  let count = 0;
  const fieldsProblems = (fields: ColumnField[], path: string, depth: number, top: boolean) => {
    const seen = new Set<string>();
    fields.forEach((f, i) => {
      const at = `${path}[${i}]`;
      count++;
      if (typeof f?.name !== 'string' || f.name.length === 0 || f.name.length > 255) {
        out.push({ path: `${at}.name`, message: 'must be a field name of 1 to 255 characters' });
      } else {
        if (seen.has(f.name)) out.push({ path: `${at}.name`, message: `"${f.name}" is declared twice` });
        seen.add(f.name);
        const reserved = RESERVED_COLUMN_PREFIXES.find((p) => f.name.startsWith(p));
        if (top && reserved) {
          out.push({
            path: `${at}.name`,
            message: `"${f.name}" starts with "${reserved}", which Sluice keeps for its own columns (Kafka's fields and ${EXTRA_COLUMN}); rename the field in the value or leave it out (it is then dropped or kept in ${EXTRA_COLUMN})`,
          });
        }
      }
      typeProblems(f, at, depth);
    });
  };
  const typeProblems = (t: ColumnType, at: string, depth: number): void => {
    if (depth > MAX_DEPTH) {
      out.push({ path: at, message: `nests deeper than ${MAX_DEPTH} levels` });
      return;
    }
    if (!(COLUMN_TYPES as readonly string[]).includes(t?.type)) {
      out.push({
        path: `${at}.type`,
        message: `unknown type ${JSON.stringify(t?.type)}; use one of ${COLUMN_TYPES.join(', ')}`,
      });
      return;
    }
    const extra = (member: keyof ColumnType, owner: string) => {
      if (t[member] !== undefined && t.type !== owner)
        out.push({ path: `${at}.${member}`, message: `is only for type "${owner}", not "${t.type}"` });
    };
    extra('unit', 'timestamp');
    extra('items', 'list');
    extra('fields', 'struct');
    extra('values', 'map');
    if (t.type !== 'decimal') {
      extra('precision', 'decimal');
      extra('scale', 'decimal');
    }
    if (t.nullable !== undefined && typeof t.nullable !== 'boolean')
      out.push({ path: `${at}.nullable`, message: 'must be true or false' });
    switch (t.type) {
      case 'timestamp':
        if (t.unit !== undefined && t.unit !== 'ms' && t.unit !== 'us')
          out.push({ path: `${at}.unit`, message: 'must be "ms" or "us"' });
        break;
      case 'decimal': {
        const p = t.precision;
        const s = t.scale ?? 0;
        if (!Number.isInteger(p) || p! < 1 || p! > 38)
          out.push({ path: `${at}.precision`, message: 'must be an integer from 1 to 38 (digits in all)' });
        else if (!Number.isInteger(s) || s < 0 || s > p!)
          out.push({ path: `${at}.scale`, message: `must be an integer from 0 to the precision (${p})` });
        break;
      }
      case 'list':
        if (!t.items) out.push({ path: `${at}.items`, message: 'a list needs the type of its items' });
        else typeProblems(t.items, `${at}.items`, depth + 1);
        break;
      case 'map':
        if (!t.values) out.push({ path: `${at}.values`, message: 'a map needs the type of its values' });
        else typeProblems(t.values, `${at}.values`, depth + 1);
        break;
      case 'struct':
        if (!Array.isArray(t.fields) || t.fields.length === 0)
          out.push({ path: `${at}.fields`, message: 'a struct needs at least one field' });
        else fieldsProblems(t.fields, `${at}.fields`, depth + 1, false);
        break;
    }
  };
  fieldsProblems(schema.fields, 'schema.fields', 0, true);
  if (count > MAX_FIELDS)
    out.push({ path: 'schema.fields', message: `declares ${count} fields; at most ${MAX_FIELDS}` });
  return out;
}

/** Problems of a topic's `schema` with its `format` (paths `schema…` and `format`). */
export function schemaProblems(format: string | undefined, schema: TopicSchema | undefined): Problem[] {
  if (format === 'parquet' && schema === undefined) {
    return [
      {
        path: 'schema',
        message:
          'format "parquet" needs a schema: { "source": "inline", "fields": [{ "name": …, "type": … }, …] }',
      },
    ];
  }
  if (schema === undefined) return [];
  if (format !== 'parquet') return [{ path: 'schema', message: 'is only for format "parquet"' }];
  return schema.source === 'inline' ? inlineSchemaProblems(schema) : [];
}

/** A column's type as one text, its members included: `list<timestamp(us)>`. */
function typeText(t: ColumnType): string {
  switch (t.type) {
    case 'timestamp':
      return `timestamp(${t.unit ?? 'ms'})`;
    case 'decimal':
      return `decimal(${t.precision}, ${t.scale ?? 0})`;
    case 'list':
      return `list<${t.items ? typeText(t.items) : '?'}>`;
    case 'map':
      return `map<${t.values ? typeText(t.values) : '?'}>`;
    default:
      return t.type;
  }
}

/**
 * A change of a Parquet topic's inline schema that would give one column two types in the same
 * folder: objects written before and after it could not be read as one table by engines that
 * merge files by column name (Spark `mergeSchema`, DuckDB `union_by_name`, Trino). Adding and
 * removing columns, and a column's `nullable`, may change; a struct is compared field by field.
 */
export function columnChangeProblems(from: InlineSchema, to: InlineSchema): Problem[] {
  const out: Problem[] = [];
  const compare = (
    before: readonly ColumnField[],
    after: readonly ColumnField[],
    path: string,
    name: string,
  ) => {
    after.forEach((f, i) => {
      const old = before.find((b) => b.name === f.name);
      if (!old) return;
      const at = `${path}[${i}]`;
      const dotted = name ? `${name}.${f.name}` : f.name;
      if (old.type === 'struct' && f.type === 'struct') {
        compare(old.fields ?? [], f.fields ?? [], `${at}.fields`, dotted);
        return;
      }
      const was = typeText(old);
      const asked = typeText(f);
      if (was !== asked) {
        out.push({
          path: `${at}.type`,
          message: `changes column "${dotted}" from ${was} to ${asked}: the objects already written hold it as ${was}, and readers that merge a folder's files by name cannot read one column with two types; keep ${was}, or add the new type as a new column under another name (and remove this one)`,
        });
      }
    });
  };
  compare(from.fields, to.fields, 'schema.fields', '');
  return out;
}
