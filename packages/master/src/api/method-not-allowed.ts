/**
 * `405 Method Not Allowed` (with `Allow`) for a path that exists under other methods, where
 * Fastify would answer 404, or even 400 for a body method it cannot parse (`QUERY` without a
 * content type): a client that sends the wrong method learns which ones the path takes.
 *
 * Routes are collected as they are added (`onRoute`), and an unmatched request is checked
 * against their patterns in `onRequest`, before body parsing and authentication.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

interface Pattern {
  regex: RegExp;
  methods: Set<string>;
}

/** `/api/v1/topics/:topic` → a regex matching one non-empty segment per parameter. */
export function routeRegex(url: string): RegExp {
  const escaped = url
    .split('/')
    .map((seg) =>
      seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${escaped}/?$`);
}

export function methodNotAllowed(app: FastifyInstance): void {
  const patterns = new Map<string, Pattern>();
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    let p = patterns.get(route.url);
    if (!p) {
      p = { regex: routeRegex(route.url), methods: new Set() };
      patterns.set(route.url, p);
    }
    for (const m of methods) p.methods.add(m.toUpperCase());
  });
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!req.is404) return;
    const path = req.url.split('?')[0] ?? '';
    const allowed = new Set<string>();
    for (const p of patterns.values()) if (p.regex.test(path)) for (const m of p.methods) allowed.add(m);
    if (allowed.size === 0) return;
    const allow = [...allowed].sort().join(', ');
    await reply
      .code(405)
      .header('allow', allow)
      .send({
        statusCode: 405,
        code: 'FST_ERR_METHOD_NOT_ALLOWED',
        error: STATUS_CODES[405],
        message: `${req.method} is not allowed on ${path}; use ${allow}`,
      });
  });
}
