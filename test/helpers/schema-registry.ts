/**
 * The stack's Schema Registry as a producer uses it: register a schema under a subject over
 * the Confluent-compatible REST API, and encode values in the wire format (magic byte 0, the
 * schema id, the Avro binary) the way a Confluent serializer does. Tests that need the
 * registry fail, naming the fix, when the stack has none.
 */
import { loadStackEnv, stackEnvFile } from '@sluice/test-kit';
import avro from 'avsc';

/** SLUICE_SCHEMA_REGISTRY_URL of the stack, or an error that says how to get it. */
export function registryUrl(): string {
  const url = loadStackEnv().SLUICE_SCHEMA_REGISTRY_URL;
  if (!url) {
    throw new Error(
      `${stackEnvFile()} names no SLUICE_SCHEMA_REGISTRY_URL: the stack has no Schema Registry yet; run npm run stack:up (it starts Apicurio Registry)`,
    );
  }
  return url;
}

/** A schema's reference to another subject's version, under the name the schema uses for it. */
export interface Reference {
  name: string;
  subject: string;
  version: number;
}

/** Registers `schema` (Avro) under `subject` and returns its id. */
export function registerAvroSchema(
  url: string,
  subject: string,
  schema: object,
  references: Reference[] = [],
): Promise<number> {
  return registerSchema(url, subject, 'AVRO', JSON.stringify(schema), references);
}

/** Registers the text of a schema of `schemaType` (a JSON Schema, a .proto file) under `subject`. */
export async function registerSchema(
  url: string,
  subject: string,
  schemaType: 'AVRO' | 'JSON' | 'PROTOBUF',
  schema: string,
  references: Reference[] = [],
): Promise<number> {
  const res = await fetch(`${url}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schemaType, schema, ...(references.length ? { references } : {}) }),
  });
  const body = (await res.json()) as { id?: number };
  if (res.status !== 200 || typeof body.id !== 'number') {
    throw new Error(`registering ${subject} answered ${res.status}: ${JSON.stringify(body)}`);
  }
  return body.id;
}

/**
 * An encoder of values of `schema` in the Confluent wire format under schema id `id`; `named`
 * are the Avro schemas whose named types it uses by reference (dependencies first).
 */
export function wireEncoder(id: number, schema: object, named: object[] = []): (value: unknown) => Buffer {
  const registry: Record<string, avro.Type> = {};
  for (const n of named) avro.Type.forSchema(n as avro.Schema, { registry });
  const type = avro.Type.forSchema(schema as avro.Schema, { registry });
  const header = Buffer.alloc(5);
  header.writeInt32BE(id, 1);
  return (value) => Buffer.concat([header, type.toBuffer(value)]);
}
