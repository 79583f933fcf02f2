/**
 * Values in the Confluent wire format → what the writers need: the writer schema's id, the
 * payload, and the decoded value. Avro payloads are decoded with the writer schema from the
 * registry (avsc), which also proves that the bytes are whole; JSON Schema payloads are JSON
 * text; Protobuf payloads follow their message indexes and are decoded with the message type
 * those name in the registered .proto (protobufjs; imports of other files are not resolved:
 * a record of a type that needs one is rejected, saying so).
 *
 * A value that cannot be decoded is a rejection of that record ({ reject }), never an error of
 * its range; a registry that cannot be reached is (a retryable SLUICE_ERR_SCHEMA_REGISTRY
 * from the client).
 */
import {
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
    if (s.references.length > 0) {
      return {
        reject: `schema id ${s.id} refers to other schemas (${s.references.map((r) => r.subject).join(', ')}), which Sluice does not resolve yet`,
      };
    }
    if (s.schemaType === 'JSON') return decodeJsonPayload;
    if (s.schemaType === 'PROTOBUF') return protobufDecoder(s);
    let type: avro.Type;
    try {
      type = avroTypeOf(JSON.parse(s.schema) as avro.Schema);
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

/** Protobuf: the message indexes pick the type (top-level, then nested, in declaration order). */
function protobufDecoder(s: RegisteredSchema): Decoder {
  let top: protobuf.Type[];
  try {
    const parsed = protobuf.parse(s.schema, { keepCase: true });
    const ns = parsed.package ? parsed.root.lookup(parsed.package) : parsed.root;
    top = messageTypes(ns);
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
      const value = type!.toObject(message, { longs: String, enums: String, bytes: String, defaults: true });
      return { value, payload, message: type! };
    } catch (err) {
      return {
        reject: `the Protobuf payload does not decode as ${type!.fullName} of schema ${s.id}: ${(err as Error).message}`,
      };
    }
  };
}

function messageTypes(ns: protobuf.ReflectionObject | null): protobuf.Type[] {
  if (!(ns instanceof protobuf.Namespace)) return [];
  return ns.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
}
