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

const METADATA = 3;

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
        apiOf.set(payload.readInt32BE(4), { key, version: payload.readInt16BE(2) });
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

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
