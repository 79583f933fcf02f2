/**
 * The CLI's client of the master's REST API. Distinguishes "could not reach the master"
 * (exit 3) from an answer that says no (exit 1), so scripts can tell them apart. Answers are
 * typed by the route's response schema (the `…Answer` types of api/), the schema the master
 * serializes them with.
 */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

export const EXIT = { OK: 0, API_ERROR: 1, USAGE: 2, UNREACHABLE: 3, PROBLEMS: 4 } as const;

export interface ApiClient {
  /** `T` is the answer type of the route called (e.g. `StatusAnswer` for `GET /api/v1/status`). */
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

/** What an error answer carries that the CLI shows (api/common-schemas.ts, `errorSchema`). */
type ErrorFields = { message?: unknown; code?: unknown };

export function createApiClient(baseUrl: string, token: string | undefined, timeoutMs = 15_000): ApiClient {
  const base = baseUrl.replace(/\/$/, '');
  return {
    async call<T>(method: string, path: string, body?: unknown): Promise<T> {
      let res: Response;
      try {
        res = await fetch(`${base}${path}`, {
          method,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const why =
          err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
        throw new CliError(
          `cannot reach the Sluice master at ${base} (${why}). Check that it runs and that SLUICE_API_URL (or --api-url) points at it.`,
          EXIT.UNREACHABLE,
        );
      }
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // not JSON
      }
      if (!res.ok) {
        const fields: ErrorFields = parsed && typeof parsed === 'object' ? parsed : {};
        const msg = fields.message ? fields.message : text;
        const code = fields.code ? ` [${fields.code}]` : '';
        let hint = '';
        if (res.status === 401 || res.status === 403) hint = ' (set SLUICE_API_TOKEN or pass --token)';
        throw new CliError(
          `${method} ${path} failed: HTTP ${res.status}${code}: ${msg}${hint}`,
          EXIT.API_ERROR,
        );
      }
      // The master serialized this answer by the route's response schema, which T is derived from.
      return parsed as T;
    },
  };
}
