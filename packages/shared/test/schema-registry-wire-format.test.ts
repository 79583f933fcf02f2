/**
 * The Confluent wire format's header (magic byte, schema id) and Protobuf's message indexes:
 * what a producer's serializer writes is read back, and bytes in any other shape are rejected
 * with a reason that says what was found.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readMessageIndexes, readWireHeader, wireHeader } from '../src/schema-registry/wire-format.ts';

test('the schema id is the big-endian int32 after the magic byte 0; the payload starts at byte 5', () => {
  const bytes = Buffer.concat([wireHeader(0x01020304), Buffer.from('payload')]);
  assert.deepEqual(readWireHeader(bytes), { schemaId: 0x01020304, payloadOffset: 5 });
  // A view into a larger buffer (as Kafka records are) reads the same.
  const inside = Buffer.concat([Buffer.from('xyz'), wireHeader(7), Buffer.from([1])]).subarray(3);
  assert.deepEqual(readWireHeader(inside), { schemaId: 7, payloadOffset: 5 });
});

test('bytes not in the wire format are rejected, saying why', () => {
  const reason = (b: Buffer | null) => {
    const out = readWireHeader(b);
    assert.ok('reject' in out, `expected a rejection for ${b?.toString('hex')}`);
    return out.reject;
  };
  assert.match(reason(null), /tombstone/);
  assert.match(reason(Buffer.from([0, 0, 1])), /3 byte\(s\), fewer than its 5-byte header/);
  assert.match(reason(Buffer.from('{"json":true}')), /first byte is 123, not the magic byte 0/);
  assert.match(reason(Buffer.from([0, 0, 0, 0, 0, 9])), /schema id 0 is not positive/);
  assert.match(reason(Buffer.from([0, 0xff, 0xff, 0xff, 0xff])), /schema id -1 is not positive/);
});

test('Protobuf message indexes: the count 0 alone means [0]; otherwise zig-zag varints', () => {
  const head = wireHeader(3);
  assert.deepEqual(readMessageIndexes(Buffer.concat([head, Buffer.from([0, 0x0a])]), 5), {
    indexes: [0],
    payloadOffset: 6,
  });
  // count 2 (zig-zag 4), indexes 1 (2) and 70 (140 = 0x8c 0x01).
  const two = Buffer.concat([head, Buffer.from([4, 2, 0x8c, 0x01, 0x0a])]);
  assert.deepEqual(readMessageIndexes(two, 5), { indexes: [1, 70], payloadOffset: 9 });
  const cut = readMessageIndexes(Buffer.concat([head, Buffer.from([4, 2])]), 5);
  assert.ok('reject' in cut && /index 2 of 2 is cut short/.test(cut.reject));
  const negative = readMessageIndexes(Buffer.concat([head, Buffer.from([1])]), 5);
  assert.ok('reject' in negative && /a count of -1/.test(negative.reject));
});
