/**
 * An Avro writer schema that uses named types registered under other subjects (its
 * `references`) → one self-contained schema, each referenced type written out where it is first
 * used, as if the producer had written it inline. Exists because both the decoder (avsc) and an
 * Avro container file's header need the whole schema: a reader of the file has no registry.
 *
 * Pure JSON work, no I/O: the same schema and references give the same text on every retry.
 * A referenced type keeps its full name (namespace included), so its own fields resolve
 * names as they did in its subject.
 */
import type { ResolvedReference } from './registry-client.ts';

type Json = string | Json[] | { [k: string]: unknown } | number | boolean | null;

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
const NAMED = new Set(['record', 'error', 'enum', 'fixed']);

/** Why a schema and its references do not make one schema (a record is rejected with it). */
export class AvroReferenceError extends Error {}

/** The full name of a named type `name` declared (or referred to) inside namespace `ns`. */
function fullName(name: string, ns: string): string {
  return name.includes('.') || ns === '' ? name : `${ns}.${name}`;
}

/**
 * Every named type a schema defines, by full name, with its definition made independent of
 * where it stood (`name` set to the full name, `namespace` dropped).
 */
function definitionsOf(schema: Json, ns: string, into: Map<string, { [k: string]: unknown }>): void {
  if (Array.isArray(schema)) {
    for (const b of schema) definitionsOf(b, ns, into);
    return;
  }
  if (schema === null || typeof schema !== 'object') return;
  const t = schema.type;
  let inner = ns;
  if (typeof t === 'string' && NAMED.has(t) && typeof schema.name === 'string') {
    const full = fullName(schema.name, typeof schema.namespace === 'string' ? schema.namespace : ns);
    inner = full.includes('.') ? full.slice(0, full.lastIndexOf('.')) : '';
    const { namespace: _dropped, ...rest } = schema;
    // A type of the null namespace says so, or it would join the namespace it is inlined in.
    into.set(full, full.includes('.') ? { ...rest, name: full } : { ...rest, name: full, namespace: '' });
  }
  if (typeof t === 'object') definitionsOf(t as Json, inner, into);
  if (Array.isArray(schema.fields))
    for (const f of schema.fields as Array<{ type?: Json }>) definitionsOf(f?.type ?? null, inner, into);
  if (schema.items !== undefined) definitionsOf(schema.items as Json, inner, into);
  if (schema.values !== undefined) definitionsOf(schema.values as Json, inner, into);
}

/**
 * `schema` (the writer's Avro JSON) with the named types of `references` (Avro schemas,
 * dependencies first) inlined at their first use. Throws {@link AvroReferenceError} naming a
 * referenced schema that is not Avro JSON.
 */
export function inlineAvroReferences(schema: unknown, references: readonly ResolvedReference[]): unknown {
  const known = new Map<string, { [k: string]: unknown }>();
  for (const ref of references) {
    if (ref.schemaType !== 'AVRO')
      throw new AvroReferenceError(
        `reference "${ref.name}" (subject ${ref.subject} version ${ref.version}) is a ${ref.schemaType} schema; an Avro schema can refer to Avro named types only`,
      );
    let parsed: Json;
    try {
      parsed = JSON.parse(ref.schema) as Json;
    } catch (err) {
      throw new AvroReferenceError(
        `reference "${ref.name}" (subject ${ref.subject} version ${ref.version}) is not JSON: ${(err as Error).message}`,
      );
    }
    definitionsOf(parsed, '', known);
  }
  const defined = new Set<string>();
  const expand = (s: Json, ns: string): Json => {
    if (typeof s === 'string') {
      if (PRIMITIVES.has(s)) return s;
      const name = [fullName(s, ns), s].find((n) => defined.has(n) || known.has(n));
      if (name === undefined || defined.has(name)) return s;
      // First use of a referenced type: its definition, expanded in turn (it may use others).
      return expand(known.get(name) as Json, ns);
    }
    if (Array.isArray(s)) return s.map((b) => expand(b, ns));
    if (s === null || typeof s !== 'object') return s;
    const t = s.type;
    let inner = ns;
    if (typeof t === 'string' && NAMED.has(t) && typeof s.name === 'string') {
      const full = fullName(s.name, typeof s.namespace === 'string' ? s.namespace : ns);
      defined.add(full);
      inner = full.includes('.') ? full.slice(0, full.lastIndexOf('.')) : '';
    }
    const out: { [k: string]: unknown } = { ...s };
    if (typeof t === 'object' || (typeof t === 'string' && !NAMED.has(t) && t !== 'array' && t !== 'map'))
      out.type = expand(t as Json, inner);
    if (Array.isArray(s.fields))
      out.fields = (s.fields as Array<{ [k: string]: unknown }>).map((f) => ({
        ...f,
        type: expand(f.type as Json, inner),
      }));
    if (s.items !== undefined) out.items = expand(s.items as Json, inner);
    if (s.values !== undefined) out.values = expand(s.values as Json, inner);
    return out;
  };
  return expand(schema as Json, '');
}
