/**
 * SLUICE_ALLOWED_HOSTS as an `onRequest` hook: a page on another site can point its own DNS
 * name at the master's address (DNS rebinding) and then read the API as a same-origin page; the
 * browser still sends that foreign name as `Host`, so answering only listed names closes the
 * hole. Probes and scrapes come addressed by a pod's IP, so they answer whatever the Host
 * (/metrics is behind a token when reads are protected).
 */
import { ErrorCodes, type MasterConfig, SluiceError } from '@sluice/shared';
import type { FastifyRequest } from 'fastify';

const ANY_HOST_ROUTES = new Set<string>(['/healthz', '/readyz', '/metrics']);

/** `Host: Name.Example:8080` → `name.example` and `name.example:8080` (IPv6 in brackets kept). */
function hostForms(host: string): string[] {
  const full = host.trim().toLowerCase();
  const name = full.replace(/:\d+$/, '');
  return name === full ? [full] : [full, name];
}

export function hostAllowList(cfg: Pick<MasterConfig, 'http'>) {
  const allowed = new Set(cfg.http.allowedHosts);
  return async function checkHost(req: FastifyRequest): Promise<void> {
    if (allowed.size === 0 || ANY_HOST_ROUTES.has(req.routeOptions.url ?? '')) return;
    const host = req.headers.host ?? '';
    if (hostForms(host).some((h) => allowed.has(h))) return;
    throw new SluiceError(
      ErrorCodes.HOST_NOT_ALLOWED,
      `this master does not answer for Host "${host.slice(0, 100)}": reach it by one of the names in SLUICE_ALLOWED_HOSTS, or add this name to SLUICE_ALLOWED_HOSTS on the master`,
    );
  };
}
