// A minimal JSON client for the Leasehold HTTP API and the set-up steps the scenarios share (init, unseal, a policy-checked KV reader).

/** One API answer: status and parsed JSON body (undefined for 204). */
export interface ApiResponse {
  status: number;
  body: Record<string, any> | undefined;
}

/** Calls `/v1/<apiPath>`; never throws on an HTTP error status (see `ok`). */
export async function call(url: string, method: string, apiPath: string, options: { token?: string; body?: unknown } = {}): Promise<ApiResponse> {
  const res = await fetch(`${url}/v1/${apiPath}`, {
    method,
    headers: { ...(options.token ? { 'X-Vault-Token': options.token } : {}), ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

/** Like `call`, but a set-up step that fails stops the scenario with the server's error. */
export async function ok(url: string, method: string, apiPath: string, options: { token?: string; body?: unknown } = {}): Promise<Record<string, any>> {
  const res = await call(url, method, apiPath, options);
  if (res.status >= 300) throw new Error(`${method} ${apiPath} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body ?? {};
}

/** Initialises a fresh server with one key share and unseals it. */
export async function initAndUnseal(url: string): Promise<{ rootToken: string; unsealKey: string }> {
  const init = await ok(url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
  const unsealKey = (init.keys_base64 as string[])[0] as string;
  await unseal(url, unsealKey);
  return { rootToken: init.root_token as string, unsealKey };
}

/** Submits the (only) unseal key; throws unless the server reports itself unsealed. */
export async function unseal(url: string, unsealKey: string): Promise<void> {
  const status = await ok(url, 'PUT', 'sys/unseal', { body: { key: unsealKey } });
  if (status.sealed !== false) throw new Error(`still sealed after unseal: ${JSON.stringify(status)}`);
}

/** The secret every read scenario fetches (kept small, like a typical credential). */
export const BENCH_SECRET = { username: 'bench-app', password: 'correct-horse-battery-staple', host: 'db.internal:5432' };
/** The KV v2 path scenarios read. */
export const BENCH_SECRET_PATH = 'secret/data/bench/app';

/**
 * Prepares the realistic read path: kv-v2 at secret/ (mounted if missing), a read-only policy, a
 * non-root token holding only that policy, one secret, and optionally a file audit device.
 * Returns the token; the caller reads BENCH_SECRET_PATH with it.
 */
export async function setUpKvReader(url: string, rootToken: string, options: { auditFile?: string } = {}): Promise<string> {
  const mounts = await ok(url, 'GET', 'sys/mounts', { token: rootToken });
  if (!(mounts.data as Record<string, unknown>)['secret/']) await ok(url, 'POST', 'sys/mounts/secret', { token: rootToken, body: { type: 'kv-v2' } });
  if (options.auditFile) {
    await ok(url, 'PUT', 'sys/audit/file', { token: rootToken, body: { type: 'file', options: { file_path: options.auditFile } } });
  }
  await ok(url, 'PUT', 'sys/policies/acl/bench-reader', { token: rootToken, body: { policy: 'path "secret/data/bench/*" { capabilities = ["read"] }' } });
  await ok(url, 'POST', BENCH_SECRET_PATH, { token: rootToken, body: { data: BENCH_SECRET } });
  const created = await ok(url, 'POST', 'auth/token/create', { token: rootToken, body: { policies: ['bench-reader'], ttl: '4h' } });
  const token = created.auth.client_token as string;
  // The token must be able to read, and nothing else: a 403 at full speed would look like a great result.
  const read = await call(url, 'GET', BENCH_SECRET_PATH, { token });
  if (read.status !== 200 || read.body?.data?.data?.password !== BENCH_SECRET.password) throw new Error(`the bench token cannot read ${BENCH_SECRET_PATH}: ${read.status}`);
  if ((await call(url, 'GET', 'sys/mounts', { token })).status !== 403) throw new Error('the bench token is not policy-restricted');
  return token;
}
