/**
 * The API's one authentication rule, as an `onRequest` hook: changes (every method but GET and
 * HEAD) need `Authorization: Bearer <token>` with a token from `SLUICE_API_TOKEN` (a
 * comma-separated list, so tokens can be rotated); with `SLUICE_PROTECT_READS` reads need one
 * too, except the health probes. Tokens are compared in constant time and never logged.
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

export function bearerAuth(cfg: Pick<MasterConfig, 'apiTokens' | 'protectReads'>) {
  const accepted = cfg.apiTokens.map(digest);
  return async function checkBearer(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const read = req.method === 'GET' || req.method === 'HEAD';
    if (read && (!cfg.protectReads || OPEN_ROUTES.has(req.routeOptions.url ?? ''))) return;
    if (accepted.length === 0) {
      throw new SluiceError(
        ErrorCodes.FORBIDDEN,
        read
          ? 'reads are protected (SLUICE_PROTECT_READS) but no token is configured: set SLUICE_API_TOKEN on the master'
          : 'changes are disabled because no token is configured: set SLUICE_API_TOKEN on the master (a comma-separated list of bearer tokens)',
      );
    }
    reply.header('www-authenticate', 'Bearer realm="sluice"');
    const header = req.headers.authorization;
    if (!header) {
      throw new SluiceError(
        ErrorCodes.UNAUTHORIZED,
        read
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
