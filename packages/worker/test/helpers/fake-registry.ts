/**
 * A Schema Registry client whose registry is a map of Avro schemas by id, for worker tests that
 * write `format: "avro"` without a server: it answers 404 for an id the map does not have
 * (looked up at each request, so a test may add ids), as a registry does.
 */
import { SchemaRegistryClient, wireHeader } from '@sluice/shared';
import avro from 'avsc';

/** The Avro record the worker tests write: an order of an id and an item. */
export const ORDER = {
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'item', type: 'string' },
  ],
};

export function fakeRegistry(schemas: Record<number, object>): SchemaRegistryClient {
  return new SchemaRegistryClient({
    url: 'http://registry',
    get: async (path) => {
      const schema = schemas[Number(path.split('/').pop())];
      return schema
        ? { status: 200, body: JSON.stringify({ schema: JSON.stringify(schema) }) }
        : { status: 404, body: '{"error_code":40403}' };
    },
  });
}

/** An encoder of values of `schema` in the Confluent wire format under `id`. */
export function wireValues(id: number, schema: object): (value: unknown) => Buffer {
  const type = avro.Type.forSchema(schema as avro.Schema);
  return (value) => Buffer.concat([wireHeader(id), type.toBuffer(value)]);
}
