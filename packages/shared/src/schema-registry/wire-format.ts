/**
 * The Confluent wire format of a Kafka key or value written with a Schema Registry serializer:
 *
 *   byte 0        magic byte, always 0
 *   bytes 1..4    the writer schema's id in the registry, big-endian (a signed int32, > 0 in practice)
 *   Protobuf only the message indexes: a zig-zag varint count, then that many zig-zag varints
 *                 (the path of the message type inside the .proto file); the count 0 alone
 *                 means [0], the first message
 *   the rest      the payload: Avro binary, JSON text (JSON Schema) or Protobuf bytes
 *
 * Pure and without I/O: the worker reads the header here, then asks the registry for the
 * schema of the id (registry-client.ts) and decodes the payload with it. A record that is not
 * in this format is a rejection of that record, never a failure of its range.
 */

/** The header of one wire-format value. */
export interface WireHeader {
  schemaId: number;
  /** Where the payload (or, for Protobuf, the message indexes) starts: always 5. */
  payloadOffset: number;
}

/** Why a record cannot be decoded: the rejected-records object says it as `reason`. */
export interface WireRejection {
  reject: string;
}

export const WIRE_HEADER_BYTES = 5;

/** Reads the magic byte and the schema id, or says why the bytes are not in the wire format. */
export function readWireHeader(bytes: Uint8Array | null): WireHeader | WireRejection {
  if (bytes === null) return { reject: 'no value (a tombstone): there is no record to decode' };
  if (bytes.length < WIRE_HEADER_BYTES) {
    return {
      reject: `not in the Confluent wire format: ${bytes.length} byte(s), fewer than its 5-byte header (magic byte 0, 4-byte schema id)`,
    };
  }
  if (bytes[0] !== 0) {
    return {
      reject: `not in the Confluent wire format: the first byte is ${bytes[0]}, not the magic byte 0 (was it written without a Schema Registry serializer?)`,
    };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const schemaId = view.getInt32(1, false);
  if (schemaId <= 0)
    return { reject: `not in the Confluent wire format: schema id ${schemaId} is not positive` };
  return { schemaId, payloadOffset: WIRE_HEADER_BYTES };
}

/** A zig-zag varint (as Protobuf's sint32 and Avro's int write them) at `offset`. */
function readZigZag(bytes: Uint8Array, offset: number): { value: number; next: number } | null {
  let raw = 0;
  let shift = 0;
  for (let i = offset; i < bytes.length && shift < 35; i++) {
    const b = bytes[i] as number;
    raw += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return { value: raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2, next: i + 1 };
  }
  return null;
}

/**
 * The Protobuf message indexes after the header (from `offset`, normally 5) and where the
 * message's bytes start. `[0]` for the count 0 (the first message of the file).
 */
export function readMessageIndexes(
  bytes: Uint8Array,
  offset: number,
): { indexes: number[]; payloadOffset: number } | WireRejection {
  const count = readZigZag(bytes, offset);
  const bad = (why: string) => ({ reject: `Protobuf message indexes unreadable: ${why}` });
  if (count === null) return bad('the count is cut short');
  if (count.value === 0) return { indexes: [0], payloadOffset: count.next };
  if (count.value < 0 || count.value > 100) return bad(`a count of ${count.value}`);
  const indexes: number[] = [];
  let at = count.next;
  for (let i = 0; i < count.value; i++) {
    const index = readZigZag(bytes, at);
    if (index === null || index.value < 0)
      return bad(`index ${i + 1} of ${count.value} is cut short or negative`);
    indexes.push(index.value);
    at = index.next;
  }
  return { indexes, payloadOffset: at };
}

/** The header of a wire-format value for `schemaId` (tests and producers of examples). */
export function wireHeader(schemaId: number): Buffer {
  const out = Buffer.alloc(WIRE_HEADER_BYTES);
  out.writeInt32BE(schemaId, 1);
  return out;
}
