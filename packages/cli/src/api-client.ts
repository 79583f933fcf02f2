/**
 * The CLI's client of the master's REST API. Distinguishes "could not reach the master"
 * (exit 3) from an answer that says no (exit 1), so scripts can tell them apart. Answers are
 * typed by the route's response schema (the `…Answer` types of api/), the schema the master
 * serializes them with.
 */
export class CliError extends Error {
  readonly exitCode: number;
  /** The master's refusal when it answered one: its status, code and per-field problems. */
  readonly refusal: Refusal | undefined;
  constructor(message: string, exitCode: number, refusal?: Refusal) {
    super(message);
    this.exitCode = exitCode;
    this.refusal = refusal;
  }
}

export interface Refusal {
  status: number;
  code: string | undefined;
  message: string;
  problems: Array<{ path: string; message: string }>;
}

/** Times a change refused with 429 is sent again after the `Retry-After` the master gave. */
const RATE_LIMIT_RETRIES = 5;
/** Longest `Retry-After` waited for; a longer one is reported instead. */
const MAX_RETRY_AFTER_S = 60;

export const EXIT = { OK: 0, API_ERROR: 1, USAGE: 2, UNREACHABLE: 3, PROBLEMS: 4 } as const;

export interface ApiClient {
  /** `T` is the answer type of the route called (e.g. `StatusAnswer` for `GET /api/v1/status`). */
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

/** What an error answer carries that the CLI shows (api/common-schemas.ts, `errorSchema`). */
type ErrorFields = { message?: unknown; code?: unknown; problems?: unknown };

function problemsOf(fields: ErrorFields): Refusal['problems'] {
  if (!Array.isArray(fields.problems)) return [];
  return fields.problems.flatMap((p: { path?: unknown; message?: unknown }) =>
    typeof p?.path === 'string' && typeof p.message === 'string'
      ? [{ path: p.path, message: p.message }]
      : [],
  );
}

export function createApiClient(baseUrl: string, token: string | undefined, timeoutMs = 15_000): ApiClient {
  const base = baseUrl.replace(/\/$/, '');
  return {
    async call<T>(method: string, path: string, body?: unknown): Promise<T> {
      for (let retry = 0; ; retry++) {
        const res = await send(method, path, body);
        // A long apply meets the master's per-client limit of changes: wait as told, then go on.
        const wait = Number(res.headers.get('retry-after'));
        if (res.status === 429 && retry < RATE_LIMIT_RETRIES && wait > 0 && wait <= MAX_RETRY_AFTER_S) {
          await res.arrayBuffer();
          await new Promise((resolve) => setTimeout(resolve, wait * 1000));
          continue;
        }
        return answerOf<T>(method, path, res);
      }
    },
  };

  async function send(method: string, path: string, body: unknown): Promise<Response> {
    try {
      return await fetch(`${base}${path}`, {
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
  }

  async function answerOf<T>(method: string, path: string, res: Response): Promise<T> {
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
        {
          status: res.status,
          code: typeof fields.code === 'string' ? fields.code : undefined,
          message: String(msg),
          problems: problemsOf(fields),
        },
      );
    }
    // The master serialized this answer by the route's response schema, which T is derived from.
    return parsed as T;
  }
}
