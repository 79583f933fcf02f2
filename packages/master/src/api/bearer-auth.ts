/**
 * The API's one authentication rule, as an `onRequest` hook: changes (every method but GET and
 * HEAD) and reads that cost (routes marked `config: { costly: true }`: audits read S3 per
 * request) need `Authorization: Bearer <token>` with a token from `SLUICE_API_TOKEN` (a
 * comma-separated list, so tokens can be rotated); with `SLUICE_PROTECT_READS` every read needs
 * one, except the health probes, and `/metrics` also takes `SLUICE_METRICS_TOKEN` (a scraper's
 * token that can do nothing else). Tokens are compared in constant time and never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ErrorCodes, type MasterConfig, SluiceError } from '@sluice/shared';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DASHBOARD_ROUTES } from './dashboard/dashboard-routes.ts';

/**
 * Routes that answer without a token whatever the settings: orchestrators probe the health
 * routes; the dashboard's page and assets hold no data (the page sends the operator's token
 * with its API calls), and a browser cannot send a bearer token when it opens a page.
 */
const OPEN_ROUTES = new Set<string>(['/healthz', '/readyz', ...DASHBOARD_ROUTES]);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A read that costs (S3 downloads per request): needs the token whatever SLUICE_PROTECT_READS says. */
    costly?: boolean;
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Whether `token` is one of `accepted`. Comparing fixed-size digests keeps the time independent
 * of where the strings differ and of their lengths, and every token is compared (no early exit).
 */
export function tokenAccepted(token: string, accepted: readonly Buffer[]): boolean {
  const d = digest(token);
  let ok = false;
  for (const a of accepted) ok = timingSafeEqual(d, a) || ok;
  return ok;
}

export function bearerAuth(
  cfg: Pick<MasterConfig, 'apiTokens' | 'protectReads'> & Partial<Pick<MasterConfig, 'http'>>,
) {
  const apiTokens = cfg.apiTokens.map(digest);
  const scrapeTokens = [...apiTokens, ...(cfg.http?.metricsToken ? [digest(cfg.http.metricsToken)] : [])];
  return async function checkBearer(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const read = req.method === 'GET' || req.method === 'HEAD';
    const costly = req.routeOptions.config?.costly === true;
    const route = req.routeOptions.url ?? '';
    if (read && !costly && (!cfg.protectReads || OPEN_ROUTES.has(route))) return;
    const accepted = read && route === '/metrics' ? scrapeTokens : apiTokens;
    if (accepted.length === 0) {
      throw new SluiceError(
        ErrorCodes.FORBIDDEN,
        costly
          ? 'this read costs the master S3 downloads and needs a token, but none is configured: set SLUICE_API_TOKEN on the master'
          : read
            ? 'reads are protected (SLUICE_PROTECT_READS) but no token is configured: set SLUICE_API_TOKEN on the master'
            : 'changes are disabled because no token is configured: set SLUICE_API_TOKEN on the master (a comma-separated list of bearer tokens)',
      );
    }
    reply.header('www-authenticate', 'Bearer realm="sluice"');
    const header = req.headers.authorization;
    if (!header) {
      throw new SluiceError(
        ErrorCodes.UNAUTHORIZED,
        costly
          ? 'missing bearer token: this read costs the master S3 downloads, so it needs a token whether or not reads are protected; send Authorization: Bearer <token> with a token from SLUICE_API_TOKEN'
          : read
            ? 'missing bearer token: reads are protected on this master (SLUICE_PROTECT_READS); send Authorization: Bearer <token> with a token from SLUICE_API_TOKEN'
            : 'missing bearer token: send Authorization: Bearer <token> (set SLUICE_API_TOKEN on the master)',
      );
    }
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (!m) {
      throw new SluiceError(
        ErrorCodes.UNAUTHORIZED,
        'the Authorization header is not a bearer token: send Authorization: Bearer <token>',
      );
    }
    if (!tokenAccepted(m[1]!, accepted)) {
      throw new SluiceError(
        ErrorCodes.UNAUTHORIZED,
        'token not accepted: it is not one of the tokens in SLUICE_API_TOKEN on the master',
      );
    }
    reply.removeHeader('www-authenticate');
  };
}
