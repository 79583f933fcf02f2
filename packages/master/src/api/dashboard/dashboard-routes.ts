/**
 * `GET /dashboard`: the operator's page, with its script and style sheet. The page is static
 * (it carries no data; it reads `/api/v1/status` with the operator's token), so these routes
 * answer without a token even when reads are protected (bearer-auth.ts). The text is built into
 * the program as TypeScript modules: nothing to copy at build time, nothing to find at run time.
 *
 * A strict Content-Security-Policy: scripts and styles only from this master, no inline script,
 * no eval, API calls only to this master, never framed.
 */
import type { FastifyPluginAsync } from 'fastify';
import { DASHBOARD_HTML } from './dashboard-html.ts';
import { DASHBOARD_JS } from './dashboard-script.ts';
import { DASHBOARD_CSS } from './dashboard-style.ts';

/** Routes of the dashboard, all open (bearer-auth.ts lets them through). */
export const DASHBOARD_ROUTES = ['/', '/dashboard', '/dashboard/app.js', '/dashboard/style.css'] as const;

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const dashboardRoutes: FastifyPluginAsync = async (app) => {
  const common = { logLevel: 'warn' as const, schema: { hide: true } };
  const send = (type: string, body: string) => async (_req: unknown, reply: import('fastify').FastifyReply) =>
    reply
      .type(type)
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(body);

  app.get('/', common, async (_req, reply) => reply.redirect('/dashboard'));
  app.get('/dashboard', common, send('text/html; charset=utf-8', DASHBOARD_HTML));
  app.get('/dashboard/app.js', common, send('text/javascript; charset=utf-8', DASHBOARD_JS));
  app.get('/dashboard/style.css', common, send('text/css; charset=utf-8', DASHBOARD_CSS));
};
