/**
 * Test helper: a TCP proxy in front of one Kafka broker that can cut every connection and
 * refuse new ones for a while (a broker restart as a client sees it), on loopback only.
 *
 * Kafka clients connect to the addresses that Metadata answers name, not to the bootstrap
 * address, so the proxy rewrites the broker list of Metadata answers (v12, the version
 * @platformatic/kafka speaks with Kafka 4) to point at itself. Everything else passes through
 * unchanged.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

const FETCH = 1;
const METADATA = 3;

/**
 * A Fetch v17 answer for the first partition of a Fetch v17 request, carrying `errorCode`
 * (what a broker that is no longer the leader says: NOT_LEADER_OR_FOLLOWER, 6).
 */
function fetchV17ErrorAnswer(request: Buffer, errorCode: number): Buffer {
  // Request header v2: api key, version, correlation id, client id (INT16-sized), tags.
  const correlationId = request.readInt32BE(4);
  const clientIdLength = request.readInt16BE(8);
  let p = skipTaggedFields(request, 10 + Math.max(clientIdLength, 0));
  p += 4 + 4 + 4 + 1 + 4 + 4; // max_wait, min_bytes, max_bytes, isolation, session id, epoch
  const [, afterTopics] = readUVarInt(request, p);
  const topicId = request.subarray(afterTopics, afterTopics + 16);
  const [, afterPartitions] = readUVarInt(request, afterTopics + 16);
  const partition = request.readInt32BE(afterPartitions);
  const out = Buffer.alloc(4 + 1 + 4 + 2 + 4 + 1 + 16 + 1 + 4 + 2 + 8 * 3 + 1 + 4 + 1 + 1 + 1 + 1);
  let o = out.writeInt32BE(correlationId, 0);
  o = out.writeUInt8(0, o); // response header tags
  o = out.writeInt32BE(0, o); // throttle
  o = out.writeInt16BE(0, o); // top-level error
  o = out.writeInt32BE(0, o); // session id
  o = out.writeUInt8(2, o); // one topic
  o += topicId.copy(out, o);
  o = out.writeUInt8(2, o); // one partition
  o = out.writeInt32BE(partition, o);
  o = out.writeInt16BE(errorCode, o);
  for (let i = 0; i < 3; i++) o = out.writeBigInt64BE(-1n, o); // hw, lso, log start
  o = out.writeUInt8(0, o); // aborted transactions: null
  o = out.writeInt32BE(-1, o); // preferred read replica
  o = out.writeUInt8(0, o); // records: null
  o = out.writeUInt8(0, o); // partition tags
  o = out.writeUInt8(0, o); // topic tags
  out.writeUInt8(0, o); // response tags
  return out;
}

function readUVarInt(buf: Buffer, at: number): [number, number] {
  let value = 0;
  let shift = 0;
  let pos = at;
  for (;;) {
    const byte = buf[pos++] as number;
    value |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [value, pos];
    shift += 7;
  }
}

function writeUVarInt(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

function skipTaggedFields(buf: Buffer, at: number): number {
  let [count, pos] = readUVarInt(buf, at);
  while (count-- > 0) {
    const [, afterTag] = readUVarInt(buf, pos);
    const [size, afterSize] = readUVarInt(buf, afterTag);
    pos = afterSize + size;
  }
  return pos;
}

/** Metadata v12 answer (after the 4-byte size): every broker now lives at host:port. */
function rewriteMetadataV12(frame: Buffer, host: string, port: number): Buffer {
  // Response header v1: correlation id, tagged fields; then throttle_time_ms.
  const brokersStart = skipTaggedFields(frame, 4) + 4;
  const [count, first] = readUVarInt(frame, brokersStart);
  let p = first;
  const brokers: Buffer[] = [];
  for (let i = 0; i < count - 1; i++) {
    const nodeId = frame.readInt32BE(p);
    p += 4;
    const [hostLen, afterHostLen] = readUVarInt(frame, p);
    p = afterHostLen + hostLen - 1 + 4; // host, port
    const rackStart = p;
    const [rackLen, afterRackLen] = readUVarInt(frame, p);
    p = rackLen === 0 ? afterRackLen : afterRackLen + rackLen - 1;
    p = skipTaggedFields(frame, p);
    const rackAndTags = frame.subarray(rackStart, p);
    const id = Buffer.alloc(4);
    id.writeInt32BE(nodeId);
    const portBuf = Buffer.alloc(4);
    portBuf.writeInt32BE(port);
    brokers.push(id, writeUVarInt(Buffer.byteLength(host) + 1), Buffer.from(host), portBuf, rackAndTags);
  }
  return Buffer.concat([frame.subarray(0, first), ...brokers, frame.subarray(p)]);
}

/** Splits a byte stream into Kafka frames (4-byte big-endian size, then the payload). */
class Framer {
  #pending: Buffer = Buffer.alloc(0);
  push(chunk: Buffer, onFrame: (payload: Buffer) => void): void {
    this.#pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    while (this.#pending.length >= 4) {
      const size = this.#pending.readInt32BE(0);
      if (this.#pending.length < 4 + size) return;
      onFrame(this.#pending.subarray(4, 4 + size));
      this.#pending = this.#pending.subarray(4 + size);
    }
  }
}

function frame(payload: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  return Buffer.concat([size, payload]);
}

export class KafkaFrontProxy {
  readonly #server: Server;
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #refuseUntil = 0;
  port = 0;
  /** Connections cut by {@link cut} or refused since start. */
  cuts = 0;
  /** Requests passed on, by Kafka API key (1 Fetch, 3 Metadata). */
  readonly requests = new Map<number, number>();
  /** The next this-many Fetch requests are answered by the proxy with {@link #fetchError}. */
  #failFetches = 0;
  #fetchError = 0;

  private constructor(target: { host: string; port: number }) {
    this.#target = target;
    this.#server = createServer((client) => this.#accept(client));
  }

  static async start(target: string): Promise<KafkaFrontProxy> {
    const [host, port] = [
      target.slice(0, target.lastIndexOf(':')),
      Number(target.slice(target.lastIndexOf(':') + 1)),
    ];
    const proxy = new KafkaFrontProxy({ host, port });
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.#server.address() as { port: number }).port;
    return proxy;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  #accept(client: Socket): void {
    if (Date.now() < this.#refuseUntil) {
      this.cuts++;
      client.destroy();
      return;
    }
    const upstream = createConnection(this.#target);
    this.#sockets.add(client);
    this.#sockets.add(upstream);
    const apiOf = new Map<number, { key: number; version: number }>();
    const fromClient = new Framer();
    const fromBroker = new Framer();
    client.on('data', (chunk) =>
      fromClient.push(chunk, (payload) => {
        const key = payload.readInt16BE(0);
        const version = payload.readInt16BE(2);
        if (key === FETCH && this.#failFetches > 0) {
          if (version !== 17) throw new Error(`proxy answers Fetch v17 only, got v${version}`);
          this.#failFetches--;
          client.write(frame(fetchV17ErrorAnswer(payload, this.#fetchError)));
          return;
        }
        apiOf.set(payload.readInt32BE(4), { key, version });
        this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
        upstream.write(frame(payload));
      }),
    );
    upstream.on('data', (chunk) =>
      fromBroker.push(chunk, (payload) => {
        const correlationId = payload.readInt32BE(0);
        const api = apiOf.get(correlationId);
        apiOf.delete(correlationId);
        if (api?.key === METADATA) {
          if (api.version !== 12) throw new Error(`proxy rewrites Metadata v12 only, got v${api.version}`);
          client.write(frame(rewriteMetadataV12(payload, '127.0.0.1', this.port)));
        } else {
          client.write(frame(payload));
        }
      }),
    );
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  }

  /** Cuts every open connection and refuses new ones for `refuseMs`. */
  cut(refuseMs: number): void {
    this.#refuseUntil = Date.now() + refuseMs;
    for (const s of this.#sockets) {
      this.cuts++;
      s.destroy();
    }
    this.#sockets.clear();
  }

  /** Answers the next `count` Fetch requests itself, with this Kafka error code. */
  failFetches(count: number, errorCode: number): void {
    this.#failFetches = count;
    this.#fetchError = errorCode;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
