/**
 * Decoding wire-format values by their writer schema's type: Avro, JSON Schema (JSON text)
 * and Protobuf (message indexes, then the message), each read back to the value produced; a
 * value a schema cannot decode, or of a type the output cannot hold, is rejected with the
 * reason. No server: the registry is a function.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SchemaRegistryClient, wireHeader } from '@sluice/shared';
import avro from 'avsc';
import protobuf from 'protobufjs';
import { RegistryValueDecoder } from '../src/registry-values.ts';

const PROTO = `syntax = "proto3";
package shop;
message Order { int64 id = 1; string item = 2; Line first = 3;
  message Line { string sku = 1; int32 qty = 2; } }
message Refund { string order = 1; }`;
const AVRO = { type: 'record', name: 'A', fields: [{ name: 'n', type: 'long' }] };
const ANSWERS: Record<number, object> = {
  1: { schema: JSON.stringify(AVRO) },
  2: { schemaType: 'JSON', schema: '{"type":"object"}' },
  3: { schemaType: 'PROTOBUF', schema: PROTO },
};

function decoder(avroOnly: string | null): RegistryValueDecoder {
  const client = new SchemaRegistryClient({
    url: 'http://r',
    get: async (path) => {
      const answer = ANSWERS[Number(path.split('/').pop())];
      return answer ? { status: 200, body: JSON.stringify(answer) } : { status: 404, body: '' };
    },
  });
  return new RegistryValueDecoder(client, { avroOnly });
}

const wire = (id: number, ...parts: Uint8Array[]) => Buffer.concat([wireHeader(id), ...parts]);

test('Avro, JSON Schema and Protobuf values decode to what was produced', async () => {
  const d = decoder(null);
  const a = await d.decode(wire(1, avro.Type.forSchema(AVRO as avro.Schema).toBuffer({ n: 5 })));
  assert.ok(!('reject' in a));
  assert.deepEqual({ ...(a.value as object) }, { n: 5 });
  const j = await d.decode(wire(2, Buffer.from('{"x":[1,2]}')));
  assert.ok(!('reject' in j) && j.schemaId === 2);
  assert.deepEqual(j.value, { x: [1, 2] });

  const root = protobuf.parse(PROTO, { keepCase: true }).root;
  const Order = root.lookupType('shop.Order');
  const Line = root.lookupType('shop.Order.Line');
  const Refund = root.lookupType('shop.Refund');
  const order = Order.encode({ id: '9007199254740993', item: 'pen', first: { sku: 's1', qty: 2 } }).finish();
  // The first message: the count 0 alone.
  const o = await d.decode(wire(3, Buffer.from([0]), order));
  assert.ok(!('reject' in o));
  assert.deepEqual(o.value, { id: '9007199254740993', item: 'pen', first: { sku: 's1', qty: 2 } });
  assert.ok(o.payload.equals(Buffer.from(order)));
  // [1]: the second top-level message; [0, 0]: the first message nested in the first.
  const r = await d.decode(wire(3, Buffer.from([2, 2]), Refund.encode({ order: 'o-1' }).finish()));
  assert.ok(!('reject' in r));
  assert.deepEqual(r.value, { order: 'o-1' });
  const l = await d.decode(wire(3, Buffer.from([4, 0, 0]), Line.encode({ sku: 'x', qty: 1 }).finish()));
  assert.ok(!('reject' in l));
  assert.deepEqual(l.value, { sku: 'x', qty: 1 });
  const none = await d.decode(wire(3, Buffer.from([2, 10]), Buffer.alloc(0)));
  assert.ok('reject' in none && /no message at indexes \[5\]/.test(none.reject));
});

test('what does not decode, or is not Avro for an Avro file, is rejected with the reason', async () => {
  const d = decoder('avro');
  const cut = await d.decode(wire(1, Buffer.from([0x80])));
  assert.ok('reject' in cut && /does not decode with writer schema 1: it is cut short/.test(cut.reject));
  const extra = await d.decode(wire(1, Buffer.from([2, 7])));
  assert.ok('reject' in extra && /1 byte\(s\) follow the record/.test(extra.reject));
  const json = await d.decode(wire(2, Buffer.from('{}')));
  assert.ok(
    'reject' in json &&
      /schema id 2 is a JSON schema; format "avro" writes Avro records only/.test(json.reject),
  );
  const notJson = await decoder(null).decode(wire(2, Buffer.from('{nope')));
  assert.ok('reject' in notJson && /not JSON text/.test(notJson.reject));
  // Cached after the first lookup: answered without waiting.
  assert.ok(d.decodeCached(wire(1, Buffer.from([2]))) !== undefined);
  assert.equal(d.decodeCached(wire(7, Buffer.from([2]))), undefined);
});
