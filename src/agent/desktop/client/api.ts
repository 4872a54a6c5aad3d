/** The agent REST API as the page calls it: bearer token, no cookies, no caching, stable error codes. */

export class ApiError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
  ) {
    super(code);
  }
}

const STATUS_CODES: Record<number, string> = { 401: 'unauthenticated', 403: 'forbidden', 429: 'rate_limited' };

export type Api = <T>(method: string, path: string, body?: unknown) => Promise<T>;

/** `token()` is read at each call, so a sign-in or sign-out takes effect on the next request. */
export function createApi(token: () => string | null): Api {
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const headers: Record<string, string> = {};
    const bearer = token();
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(path, { method, headers, cache: 'no-store', credentials: 'omit', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    } catch {
      throw new ApiError('network', 0);
    }
    const data = (await res.json().catch(() => null)) as { error?: { code?: string } } | null;
    if (!res.ok) throw new ApiError(data?.error?.code ?? STATUS_CODES[res.status] ?? `http_${res.status}`, res.status);
    return data as T;
  };
}

/** The code to show for any failure of an agent action. */
export function errorCode(err: unknown): string {
  return err instanceof ApiError ? err.code : 'network';
}
