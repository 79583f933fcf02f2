/**
 * The HTTP server's own limits, from the settings (SLUICE_HTTP_*): without them a client that
 * trickles a body one byte a minute, or opens connections and says nothing, holds them for
 * ever. Node enforces the request and headers timeouts (408, then the connection is closed),
 * the idle and keep-alive timeouts close silent sockets, and the caps bound what one process holds.
 */
import type { Server, ServerOptions } from 'node:http';
import type { MasterConfig } from '@sluice/shared';
import type { FastifyServerOptions } from 'fastify';

type LimitOptions = Pick<
  FastifyServerOptions,
  'requestTimeout' | 'connectionTimeout' | 'keepAliveTimeout' | 'maxRequestsPerSocket'
> & { http: ServerOptions };

/** The Fastify options that carry the limits. */
export function serverOptions(cfg: Pick<MasterConfig, 'http'>): LimitOptions {
  const h = cfg.http;
  return {
    requestTimeout: h.requestTimeoutMs,
    connectionTimeout: h.connectionTimeoutMs,
    keepAliveTimeout: h.keepAliveTimeoutMs,
    maxRequestsPerSocket: h.maxRequestsPerSocket,
    http: {
      headersTimeout: h.headersTimeoutMs,
      // Node looks for requests past their timeout every 30 s by default, which would let a
      // trickling client hold a connection up to 30 s beyond the timeout the operator set.
      connectionsCheckingInterval: Math.min(1_000, Math.floor(h.headersTimeoutMs / 2)),
    },
  };
}

/** Connections beyond the cap are closed as they arrive (Node's `server.maxConnections`). */
export function capConnections(server: Server, cfg: Pick<MasterConfig, 'http'>): void {
  server.maxConnections = cfg.http.maxConnections;
}
