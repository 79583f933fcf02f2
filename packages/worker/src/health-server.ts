/**
 * The worker's small HTTP surface: `GET /healthz` (the process is up), `GET /readyz` (it can
 * work: ZooKeeper session alive, Redis ready, BullMQ worker running and not stopped by a failure
 * of its own, own-fault-gate.ts; 503 with the reasons otherwise) and `GET /metrics` (Prometheus
 * text). On node:http, not Fastify: three fixed answers need no router, and loading Fastify
 * (with avvio, find-my-way and its serializers) was about 0.07-0.1 CPU s of every worker's
 * start (issue 14).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { errorText, type Logger } from '@sluice/shared';
import type { WorkerMetrics } from './worker-metrics.ts';

export interface Readiness {
  ready: boolean;
  /** Why not, one line per failing check. */
  reasons: string[];
}

export interface HealthServerOptions {
  metrics: WorkerMetrics;
  readiness: () => Readiness;
  log: Logger;
}

export interface HealthServer {
  readonly server: Server;
  listen(at: { host: string; port: number }): Promise<void>;
  /** Stops listening and ends its connections (probes keep theirs alive). */
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(head ? undefined : body);
}

const JSON_TYPE = 'application/json; charset=utf-8';

export function createHealthServer(opts: HealthServerOptions): HealthServer {
  const log = opts.log.child({ component: 'http' });
  // Probes hit these every few seconds: none is logged, only a failure to answer.
  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    const head = req.method === 'HEAD';
    const known = path === '/healthz' || path === '/readyz' || path === '/metrics';
    if (!known || (req.method !== 'GET' && !head)) {
      const message = `no route ${req.method} ${path}; the worker serves GET /healthz, /readyz and /metrics`;
      send(res, 404, JSON_TYPE, JSON.stringify({ statusCode: 404, error: 'Not Found', message }), head);
    } else if (path === '/healthz') {
      send(res, 200, JSON_TYPE, JSON.stringify({ status: 'ok' }), head);
    } else if (path === '/readyz') {
      const r = opts.readiness();
      const body = r.ready ? { status: 'ready', reasons: [] } : { status: 'not ready', reasons: r.reasons };
      send(res, r.ready ? 200 : 503, JSON_TYPE, JSON.stringify(body), head);
    } else {
      const text = await opts.metrics.registry.metrics();
      send(res, 200, opts.metrics.registry.contentType, text, head);
    }
  };
  const server = createServer((req, res) => {
    answer(req, res).catch((err) => {
      log.error({ err: errorText(err) }, 'health request failed');
      if (!res.headersSent)
        send(res, 500, JSON_TYPE, JSON.stringify({ statusCode: 500, error: 'Internal Server Error' }), false);
      else res.destroy();
    });
  });
  return {
    server,
    listen: ({ host, port }) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      }),
    close: () =>
      new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
