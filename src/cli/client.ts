// A small Vault HTTP API client over Node's global fetch, used by every `leasehold` client command.
import { readHelperToken } from './token-helper';

/** Where the CLI sends requests and which token it presents. */
export interface ConnectionSettings {
  address: string;
  token?: string;
  /** `-wrap-ttl`: asks the server to wrap each response (`X-Vault-Wrap-TTL`). */
  wrapTtl?: string;
  /** `-header K=V` and LEASEHOLD_JUSTIFICATION: extra headers sent with every request (never the token's). */
  headers?: Record<string, string>;
}

/** The default address of `leasehold server` and of Vault. */
export const DEFAULT_ADDRESS = 'http://127.0.0.1:8200';

/** Vault's client gives up after 60 seconds by default; so do we. */
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * The address comes from `--address`, else LEASEHOLD_ADDR, else VAULT_ADDR (so existing Vault
 * setups work unchanged); the token from LEASEHOLD_TOKEN, else VAULT_TOKEN. An empty variable
 * counts as unset, as in Vault.
 */
export function resolveConnection(flagAddress: string | undefined, env: NodeJS.ProcessEnv): ConnectionSettings {
  const pick = (...values: Array<string | undefined>): string | undefined =>
    values.map((value) => value?.trim()).find((value): value is string => value !== undefined && value !== '');
  const address = (pick(flagAddress, env.LEASEHOLD_ADDR, env.VAULT_ADDR) ?? DEFAULT_ADDRESS).replace(/\/+$/, '');
  let parsed: URL;
  try {
    parsed = new URL(address);
  } catch {
    throw new Error(`invalid address ${JSON.stringify(address)}: expected a URL such as ${DEFAULT_ADDRESS}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`invalid address ${JSON.stringify(address)}: the scheme must be http or https`);
  }
  // As Vault's CLI: a token variable wins, else the token helper's ~/.vault-token (written by `login`).
  const token = pick(env.LEASEHOLD_TOKEN, env.VAULT_TOKEN) ?? readHelperToken(env);
  return token === undefined ? { address } : { address, token };
}

/** Vault's response envelope; every field is optional because sys/ endpoints answer bare objects. */
export interface VaultResponse {
  request_id?: string;
  lease_id?: string;
  renewable?: boolean;
  lease_duration?: number;
  data?: Record<string, unknown> | null;
  wrap_info?: Record<string, unknown> | null;
  warnings?: string[] | null;
  auth?: Record<string, unknown> | null;
  [key: string]: unknown;
}

/** A 4xx/5xx answer: carries Vault's `errors` so the CLI can print them the way `vault` does. */
export class ApiError extends Error {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly statusCode: number,
    readonly errors: readonly string[],
  ) {
    const list = errors.length > 0 ? `\n\n${errors.map((error) => `* ${error}`).join('\n')}` : '';
    super(`Error making API request.\n\nURL: ${method} ${url}\nCode: ${statusCode}. Errors:${list}`);
    this.name = 'ApiError';
  }
}

/** The server could not be reached or did not answer in time. */
export class ConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionError';
  }
}

/** Options for one request: query parameters, a JSON body, and the statuses that are not errors. */
export interface RequestOptions {
  query?: Record<string, string>;
  body?: unknown;
  contentType?: string;
  /** A 404 answers `undefined` (or the body, if it carries data or warnings) instead of throwing. */
  notFoundIsEmpty?: boolean;
  /** Never wrapped, even with `-wrap-ttl` (the CLI's own preflight requests, as Vault's). */
  noWrap?: boolean;
}

/** Turns `secret/my app/x` into `secret/my%20app/x`: each segment is encoded, the slashes kept. */
export function encodeApiPath(path: string): string {
  return path
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}

/** Strips what Vault's CLI strips from a user-supplied path: whitespace and leading slashes. */
export function sanitizePath(path: string): string {
  return path.trim().replace(/^\/+/, '');
}

/** The client commands use: one method per Vault operation, over fetch. */
export class VaultClient {
  constructor(
    readonly settings: ConnectionSettings,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /** GET; a 404 is "no value" (Vault's Logical().Read semantics). */
  read(path: string, query?: Record<string, string>): Promise<VaultResponse | undefined> {
    return this.request('GET', path, { ...(query ? { query } : {}), notFoundIsEmpty: true });
  }

  /** LIST, sent as `GET ?list=true`: Node's fetch refuses custom methods on some versions. */
  list(path: string): Promise<VaultResponse | undefined> {
    const withSlash = path.endsWith('/') ? path : `${path}/`;
    return this.request('GET', withSlash, { query: { list: 'true' }, notFoundIsEmpty: true });
  }

  /** PUT (Vault treats PUT and POST alike); `undefined` when the server answers 204. */
  write(path: string, body: unknown, method: 'PUT' | 'POST' = 'PUT'): Promise<VaultResponse | undefined> {
    return this.request(method, path, { body });
  }

  /** DELETE, with optional query parameters as `vault delete` sends them. */
  delete(path: string, query?: Record<string, string>): Promise<VaultResponse | undefined> {
    return this.request('DELETE', path, query ? { query } : {});
  }

  /** PATCH as a JSON merge patch, the content type Vault requires. */
  patch(path: string, body: unknown): Promise<VaultResponse | undefined> {
    return this.request('PATCH', path, { body, contentType: 'application/merge-patch+json' });
  }

  /** One request; throws ApiError on 4xx/5xx and ConnectionError when the server is unreachable. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<VaultResponse | undefined> {
    const url = new URL(`${this.settings.address}/v1/${encodeApiPath(sanitizePath(path))}`);
    for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
    const headers: Record<string, string> = { ...this.settings.headers };
    if (this.settings.token !== undefined) headers['X-Vault-Token'] = this.settings.token;
    if (this.settings.wrapTtl !== undefined && !options.noWrap) headers['X-Vault-Wrap-TTL'] = this.settings.wrapTtl;
    const init: RequestInit = { method, headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) };
    if (options.body !== undefined) {
      headers['Content-Type'] = options.contentType ?? 'application/json';
      init.body = JSON.stringify(options.body);
    }

    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(url, init);
      text = await response.text();
    } catch (error) {
      throw new ConnectionError(this.redact(`${method} ${JSON.stringify(displayUrl(url))}: ${describeFetchError(error)}`));
    }

    const body = parseJson(text);
    if (response.status === 404 && options.notFoundIsEmpty) {
      const envelope = isRecord(body) ? (body as VaultResponse) : undefined;
      const hasData = envelope && isRecord(envelope.data) && Object.keys(envelope.data).length > 0;
      const hasWarnings = envelope && Array.isArray(envelope.warnings) && envelope.warnings.length > 0;
      return hasData || hasWarnings ? envelope : undefined;
    }
    if (response.status >= 400) {
      throw new ApiError(method, displayUrl(url), response.status, this.errorsFrom(body, text));
    }
    if (response.status === 204 || text.trim() === '') return undefined;
    if (!isRecord(body)) {
      throw new ConnectionError(`${method} ${JSON.stringify(displayUrl(url))}: the server answered ${response.status} with a body that is not a JSON object`);
    }
    return body as VaultResponse;
  }

  /**
   * A request whose body or answer is bytes, not JSON (snapshots): GET answers the bytes; a request
   * with `body` sends it as application/octet-stream and answers the JSON envelope. No timeout: a
   * large store takes as long as it takes. Errors as `request`.
   */
  async requestBytes(method: 'GET' | 'POST', path: string, body?: Buffer): Promise<{ bytes?: Buffer; response?: VaultResponse }> {
    const url = new URL(`${this.settings.address}/v1/${encodeApiPath(sanitizePath(path))}`);
    const headers: Record<string, string> = {};
    if (this.settings.token !== undefined) headers['X-Vault-Token'] = this.settings.token;
    const init: RequestInit = { method, headers };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/octet-stream';
      init.body = body;
    }
    let response: Response;
    let bytes: Buffer;
    try {
      response = await this.fetchImpl(url, init);
      bytes = Buffer.from(await response.arrayBuffer());
    } catch (error) {
      throw new ConnectionError(this.redact(`${method} ${JSON.stringify(displayUrl(url))}: ${describeFetchError(error)}`));
    }
    const isJson = (response.headers.get('content-type') ?? '').startsWith('application/json');
    if (response.status >= 400) {
      const text = bytes.toString('utf8');
      throw new ApiError(method, displayUrl(url), response.status, this.errorsFrom(parseJson(text), isJson ? text : ''));
    }
    if (!isJson) return { bytes };
    const parsed = parseJson(bytes.toString('utf8'));
    return isRecord(parsed) ? { response: parsed as VaultResponse } : {};
  }

  private errorsFrom(body: unknown, text: string): string[] {
    if (isRecord(body) && Array.isArray(body.errors)) {
      return body.errors.map((error) => this.redact(typeof error === 'string' ? error : JSON.stringify(error)));
    }
    // Not Vault's envelope (a proxy's HTML page, say): show a bounded piece of it.
    const trimmed = text.trim();
    return trimmed === '' ? [] : [this.redact(trimmed.length > 500 ? `${trimmed.slice(0, 500)}...` : trimmed)];
  }

  /** A server should never echo the token, but if it does the CLI still does not print it. */
  private redact(message: string): string {
    const token = this.settings.token;
    return token !== undefined && token.length > 0 ? message.split(token).join('<redacted>') : message;
  }
}

/**
 * The request URL as error messages show it: query values are replaced, since `leasehold read PATH k=@file`
 * sends data (a wrapping token, a secret ID) as query parameters and errors go to stderr and CI logs.
 */
export function displayUrl(url: URL): string {
  if (url.search === '') return url.href;
  const shown = new URL(url.href);
  shown.search = '';
  const keys = [...url.searchParams.keys()].map((key) => `${encodeURIComponent(key)}=<redacted>`);
  return `${shown.href}?${keys.join('&')}`;
}

function describeFetchError(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${REQUEST_TIMEOUT_MS / 1000}s`;
  const cause = error instanceof Error ? (error as Error & { cause?: unknown }).cause : undefined;
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** True for a plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
