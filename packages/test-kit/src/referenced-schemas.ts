/**
 * Writer schemas that use others registered under their own subjects (`references`), the way
 * Confluent producers register them: an Avro record using a named type of another subject, a
 * .proto importing another subject's file and google/protobuf's Timestamp and wrappers, a JSON
 * Schema `$ref`-ing another subject. Shared by the worker's unit tests (a fake registry) and
 * the integration tests (the stack's registry), so both check the same shapes.
 */
import protobuf from 'protobufjs';

/** Subject `…-addr`: a record with a named enum inside, used by {@link AVRO_ORDER} as `common.Addr`. */
export const AVRO_ADDR = {
  type: 'record',
  name: 'Addr',
  namespace: 'common',
  fields: [
    { name: 'city', type: 'string' },
    { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['HOME', 'WORK'] } },
  ],
};

/** References `common.Addr` twice: the first use is where a self-contained schema defines it. */
export const AVRO_ORDER = {
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'ship', type: 'common.Addr' },
    { name: 'bill', type: ['null', 'common.Addr'], default: null },
  ],
};

/** Subject `…-money`, imported by {@link PROTO_ORDER} as `money.proto`. */
export const PROTO_MONEY = `syntax = "proto3";
package shop.common;
message Money { string currency = 1; int64 units = 2; }`;

/** Imports money.proto (a reference) and two well-known files no registry stores. */
export const PROTO_ORDER = `syntax = "proto3";
package shop;
import "money.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";
message Order {
  int64 id = 1;
  shop.common.Money total = 2;
  google.protobuf.Timestamp at = 3;
  google.protobuf.StringValue note = 4;
  google.protobuf.Int64Value qty = 5;
}`;

/** Subject `…-jaddr`, `$ref`-ed by {@link JSON_ORDER} as `addr.json`. */
export const JSON_ADDR = {
  type: 'object',
  required: ['city'],
  properties: { city: { type: 'string' } },
  definitions: { Zip: { type: 'integer' } },
};

/** One `$ref` by the reference's name, one by a URL ending in it into its definitions, and a union. */
export const JSON_ORDER = {
  type: 'object',
  required: ['id'],
  properties: {
    id: { type: 'integer' },
    addr: { $ref: 'addr.json' },
    zip: { $ref: 'https://example.com/schemas/addr.json#/definitions/Zip' },
    // Several types: a struct of one optional member per type (as Kafka Connect's OneOf).
    code: { type: ['string', 'integer', 'null'] },
  },
};

/**
 * What a producer compiles its .proto files into: `files` (importing each other and
 * google/protobuf's well-known types) in one root, imports resolved by name as protoc would.
 */
export function protoProducerRoot(...files: string[]): protobuf.Root {
  const root = new protobuf.Root();
  const added = new Set<string>();
  for (const text of files) {
    for (const [, wkt] of text.matchAll(/^import "(google\/protobuf\/[a-z_]+\.proto)";$/gm)) {
      const json = protobuf.common.get(wkt!);
      if (json?.nested && !added.has(wkt!)) root.addJSON(json.nested);
      added.add(wkt!);
    }
    protobuf.parse(text.replace(/^import .*$/gm, ''), root, { keepCase: true });
  }
  return root;
}
