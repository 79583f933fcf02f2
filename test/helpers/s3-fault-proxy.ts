/**
 * A fault-injecting HTTP proxy between Sluice and the local S3 server. Workers get its
 * `endpoint` as SLUICE_S3_ENDPOINT; every request passes through `rule`, which a test sets
 * and changes while the pipeline runs:
 *
 *  - `pass` (optionally after `delayMs` and once `until` settled, optionally running `beforeRespond` once the server
 *    answered and before the answer goes back: the write happened, the client does not know yet);
 *  - `error`: an S3 error answer (500 InternalError, 503 SlowDown, ...) without asking the server;
 *  - `reset`: the connection is reset, before the request reaches the server or, with
 *    `afterServer`, after the server handled it (the client cannot tell whether it happened).
 *
 * Requests are forwarded with their headers unchanged (SigV4 signs the Host header the client
 * used, which is the proxy's, and the server checks it as received), except the hop-by-hop
 * ones. Every request is recorded in `seen` with the action taken.
 */
import { randomBytes } from 'node:crypto';
import {
  Agent,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';

export type S3Op =
  | 'PutObject'
  | 'GetObject'
  | 'HeadObject'
  | 'DeleteObject'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListMultipartUploads'
  | 'ListObjects'
  | 'Other';

export interface S3Request {
  op: S3Op;
  method: string;
  bucket: string;
  key: string;
  query: URLSearchParams;
  at: number;
}

export type FaultAction =
  | { kind: 'pass'; delayMs?: number; until?: Promise<unknown>; beforeRespond?: () => Promise<void> }
  | { kind: 'error'; status: number; code: string; delayMs?: number }
  | { kind: 'reset'; afterServer?: boolean };

export type FaultRule = (req: S3Request) => FaultAction | Promise<FaultAction>;

export const PASS: FaultRule = () => ({ kind: 'pass' });

/** What S3 operation a path-style request is. */
export function classify(method: string, url: string): Omit<S3Request, 'at'> {
  const u = new URL(url, 'http://proxy');
  const [, bucket = '', ...rest] = u.pathname.split('/');
  const key = decodeURIComponent(rest.join('/'));
  const q = u.searchParams;
  let op: S3Op = 'Other';
  if (key === '') {
    if (method === 'GET' && q.has('uploads')) op = 'ListMultipartUploads';
    else if (method === 'GET') op = 'ListObjects';
  } else if (method === 'PUT') op = q.has('partNumber') && q.has('uploadId') ? 'UploadPart' : 'PutObject';
  else if (method === 'POST' && q.has('uploads')) op = 'CreateMultipartUpload';
  else if (method === 'POST' && q.has('uploadId')) op = 'CompleteMultipartUpload';
  else if (method === 'DELETE') op = q.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
  else if (method === 'GET') op = 'GetObject';
  else if (method === 'HEAD') op = 'HeadObject';
  return { op, method, bucket: decodeURIComponent(bucket), key, query: q };
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'expect', 'proxy-connection', 'upgrade', 'te']);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class S3FaultProxy {
  readonly #server: Server;
  readonly #target: URL;
  readonly #sockets = new Set<Socket>();
  readonly #agent = new Agent({ keepAlive: true });
  rule: FaultRule = PASS;
  /** Every request seen, with the action taken. */
  readonly seen: Array<S3Request & { action: FaultAction['kind'] }> = [];

  private constructor(server: Server, target: URL) {
    this.#server = server;
    this.#target = target;
  }

  /** Listens on a free loopback port; `target` is the S3 server, e.g. `http://127.0.0.1:19000`. */
  static async start(target: string): Promise<S3FaultProxy> {
    const server = createServer();
    const proxy = new S3FaultProxy(server, new URL(target));
    server.on('request', (req, res) => void proxy.#handle(req, res));
    server.on('connection', (s) => {
      proxy.#sockets.add(s);
      s.on('close', () => proxy.#sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  /** `http://127.0.0.1:port`, for SLUICE_S3_ENDPOINT. */
  get endpoint(): string {
    const a = this.#server.address();
    return `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  }

  /** Requests seen since `sinceMs` that match. */
  count(match: (r: S3Request & { action: FaultAction['kind'] }) => boolean, sinceMs = 0): number {
    return this.seen.filter((r) => r.at >= sinceMs && match(r)).length;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const info: S3Request = { ...classify(req.method ?? 'GET', req.url ?? '/'), at: Date.now() };
    let action: FaultAction;
    try {
      action = await this.rule(info);
    } catch {
      action = { kind: 'pass' };
    }
    this.seen.push({ ...info, action: action.kind });
    if (action.kind === 'reset' && !action.afterServer) {
      req.socket.resetAndDestroy();
      return;
    }
    if (action.kind === 'error') {
      req.resume();
      if (action.delayMs) await sleep(action.delayMs);
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${action.code}</Code><Message>injected by the fault proxy</Message><RequestId>${randomBytes(8).toString('hex')}</RequestId></Error>`;
      res.writeHead(action.status, {
        'content-type': 'application/xml',
        'content-length': Buffer.byteLength(body),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (action.kind === 'pass' && action.delayMs) await sleep(action.delayMs);
    if (action.kind === 'pass' && action.until) await action.until.catch(() => {});
    // The client went away meanwhile (a worker killed while its request was held): drop it.
    if (req.socket.destroyed) return;
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    const up = request({
      host: this.#target.hostname,
      port: this.#target.port,
      method: req.method,
      path: req.url,
      headers,
      agent: this.#agent,
    });
    // The client went away (a killed worker): drop the request to the server too.
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    up.on('response', async (answer) => {
      try {
        if (action.kind === 'reset') {
          answer.resume();
          req.socket.resetAndDestroy();
          return;
        }
        if (action.kind === 'pass' && action.beforeRespond) await action.beforeRespond();
        if (req.socket.destroyed) {
          answer.resume();
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      } catch {
        req.socket.destroy();
      }
    });
    up.on('error', () => req.socket.destroy());
    req.pipe(up);
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    this.#agent.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
