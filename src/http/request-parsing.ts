// Turns raw HTTP into a logical request safely: canonical paths only, bounded JSON bodies,
// no prototype keys. Everything here runs before routing and before the access check.
import type { IncomingMessage } from 'node:http';
import { BadRequestError, PayloadTooLargeError } from '../errors';

/** Limits on request bodies. Vault's own default maximum request size is 32 MiB. */
export interface BodyLimits {
  maxBytes: number;
  maxDepth: number;
  maxKeys: number;
}

export const DEFAULT_BODY_LIMITS: BodyLimits = { maxBytes: 32 * 1024 * 1024, maxDepth: 64, maxKeys: 100_000 };

// Only `__proto__` can change an object's prototype (through Object.assign or a setter); it is refused outright.
const FORBIDDEN_KEYS = new Set(['__proto__']);

/**
 * Returns the canonical logical path for a raw request target under `/v1/`, or throws 400.
 * Refuses encoded slashes and backslashes, `//`, `.`/`..` segments (raw or encoded) and control
 * characters, so the path the ACL checks is the path the backend serves.
 */
export function canonicalPath(rawTarget: string): string {
  const q = rawTarget.indexOf('?');
  const rawPath = q < 0 ? rawTarget : rawTarget.slice(0, q);
  if (!rawPath.startsWith('/v1/')) throw new BadRequestError('invalid path: requests must be under /v1/');
  const rest = rawPath.slice('/v1/'.length);
  if (/%2f|%5c|%00/i.test(rest) || rest.includes('\\')) throw new BadRequestError('invalid path: encoded separators are not allowed');
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    throw new BadRequestError('invalid path: malformed percent-encoding');
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(decoded)) throw new BadRequestError('invalid path: control characters are not allowed');
  if (decoded.includes('//') || decoded.startsWith('/')) throw new BadRequestError('invalid path: empty path segments are not allowed');
  const segments = decoded.split('/');
  if (segments.some((s) => s === '.' || s === '..')) throw new BadRequestError('invalid path: dot segments are not allowed');
  if (decoded.length > 2048) throw new BadRequestError('invalid path: too long');
  return decoded;
}

/** Reads the whole body up to `maxBytes`; 413 beyond it (without buffering the excess). */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw new PayloadTooLargeError();
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) throw new PayloadTooLargeError();
    chunks.push(chunk);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

/** Maximum nesting depth of a JSON text, found by a scan that respects strings (before parsing). */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      depth++;
      if (depth > max) max = depth;
    } else if (c === 125 || c === 93) depth--;
  }
  return max;
}

/** Counts keys and refuses prototype-polluting ones, iteratively (no recursion on hostile input). */
function checkKeys(value: unknown, limits: BodyLimits): void {
  let keys = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (current === null || typeof current !== 'object') continue;
    if (Array.isArray(current)) {
      for (const item of current) stack.push(item);
      continue;
    }
    for (const key of Object.keys(current)) {
      if (FORBIDDEN_KEYS.has(key)) throw new BadRequestError(`invalid key "${key}" in request body`);
      if (++keys > limits.maxKeys) throw new BadRequestError(`request body has more than ${limits.maxKeys} keys`);
      stack.push((current as Record<string, unknown>)[key]);
    }
  }
}

/** Parses a JSON object body within limits; an empty body is `{}`. */
export function parseJsonBody(raw: Buffer, limits: BodyLimits): Record<string, unknown> {
  if (raw.length === 0) return {};
  const text = raw.toString('utf8');
  if (text.trim() === '') return {};
  if (jsonDepth(text) > limits.maxDepth) throw new BadRequestError(`request body is nested deeper than ${limits.maxDepth} levels`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BadRequestError('failed to parse JSON input: malformed JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BadRequestError('failed to parse JSON input: the body must be a JSON object');
  checkKeys(parsed, limits);
  return parsed as Record<string, unknown>;
}

/** Query parameters as request data (GET, LIST and DELETE carry their fields there). */
export function queryData(rawTarget: string): Record<string, unknown> {
  const q = rawTarget.indexOf('?');
  if (q < 0) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(rawTarget.slice(q + 1))) {
    if (FORBIDDEN_KEYS.has(k)) throw new BadRequestError(`invalid query parameter "${k}"`);
    out[k] = v;
  }
  return out;
}
