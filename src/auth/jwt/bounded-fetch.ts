// Fetches a small JSON document (a JWKS or an OIDC discovery document) with a timeout, a size cap and http(s) only.

/** How long one fetch may take, headers and body together. */
export const FETCH_TIMEOUT_MS = 5000;

/** The largest document we read; a key set or discovery document is a few KiB, so 1 MiB is generous. */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;

/**
 * A failure to obtain a key document. Its message is safe to show: it never carries the document, a key or the
 * response body, only what went wrong (status code, timeout, size, parse).
 */
export class DocumentFetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DocumentFetchError';
  }
}

/**
 * Checks that `raw` is an absolute http(s) URL without credentials. Returns the normalized URL text or a reason.
 * Other schemes (file:, data:, ...) would let a config writer read local files through the vault.
 */
export function checkFetchableUrl(raw: string): { url: string } | { reason: string } {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    return { reason: 'is not a valid URL' };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { reason: 'must use http or https' };
  if (parsed.username !== '' || parsed.password !== '') return { reason: 'must not contain credentials' };
  return { url: parsed.toString() };
}

/** Reads a response body chunk by chunk and stops as soon as it exceeds `maxBytes`. */
async function readBounded(response: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? '');
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new DocumentFetchError(`response is larger than ${maxBytes} bytes`);
  }
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new DocumentFetchError(`response is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** GETs `url` and parses the body as JSON, within the time and size limits. Throws DocumentFetchError. */
export async function fetchJsonDocument(url: string, limits: { timeoutMs?: number; maxBytes?: number } = {}): Promise<unknown> {
  const checked = checkFetchableUrl(url);
  if ('reason' in checked) throw new DocumentFetchError(`URL ${checked.reason}`);
  const timeoutMs = limits.timeoutMs ?? FETCH_TIMEOUT_MS;
  const maxBytes = limits.maxBytes ?? MAX_DOCUMENT_BYTES;
  let body: Uint8Array;
  try {
    const response = await fetch(checked.url, {
      method: 'GET',
      headers: { accept: 'application/json' },
      // Follows redirects (fetch only follows http/https ones), as Vault's Go client does.
      redirect: 'follow',
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new DocumentFetchError(`unexpected HTTP status ${response.status}`);
    }
    body = await readBounded(response, maxBytes);
  } catch (error) {
    if (error instanceof DocumentFetchError) throw error;
    const name = (error as { name?: string } | undefined)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') throw new DocumentFetchError(`no answer within ${timeoutMs} ms`);
    throw new DocumentFetchError('request failed');
  }
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)) as unknown;
  } catch {
    throw new DocumentFetchError('response is not valid JSON');
  }
}
