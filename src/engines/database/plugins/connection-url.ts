// connection_url secrets, shared by reads (masking) and the error sanitiser. A URL is parsed as `pg` parses it:
// WHATWG URL (postgres:// and postgresql:// are non-special schemes: the LAST `@` of the authority ends the
// userinfo), query parameters by URLSearchParams (`?password=` is a password to pg, and wins over the userinfo).
// Vault's {{username}}/{{password}} templates are not secrets; anything else in a password position is.
import { randomBytes } from 'node:crypto';

/** What replaces a secret part of a connection URL in a read. */
export const URL_SECRET_MASK = '*****';

/** What a read shows instead of a connection URL that does not parse: nothing of it (it may hold a password). */
export const UNPARSEABLE_URL_MASK = '*****';

/**
 * Query parameters whose value is a secret or names one: pg's `password`, libpq's `sslpassword`, `sslkey`
 * (a key file), and anything else that looks like a credential (`pwd`, `secret`, `token`, `apikey`, ...).
 */
export function isSecretQueryParam(name: string): boolean {
  return /pass|pwd|secret|token|key|cred/i.test(name);
}

interface QueryPair {
  /** The pair as written (still percent-encoded). */
  raw: string;
  /** Its name and value decoded as URLSearchParams (and so pg) decodes them. */
  name: string;
  value: string;
  /** The value as written. */
  rawValue: string;
}

function queryPairs(search: string): QueryPair[] {
  const query = search.startsWith('?') ? search.slice(1) : search;
  if (query === '') return [];
  return query
    .split('&')
    .filter((raw) => raw !== '')
    .map((raw) => {
      const eq = raw.indexOf('=');
      const rawValue = eq < 0 ? '' : raw.slice(eq + 1);
      const [entry] = [...new URLSearchParams(raw)];
      return { raw, name: entry?.[0] ?? '', value: entry?.[1] ?? '', rawValue };
    });
}

/** A connection URL parsed with its templates swapped for tokens that survive URL parsing unchanged. */
interface ParsedUrl {
  url: URL;
  /** Whether a (raw) component is exactly the {{password}} template. */
  isPasswordTemplate(component: string): boolean;
  /** Puts the templates back into a serialised URL. */
  restore(serialised: string): string;
}

function parseTemplated(raw: string): ParsedUrl | undefined {
  const nonce = `lhtpl${randomBytes(8).toString('hex')}`;
  const userToken = `${nonce}u`;
  const passwordToken = `${nonce}p`;
  const substituted = raw.split('{{username}}').join(userToken).split('{{password}}').join(passwordToken);
  let url: URL;
  try {
    url = new URL(substituted);
  } catch {
    return undefined;
  }
  return {
    url,
    isPasswordTemplate: (component) => component === passwordToken,
    restore: (serialised) => serialised.split(userToken).join('{{username}}').split(passwordToken).join('{{password}}'),
  };
}

/**
 * A connection URL for a read: the userinfo password and every secret query parameter replaced by
 * `*****` (templates kept), and `secret` telling whether anything literal was found. A URL that does
 * not parse is replaced as a whole, since where its password is cannot be known.
 */
export function maskConnectionUrl(raw: string): { masked: string; secret: boolean } {
  const parsed = parseTemplated(raw);
  if (!parsed) return { masked: UNPARSEABLE_URL_MASK, secret: true };
  const { url } = parsed;
  const userinfoSecret = url.password !== '' && !parsed.isPasswordTemplate(url.password);
  const pairs = queryPairs(url.search);
  const secretPair = (p: QueryPair) => isSecretQueryParam(p.name) && p.value !== '' && !parsed.isPasswordTemplate(p.rawValue);
  const querySecret = pairs.some(secretPair);
  if (!userinfoSecret && !querySecret) return { masked: raw, secret: false };
  if (userinfoSecret) url.password = URL_SECRET_MASK;
  if (querySecret) {
    // A secret pair always has an `=` (its value is not empty): keep the name as written, mask the value.
    url.search = pairs.map((p) => (secretPair(p) ? `${p.raw.slice(0, p.raw.indexOf('='))}=${URL_SECRET_MASK}` : p.raw)).join('&');
  }
  const masked = parsed.restore(url.href);
  // Belt and braces: a serialisation that still shows a secret value somewhere (say, the password repeated
  // in a fragment) is not shown at all.
  if (connectionUrlSecrets(raw).some((v) => v.length >= 3 && masked.includes(v))) return { masked: UNPARSEABLE_URL_MASK, secret: true };
  return { masked, secret: true };
}

function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/**
 * The literal secret values inside a connection URL, in the forms a message may carry them (as written,
 * percent-decoded, form-decoded): the userinfo password and secret query parameters. For a URL that does
 * not parse, a lenient guess at the same parts (the text between the first `:` of the userinfo and the
 * last `@` of the authority, and `password=`-like query values).
 */
export function connectionUrlSecrets(raw: string): string[] {
  const out = new Set<string>();
  const add = (value: string | undefined) => {
    if (value === undefined || value === '') return;
    out.add(value);
    const decoded = safeDecode(value);
    if (decoded) out.add(decoded);
    const formDecoded = safeDecode(value.replace(/\+/g, ' '));
    if (formDecoded) out.add(formDecoded);
  };
  const parsed = parseTemplated(raw);
  if (parsed) {
    if (!parsed.isPasswordTemplate(parsed.url.password)) add(parsed.restore(parsed.url.password));
    for (const p of queryPairs(parsed.url.search)) {
      if (!isSecretQueryParam(p.name) || parsed.isPasswordTemplate(p.rawValue)) continue;
      add(parsed.restore(p.rawValue));
      if (p.value !== '') out.add(parsed.restore(p.value));
    }
  } else {
    const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i.exec(raw)?.[1];
    const colon = authority?.indexOf(':') ?? -1;
    if (authority !== undefined && colon >= 0) add(authority.slice(colon + 1));
    const query = raw.indexOf('?') >= 0 ? raw.slice(raw.indexOf('?') + 1).split('#')[0] ?? '' : '';
    for (const pair of query.split('&')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = safeDecode(pair.slice(0, eq).replace(/\+/g, ' ')) ?? pair.slice(0, eq);
      if (isSecretQueryParam(name)) add(pair.slice(eq + 1));
    }
  }
  for (const template of ['{{password}}', '{{username}}']) out.delete(template);
  return [...out];
}
