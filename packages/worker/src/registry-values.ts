/**
 * Values in the Confluent wire format → what the writers need: the writer schema's id, the
 * payload, and the decoded value. Avro payloads are decoded with the writer schema from the
 * registry (avsc), which also proves that the bytes are whole; JSON Schema payloads are JSON
 * text; Protobuf payloads follow their message indexes and are decoded with the message type
 * those name in the registered .proto (protobufjs). A schema's references (fetched with it by
 * the registry client) are resolved here: Avro named types are inlined into one schema
 * (inlineAvroReferences), the .proto files a Protobuf schema imports are parsed into its root
 * by their reference names, and google/protobuf's well-known types, which registries do not
 * store, come from protobufjs' own definitions. A Timestamp decodes to epoch milliseconds and a
 * wrapper (StringValue…) to its value or null, as Kafka Connect's Protobuf converter reads
 * them; JSON Schema `$ref`s are followed where the columns are laid out (registry-columns.ts).
 *
 * A value that cannot be decoded is a rejection of that record ({ reject }), never an error of
 * its range; a registry that cannot be reached is (a retryable SLUICE_ERR_SCHEMA_REGISTRY
 * from the client).
 */
import {
  inlineAvroReferences,
  type RegisteredSchema,
  readMessageIndexes,
  readWireHeader,
  type SchemaRegistryClient,
  type SchemaRejection,
} from '@sluice/shared';
import avro from 'avsc';
import protobuf from 'protobufjs';

/** A decoded wire-format value. */
export interface RegistryValue {
  schemaId: number;
  schema: RegisteredSchema;
  /** The payload's bytes (after the 5-byte header): Avro binary or JSON text. */
  payload: Buffer;
  /** The decoded value: what event-time bucketing reads. */
  value: unknown;
  /** Protobuf: the message type the record's indexes named (its Parquet columns). */
  message?: protobuf.Type;
}

type Decoder =
  | ((payload: Buffer) => { value: unknown; payload?: Buffer; message?: protobuf.Type } | SchemaRejection)
  | SchemaRejection;

export class RegistryValueDecoder {
  readonly #client: SchemaRegistryClient;
  /** `avro`: the format that takes Avro schemas only (named in the rejection). */
  readonly #avroOnly: string | null;
  /** Decoders per schema, dropped with the client's cache entry. */
  readonly #decoders = new WeakMap<RegisteredSchema, Decoder>();

  constructor(client: SchemaRegistryClient, opts: { avroOnly: string | null }) {
    this.#client = client;
    this.#avroOnly = opts.avroOnly;
  }

  /**
   * Decodes `bytes`, or rejects them; asks the registry only for a schema id it has not seen
   * (the common case answers without waiting: see {@link decodeCached}).
   */
  async decode(bytes: Buffer | null): Promise<RegistryValue | SchemaRejection> {
    const header = readWireHeader(bytes);
    if ('reject' in header) return header;
    const schema = await this.#client.schemaById(header.schemaId);
    if ('reject' in schema) return schema;
    return this.#decodeWith(schema, (bytes as Buffer).subarray(header.payloadOffset));
  }

  /** As {@link decode} when the schema is cached; undefined when the registry must be asked. */
  decodeCached(bytes: Buffer | null): RegistryValue | SchemaRejection | undefined {
    const header = readWireHeader(bytes);
    if ('reject' in header) return header;
    const schema = this.#client.cached(header.schemaId);
    if (schema === undefined) return undefined;
    return this.#decodeWith(schema, (bytes as Buffer).subarray(header.payloadOffset));
  }

  #decodeWith(schema: RegisteredSchema, payload: Buffer): RegistryValue | SchemaRejection {
    let decoder = this.#decoders.get(schema);
    if (decoder === undefined) {
      decoder = this.#decoderOf(schema);
      this.#decoders.set(schema, decoder);
    }
    if (typeof decoder !== 'function') return decoder;
    const out = decoder(payload);
    if ('reject' in out) return out;
    return {
      schemaId: schema.id,
      schema,
      payload: out.payload ?? payload,
      value: out.value,
      ...(out.message ? { message: out.message } : {}),
    };
  }

  #decoderOf(s: RegisteredSchema): Decoder {
    if (this.#avroOnly !== null && s.schemaType !== 'AVRO') {
      return {
        reject: `schema id ${s.id} is a ${s.schemaType} schema; format "${this.#avroOnly}" writes Avro records only`,
      };
    }
    if (s.schemaType === 'JSON') return decodeJsonPayload;
    if (s.schemaType === 'PROTOBUF') return protobufDecoder(s);
    let type: avro.Type;
    try {
      type = avroTypeOf(avroSchemaOf(s));
    } catch (err) {
      return { reject: `schema id ${s.id} is not an Avro schema avsc can read: ${(err as Error).message}` };
    }
    return (payload) => decodeAvroPayload(type, s.id, payload);
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Avro longs, exactly: a JS number when it is safe, a bigint beyond 2^53 (avsc's own long type
 * refuses those, which would reject a valid record; Parquet's int64 columns take both).
 */
const exactLong = avro.types.LongType.__with({
  fromBuffer: (b: Buffer) => {
    const n = b.readBigInt64LE(0);
    return n >= -MAX_SAFE && n <= MAX_SAFE ? Number(n) : n;
  },
  toBuffer: (n: number | bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(n), 0);
    return b;
  },
  fromJSON: (n: number | bigint) => n,
  toJSON: (n: number | bigint) => Number(n),
  isValid: (n: unknown) =>
    typeof n === 'number'
      ? Number.isSafeInteger(n)
      : typeof n === 'bigint' && n >= INT64_MIN && n <= INT64_MAX,
  compare: (a: number | bigint, b: number | bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

/** Self-contained Avro schemas (references inlined) per registry entry. */
const avroSchemas = new WeakMap<RegisteredSchema, unknown>();

/**
 * The Avro JSON of writer schema `s`, with the named types of its references inlined: what
 * avsc decodes with, what Parquet columns are laid out from and what an Avro file's header
 * holds. Throws when the text or a reference is not Avro JSON.
 */
export function avroSchemaOf(s: RegisteredSchema): unknown {
  let out = avroSchemas.get(s);
  if (out === undefined) {
    const json = JSON.parse(s.schema) as unknown;
    out = s.resolved?.length ? inlineAvroReferences(json, s.resolved) : json;
    avroSchemas.set(s, out);
  }
  return out;
}

/** The avsc type that decodes values of writer schema `schema` (and that registry-columns.ts walks). */
export function avroTypeOf(schema: unknown): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, { registry: { long: exactLong } });
}

function decodeAvroPayload(
  type: avro.Type,
  id: number,
  payload: Buffer,
): { value: unknown } | SchemaRejection {
  let decoded: { value: unknown; offset: number };
  try {
    decoded = type.decode(payload, 0);
  } catch (err) {
    return { reject: `the Avro payload does not decode with writer schema ${id}: ${(err as Error).message}` };
  }
  // avsc answers offset -1 when the bytes end inside the record.
  if (decoded.offset !== payload.length) {
    const why =
      decoded.offset < 0 ? 'it is cut short' : `${payload.length - decoded.offset} byte(s) follow the record`;
    return { reject: `the Avro payload does not decode with writer schema ${id}: ${why}` };
  }
  return { value: decoded.value };
}

function decodeJsonPayload(payload: Buffer): { value: unknown } | SchemaRejection {
  try {
    return { value: JSON.parse(payload.toString('utf8')) };
  } catch (err) {
    return { reject: `the JSON Schema payload is not JSON text: ${(err as Error).message}` };
  }
}

/**
 * The root of a Protobuf schema's types: its own file, the files of its references (each
 * imported by its reference name) and the well-known types it imports; and the messages of its
 * own file in declaration order (what message indexes count). Throws naming what is missing.
 */
function protoRootOf(s: RegisteredSchema): protobuf.Type[] {
  const root = new protobuf.Root();
  const own = protobuf.parse(s.schema, root, { keepCase: true });
  // Taken before other files join the root: they may share the package.
  const top = messageTypes(own.package ? root.lookup(own.package) : root);
  const imports = new Set([...(own.imports ?? []), ...(own.weakImports ?? [])]);
  const given = new Set<string>();
  for (const ref of s.resolved ?? []) {
    if (ref.schemaType !== 'PROTOBUF')
      throw new Error(
        `reference "${ref.name}" (subject ${ref.subject} version ${ref.version}) is a ${ref.schemaType} schema, not a .proto file`,
      );
    const file = protobuf.parse(ref.schema, root, { keepCase: true });
    given.add(ref.name);
    for (const i of [...(file.imports ?? []), ...(file.weakImports ?? [])]) imports.add(i);
  }
  const missing: string[] = [];
  for (const file of imports) {
    if (given.has(file)) continue;
    // Registries do not store google/protobuf/*.proto: producers and readers know them.
    const known = protobuf.common.get(file) as { nested?: Record<string, protobuf.AnyNestedObject> } | null;
    if (known?.nested) root.addJSON(known.nested);
    else missing.push(file);
  }
  try {
    root.resolveAll();
  } catch (err) {
    const why = missing.length
      ? `it imports ${missing.map((m) => `"${m}"`).join(', ')}, neither among its references nor a google/protobuf well-known type`
      : (err as Error).message;
    throw new Error(why);
  }
  return top;
}

/** Protobuf: the message indexes pick the type (top-level, then nested, in declaration order). */
function protobufDecoder(s: RegisteredSchema): Decoder {
  let top: protobuf.Type[];
  try {
    top = protoRootOf(s);
  } catch (err) {
    return {
      reject: `schema id ${s.id} is not a .proto file protobufjs can read: ${(err as Error).message}`,
    };
  }
  return (bytes) => {
    const at = readMessageIndexes(bytes, 0);
    if ('reject' in at) return at;
    let type: protobuf.Type | undefined;
    let level = top;
    for (const i of at.indexes) {
      type = level[i];
      if (type === undefined)
        return { reject: `schema id ${s.id} has no message at indexes [${at.indexes.join(', ')}]` };
      level = messageTypes(type);
    }
    const payload = bytes.subarray(at.payloadOffset);
    try {
      const message = type!.decode(payload);
      const plain = type!.toObject(message, { longs: String, enums: String, bytes: String, defaults: true });
      const wkt = wellKnownOf(type!);
      return { value: wkt === null ? plain : wkt(plain), payload, message: type! };
    } catch (err) {
      return {
        reject: `the Protobuf payload does not decode as ${type!.fullName} of schema ${s.id}: ${(err as Error).message}`,
      };
    }
  };
}

/**
 * google/protobuf's wrappers → the scalar each holds: a field of one is that scalar or null
 * (Kafka Connect's Protobuf converter with wrapper.for.nullables).
 */
export const PROTO_WRAPPERS: Readonly<Record<string, string>> = {
  '.google.protobuf.DoubleValue': 'double',
  '.google.protobuf.FloatValue': 'float',
  '.google.protobuf.Int64Value': 'int64',
  '.google.protobuf.UInt64Value': 'uint64',
  '.google.protobuf.Int32Value': 'int32',
  '.google.protobuf.UInt32Value': 'uint32',
  '.google.protobuf.BoolValue': 'bool',
  '.google.protobuf.StringValue': 'string',
  '.google.protobuf.BytesValue': 'bytes',
};

/** google.protobuf.Timestamp: a Parquet TIMESTAMP(MILLIS, UTC), as Kafka Connect's Timestamp. */
export const PROTO_TIMESTAMP = '.google.protobuf.Timestamp';

type Rewrite = (v: unknown) => unknown;
const wellKnown = new WeakMap<protobuf.Type, Rewrite | null>();

/** Epoch milliseconds of a Timestamp as toObject gives it ({ seconds: "…", nanos }). */
const timestampMs: Rewrite = (v) => {
  if (v === null || v === undefined) return null;
  const t = v as { seconds?: string | number; nanos?: number };
  return Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
};
const wrapped: Rewrite = (v) => (v === null || v === undefined ? null : (v as { value: unknown }).value);

/**
 * What turns a decoded `type` into the values its columns take (Timestamps to epoch ms,
 * wrappers to their value), or null when it holds neither (the value stays as decoded).
 */
function wellKnownOf(type: protobuf.Type, open = new Set<protobuf.Type>()): Rewrite | null {
  const known = wellKnown.get(type);
  if (known !== undefined) return known;
  // A recursive message has no columns (registry-columns.ts rejects it): nothing to rewrite.
  if (open.has(type)) return null;
  open.add(type);
  const rewrites: Array<[string, Rewrite]> = [];
  for (const f of type.fieldsArray) {
    f.resolve();
    const t = f.resolvedType;
    if (!(t instanceof protobuf.Type)) continue;
    const one =
      t.fullName === PROTO_TIMESTAMP
        ? timestampMs
        : PROTO_WRAPPERS[t.fullName]
          ? wrapped
          : wellKnownOf(t, open);
    if (one === null) continue;
    const each: Rewrite =
      f instanceof protobuf.MapField
        ? (v) =>
            v === null || v === undefined
              ? v
              : Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, one(x)]))
        : f.repeated
          ? (v) => (Array.isArray(v) ? v.map(one) : v)
          : one;
    rewrites.push([f.name, each]);
  }
  open.delete(type);
  const out: Rewrite | null =
    rewrites.length === 0
      ? null
      : (v) => {
          if (v === null || v === undefined) return v;
          const o = { ...(v as Record<string, unknown>) };
          for (const [name, each] of rewrites) o[name] = each(o[name]);
          return o;
        };
  wellKnown.set(type, out);
  return out;
}

function messageTypes(ns: protobuf.ReflectionObject | null): protobuf.Type[] {
  if (!(ns instanceof protobuf.Namespace)) return [];
  return ns.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
}
