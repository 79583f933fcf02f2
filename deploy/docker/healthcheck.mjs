// Container health check for the slim Node image, which has no curl or wget.
// Usage: node healthcheck.mjs <default port>. Asks GET /healthz on 127.0.0.1 at SLUICE_HTTP_PORT
// (else the default port) and exits 0 on a 2xx answer, 1 otherwise, within 2.5 s, so that the
// runtime's own timeout never has to kill it.
const port = process.env.SLUICE_HTTP_PORT || process.argv[2] || '8080';
const url = `http://127.0.0.1:${port}/healthz`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2500) });
  await res.body?.cancel();
  process.exit(res.ok ? 0 : 1);
} catch (err) {
  console.error(`healthcheck: ${url}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
