/**
 * One log line per request, written by us instead of Fastify's two: refusals (4xx) at debug,
 * because a scan or a misconfigured client would otherwise fill the log at info (thousands of
 * lines in one probe), everything else at info; routes with their own level (probes at warn)
 * keep it. The URL is logged with query values replaced: a query can carry what a caller
 * would not want in a log, and the path and the names of its parameters say enough.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

/** `/a/b?deep=true&x=1` → `/a/b?deep=[redacted]&x=[redacted]`. */
export function redactedUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const names = url
    .slice(q + 1)
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? pair : `${pair.slice(0, eq)}=[redacted]`;
    });
  return `${url.slice(0, q)}?${names.join('&')}`;
}

export async function logRequest(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const statusCode = reply.statusCode;
  const line = {
    method: req.method,
    url: redactedUrl(req.url),
    statusCode,
    responseTimeMs: Math.round(reply.elapsedTime),
  };
  if (statusCode >= 400 && statusCode < 500) req.log.debug(line, 'request refused');
  else req.log.info(line, 'request completed');
}
