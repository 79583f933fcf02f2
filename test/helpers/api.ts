/** A small client of the master's REST API for tests. */
export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
}

function socketClosedBeforeAnswer(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return (
    cause?.code === 'UND_ERR_SOCKET' || cause?.code === 'ECONNRESET' || cause?.message === 'other side closed'
  );
}

export function apiClient(baseUrl: string, token?: string) {
  async function call<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiAnswer<T>> {
    const h: Record<string, string> = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    if (body !== undefined) h['content-type'] = 'application/json';
    const send = () =>
      fetch(`${baseUrl}${path}`, {
        method,
        headers: h,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    let res: Response;
    try {
      res = await send();
    } catch (err) {
      // fetch reuses an idle connection; on a loaded machine the master may close it (its
      // keep-alive timeout) just as the request goes out, and the socket dies before any
      // answer. The master never read that request, so it is sent once more on a new one.
      if (!socketClosedBeforeAnswer(err)) throw err;
      res = await send();
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (metrics, dashboard)
    }
    return { status: res.status, body: parsed as T };
  }
  return {
    call,
    get: <T = any>(path: string) => call<T>('GET', path),
    post: <T = any>(path: string, body?: unknown) => call<T>('POST', path, body),
    patch: <T = any>(path: string, body?: unknown) => call<T>('PATCH', path, body),
    del: <T = any>(path: string) => call<T>('DELETE', path),
  };
}
