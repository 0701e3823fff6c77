// The error-sanitising wrapper every plugin runs behind: no password or connection URL can leave a plugin
// inside an error (and so reach a log line, a lease's last_error or a response).
import { connectionUrlSecrets } from './connection-url';
import type { DatabasePlugin } from './types';

/** What replaces a secret value in an error message. */
export const REDACTED = '[redacted]';

const MAX_MESSAGE_CHARS = 1000;

/** A value plus the forms it may take inside a message: URL-encoded (both flavours) and, for URLs, their secret parts. */
export function secretForms(value: string): string[] {
  if (value === '') return [];
  const forms = new Set<string>([value, encodeURIComponent(value), encodeURI(value), value.replace(/'/g, "''"), value.replace(/"/g, '""')]);
  try {
    forms.add(decodeURIComponent(value));
  } catch {
    // Not URL-encoded: nothing more to add.
  }
  // A connection URL: also its password, wherever it sits (userinfo, even with an unencoded second `@`, or a
  // `?password=`-like query parameter), in all its forms (each part is shorter than the URL: this ends).
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    for (const secret of connectionUrlSecrets(value)) if (secret.length < value.length) for (const form of secretForms(secret)) forms.add(form);
  }
  return [...forms].filter((f) => f !== '');
}

/**
 * Below this length a secret is redacted only where it is not glued to letters or digits: a one-letter password
 * must not cut letters out of every word of an error, and a short string inside a longer word does not reveal it.
 */
export const MIN_SUBSTRING_SECRET_CHARS = 8;

const WORD_CHAR = /[\p{L}\p{N}_]/u;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Matches `form` where it is not glued to letters or digits at an edge that is itself a letter or digit. */
function standaloneMatcher(form: string): RegExp {
  const before = WORD_CHAR.test(form.charAt(0)) ? '(?<![\\p{L}\\p{N}_])' : '';
  const after = WORD_CHAR.test(form.charAt(form.length - 1)) ? '(?![\\p{L}\\p{N}_])' : '';
  return new RegExp(`${before}${escapeRegExp(form)}${after}`, 'gu');
}

/** Replaces every known secret value (longest first, so a URL goes before the password inside it). */
export function redact(message: string, secrets: readonly string[]): string {
  const forms = [...new Set(secrets.flatMap(secretForms))].sort((a, b) => b.length - a.length);
  let out = message;
  for (const form of forms) {
    if (form.length >= MIN_SUBSTRING_SECRET_CHARS) out = out.split(form).join(REDACTED);
    else out = out.replace(standaloneMatcher(form), REDACTED);
  }
  return out;
}

/** A sanitised copy of an error: only its message (and a SQLSTATE-like code) survive; no stack, cause or detail. */
export function sanitiseError(error: unknown, secrets: readonly string[]): Error {
  const raw = error instanceof Error ? error.message : typeof error === 'string' ? error : 'database plugin error';
  const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : '';
  const withCode = /^[0-9A-Z]{5}$/.test(code) ? `${raw} (SQLSTATE ${code})` : raw;
  const clean = redact(withCode.replace(/\s+/g, ' ').trim(), secrets).slice(0, MAX_MESSAGE_CHARS);
  return new Error(clean === '' ? 'database plugin error' : clean);
}

function requestSecrets(request: unknown): string[] {
  const r = request as { password?: unknown; config?: Record<string, unknown> } | undefined;
  const out: string[] = [];
  if (typeof r?.password === 'string') out.push(r.password);
  const nested = (r?.password as { newPassword?: unknown } | undefined)?.newPassword;
  if (typeof nested === 'string') out.push(nested);
  for (const key of ['password', 'connection_url']) {
    const v = r?.config?.[key];
    if (typeof v === 'string') out.push(v);
  }
  return out;
}

/**
 * Wraps a plugin so that every method's error is replaced by a new Error whose message has every secret
 * value redacted: the values `secrets()` returns (the stored password, the connection URL, ...) plus the
 * passwords and connection details carried by the request itself.
 */
export function sanitisedPlugin(plugin: DatabasePlugin, secrets: () => string[]): DatabasePlugin {
  const guard = async <Req, Res>(request: Req, call: (req: Req) => Promise<Res>): Promise<Res> => {
    try {
      return await call(request);
    } catch (error) {
      let known: string[] = [];
      try {
        known = secrets();
      } catch {
        // A failing secrets source must not leak the original error either.
      }
      throw sanitiseError(error, [...known, ...requestSecrets(request)]);
    }
  };
  const wrapped: DatabasePlugin = {
    initialize: (req) => guard(req, (r) => plugin.initialize(r)),
    newUser: (req) => guard(req, (r) => plugin.newUser(r)),
    updateUser: (req) => guard(req, (r) => plugin.updateUser(r)),
    deleteUser: (req) => guard(req, (r) => plugin.deleteUser(r)),
    type: () => plugin.type(),
    close: () => guard(undefined, () => plugin.close()),
  };
  const listManagedUsers = plugin.listManagedUsers?.bind(plugin);
  if (listManagedUsers) wrapped.listManagedUsers = () => guard(undefined, () => listManagedUsers());
  return wrapped;
}
