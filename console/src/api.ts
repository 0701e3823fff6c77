// The console's only way to the vault: the public /v1 API with the signed-in token. The token lives
// in sessionStorage (gone with the tab; never localStorage or a cookie) and is sent as
// X-Vault-Token; nothing secret goes into a URL.

const TOKEN_KEY = 'leasehold.token';

export class ApiError extends Error {
  constructor(readonly status: number, readonly errors: string[]) {
    super(errors.length > 0 ? errors.join('; ') : `request failed with status ${status}`);
  }
}

export function currentToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

export type Json = Record<string, any>;

/** Calls `path` under /v1 and answers the whole JSON body; a non-2xx answer throws ApiError with the API's errors. */
export async function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, options: { body?: unknown; query?: Record<string, string | number | undefined>; list?: boolean; token?: string | null } = {}): Promise<Json> {
  const params = new URLSearchParams();
  if (options.list) params.set('list', 'true');
  for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined && v !== '') params.set(k, String(v));
  const qs = params.toString();
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? currentToken() : options.token;
  if (token) headers['X-Vault-Token'] = token;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`/v1/${path}${qs ? `?${qs}` : ''}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    credentials: 'omit',
    cache: 'no-store',
    referrerPolicy: 'no-referrer',
  });
  const text = await res.text();
  let body: Json = {};
  if (text !== '') {
    try {
      body = JSON.parse(text) as Json;
    } catch {
      body = { errors: [text.slice(0, 200)] };
    }
  }
  if (!res.ok) {
    // A LIST with nothing under it is a 404 with no errors: an empty list, not a failure.
    if (options.list && res.status === 404 && (!Array.isArray(body.errors) || body.errors.length === 0)) return { data: { keys: [] } };
    throw new ApiError(res.status, Array.isArray(body.errors) ? body.errors.map(String) : []);
  }
  return body;
}

export const get = (path: string, query?: Record<string, string | number | undefined>) => call('GET', path, { query });
export const list = (path: string, query?: Record<string, string | number | undefined>) => call('GET', path, { list: true, query });
export const post = (path: string, body: unknown = {}) => call('POST', path, { body });
