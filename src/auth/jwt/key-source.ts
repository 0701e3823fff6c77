// Verification keys for JWT login: static PEM keys, a fetched JWKS, or a JWKS found through OIDC discovery, held in a
// small in-memory cache (refreshed every few minutes, and once early when a token names an unknown key id).
import { createLocalJWKSet, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '../../util/clock';
import { checkFetchableUrl, DocumentFetchError, fetchJsonDocument } from './bounded-fetch';
import { type JwtConfig, parsePublicKeyPem } from './jwt-config';

/** How long a fetched key set is used before it is fetched again. */
export const KEY_SET_TTL_MS = 5 * 60 * 1000;

/** A token with an unknown `kid` triggers a refetch only if the cached set is at least this old (no fetch storms). */
export const UNKNOWN_KID_REFETCH_COOLDOWN_MS = 10 * 1000;

/** Most keys we accept in one key set. */
const MAX_KEYS = 100;

/** Keys ready for jose, plus what the source says about the issuer. */
export interface LoadedKeys {
  /** Resolves the verification key for a token's protected header. */
  getKey: JWTVerifyGetKey;
  /** With OIDC discovery: the issuer the document declares, which a token's `iss` must equal. */
  discoveredIssuer?: string;
  /** True for a URL source, where an unknown `kid` may mean the issuer rotated its keys. */
  refreshable: boolean;
}

interface CacheEntry {
  fingerprint: string;
  fetchedAtMs: number;
  keys: LoadedKeys;
}

/** Which settings decide the keys: a change to any of them invalidates the cache. */
function fingerprint(config: JwtConfig): string {
  return JSON.stringify([config.oidcDiscoveryUrl, config.jwksUrl, config.jwtValidationPubkeys]);
}

function stripTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Validates a fetched document's shape as a JWKS and builds a local key set from it. */
function keySetFromDocument(document: unknown): JWTVerifyGetKey {
  if (document === null || typeof document !== 'object' || !Array.isArray((document as { keys?: unknown }).keys)) {
    throw new DocumentFetchError('the document is not a JSON Web Key Set');
  }
  const keys = (document as { keys: unknown[] }).keys;
  if (keys.length > MAX_KEYS) throw new DocumentFetchError(`the key set has more than ${MAX_KEYS} keys`);
  try {
    return createLocalJWKSet(document as JSONWebKeySet);
  } catch {
    throw new DocumentFetchError('the JSON Web Key Set is malformed');
  }
}

/**
 * Static PEM keys as a key set. A token's `kid` is ignored (Vault tries every configured key), so the resolver asks
 * the set only by algorithm; several keys of one type are then tried in turn by the verifier.
 */
function keySetFromPems(pems: string[]): JWTVerifyGetKey {
  const keys = pems.map((pem) => {
    const jwk = parsePublicKeyPem(pem).export({ format: 'jwk' }) as JWK;
    return { ...jwk, use: 'sig' };
  });
  const local = createLocalJWKSet({ keys });
  return (header) => local({ alg: header.alg });
}

/** Fetches an OIDC discovery document and checks it names the configured issuer and an http(s) jwks_uri. */
async function discover(discoveryUrl: string): Promise<{ issuer: string; jwksUri: string }> {
  const base = stripTrailingSlash(discoveryUrl);
  const document = await fetchJsonDocument(`${base}/.well-known/openid-configuration`);
  if (document === null || typeof document !== 'object') throw new DocumentFetchError('the discovery document is not a JSON object');
  const { issuer, jwks_uri: jwksUri } = document as { issuer?: unknown; jwks_uri?: unknown };
  if (typeof issuer !== 'string' || typeof jwksUri !== 'string') throw new DocumentFetchError('the discovery document lacks issuer or jwks_uri');
  if (stripTrailingSlash(issuer) !== base) throw new DocumentFetchError('the issuer in the discovery document does not match oidc_discovery_url');
  if ('reason' in checkFetchableUrl(jwksUri)) throw new DocumentFetchError('the discovery document names a jwks_uri that is not an http(s) URL');
  return { issuer, jwksUri };
}

/** Loads the keys a configuration names, fetching URL sources now. */
async function loadKeys(config: JwtConfig): Promise<LoadedKeys> {
  if (config.jwtValidationPubkeys.length > 0) return { getKey: keySetFromPems(config.jwtValidationPubkeys), refreshable: false };
  if (config.jwksUrl !== '') return { getKey: keySetFromDocument(await fetchJsonDocument(config.jwksUrl)), refreshable: true };
  const { issuer, jwksUri } = await discover(config.oidcDiscoveryUrl);
  return { getKey: keySetFromDocument(await fetchJsonDocument(jwksUri)), discoveredIssuer: issuer, refreshable: true };
}

/**
 * One mount's key cache. Exists so that logins do not fetch the issuer's keys every time, yet a rotated key is picked
 * up within minutes (or at once, when a token names a key id we have not seen). Concurrent loads share one fetch.
 */
export class KeySourceCache {
  private entry: CacheEntry | undefined;
  private inflight: { fingerprint: string; promise: Promise<CacheEntry> } | undefined;

  constructor(private readonly clock: Clock) {}

  /** Fetches and checks a configuration's key source now (config write); the result replaces the cache. */
  async validate(config: JwtConfig): Promise<void> {
    this.entry = undefined;
    await this.load(config);
  }

  /** The keys for `config`, from the cache while fresh. */
  async get(config: JwtConfig): Promise<LoadedKeys> {
    const entry = this.entry;
    if (entry && entry.fingerprint === fingerprint(config) && (!entry.keys.refreshable || this.clock.nowMs() - entry.fetchedAtMs < KEY_SET_TTL_MS)) {
      return entry.keys;
    }
    return (await this.load(config)).keys;
  }

  /** Refetches after an unknown `kid` if the cached set is old enough; returns the new keys, or undefined if not refetched. */
  async refreshForUnknownKid(config: JwtConfig): Promise<LoadedKeys | undefined> {
    const entry = this.entry;
    if (entry && entry.fingerprint === fingerprint(config) && (!entry.keys.refreshable || this.clock.nowMs() - entry.fetchedAtMs < UNKNOWN_KID_REFETCH_COOLDOWN_MS)) {
      return undefined;
    }
    return (await this.load(config)).keys;
  }

  private load(config: JwtConfig): Promise<CacheEntry> {
    const print = fingerprint(config);
    if (this.inflight && this.inflight.fingerprint === print) return this.inflight.promise;
    const promise = (async () => {
      const keys = await loadKeys(config);
      const entry = { fingerprint: print, fetchedAtMs: this.clock.nowMs(), keys };
      this.entry = entry;
      return entry;
    })().finally(() => {
      if (this.inflight?.promise === promise) this.inflight = undefined;
    });
    this.inflight = { fingerprint: print, promise };
    return promise;
  }
}
