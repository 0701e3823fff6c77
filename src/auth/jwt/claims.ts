// Claim lookup and matching for JWT login: JSON-pointer claim paths, bound claims (exact or glob), audiences and
// the token metadata taken from claims. Error messages name claims, never their values.

/** A JSON object as parsed from a JWT payload. */
export type Claims = Record<string, unknown>;

/** The claim value at `claim`: a top-level key, or a JSON pointer (RFC 6901) when it starts with `/`, as Vault does. */
export function getClaim(claims: Claims, claim: string): unknown {
  if (!claim.startsWith('/')) return Object.hasOwn(claims, claim) ? claims[claim] : undefined;
  let current: unknown = claims;
  for (const rawToken of claim.slice(1).split('/')) {
    const token = rawToken.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) {
      if (!/^(0|[1-9]\d*)$/.test(token)) return undefined;
      current = current[Number(token)];
    } else if (current !== null && typeof current === 'object') {
      if (!Object.hasOwn(current, token)) return undefined;
      current = (current as Record<string, unknown>)[token];
    } else {
      return undefined;
    }
  }
  return current;
}

/** A scalar claim as text: strings as-is, integers and booleans in their JSON form; anything else is not comparable. */
export function scalarClaimText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

/** A claim as a list of scalars (as Vault's normalizeList: strings, booleans, numbers), or undefined if it is neither. */
function boundClaimValues(value: unknown): Array<string | number | boolean> | undefined {
  const items = Array.isArray(value) ? value : [value];
  for (const item of items) if (typeof item !== 'string' && typeof item !== 'boolean' && typeof item !== 'number') return undefined;
  return items as Array<string | number | boolean>;
}

/**
 * Glob matching as Vault's bound_claims_type "glob" (ryanuber/go-glob): `*` matches any run of characters, every
 * other character is literal, and the pattern is anchored at both ends. Implemented without regular expressions,
 * so no character in a binding can act as a regex metacharacter and matching stays linear-ish (no backtracking).
 */
export function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  const parts = pattern.split('*');
  const first = parts[0] as string;
  const last = parts[parts.length - 1] as string;
  if (value.length < first.length + last.length) return false;
  if (!value.startsWith(first) || !value.endsWith(last)) return false;
  let cursor = first.length;
  const end = value.length - last.length;
  for (const middle of parts.slice(1, -1)) {
    if (middle === '') continue;
    const at = value.indexOf(middle, cursor);
    if (at < 0 || at + middle.length > end) return false;
    cursor = at + middle.length;
  }
  return true;
}

/** The reason a set of bound claims refuses a token, or undefined if every binding is satisfied. */
export function boundClaimsFailure(boundClaims: Record<string, string | string[]>, type: 'string' | 'glob', claims: Claims): string | undefined {
  for (const [claim, expected] of Object.entries(boundClaims)) {
    const actual = getClaim(claims, claim);
    if (actual === undefined || actual === null) return `claim "${claim}" is missing`;
    const actualValues = boundClaimValues(actual);
    if (!actualValues) return `claim "${claim}" is not a string or a list of strings`;
    const expectedValues = Array.isArray(expected) ? expected : [expected];
    // Typed, as Vault's matchFound: a bound value is a string, so only a string claim can equal or glob-match it;
    // `true` never satisfies "true" and `12` never satisfies "12".
    const found = expectedValues.some((want) => actualValues.some((have) => typeof have === 'string' && (type === 'glob' ? globMatch(want, have) : want === have)));
    if (!found) return `claim "${claim}" does not match any associated bound claim values`;
  }
  return undefined;
}

/**
 * Vault's strict audience rule for jwt roles: with bound audiences, one of them must be in `aud`; without any, the
 * token must carry no `aud` at all (a token minted for another service must not be accepted by a role that forgot
 * to say which audience it expects).
 */
export function audienceFailure(boundAudiences: string[], aud: unknown): string | undefined {
  let audiences: string[];
  if (aud === undefined) audiences = [];
  else if (typeof aud === 'string') audiences = [aud];
  else if (Array.isArray(aud) && aud.every((a) => typeof a === 'string')) audiences = aud as string[];
  else return 'aud claim is not a string or a list of strings';
  if (boundAudiences.length === 0) return audiences.length > 0 ? 'audience claim found in JWT but no audiences bound to the role' : undefined;
  if (audiences.length === 0) return 'aud claim is missing but the role binds audiences';
  return boundAudiences.some((b) => audiences.includes(b)) ? undefined : 'aud claim does not match any bound audience';
}

/**
 * Claims recorded as token metadata whenever the token carries them, even without claim_mappings: the identity of a
 * CI run (GitHub Actions' names), so that later features can bind credentials to one run and the ledger can say who
 * asked. A claim_mapping may not write to these keys from another claim (it could forge a run's identity).
 */
export const CI_METADATA_CLAIMS: readonly string[] = ['iss', 'sub', 'repository', 'ref', 'sha', 'workflow', 'run_id', 'run_attempt', 'actor'];

/** Longest claim value copied into token metadata; a longer one refuses the login rather than being truncated. */
export const MAX_METADATA_VALUE_CHARS = 1024;

/** Token metadata from claims: the CI identity claims present, then the role's claim_mappings. Throws a safe reason. */
export function metadataFromClaims(claims: Claims, claimMappings: Record<string, string>): Record<string, string> {
  const metadata: Record<string, string> = {};
  const record = (key: string, source: string, value: unknown, required: boolean) => {
    if (value === undefined || value === null) return;
    const text = scalarClaimText(value);
    if (text === undefined) {
      if (required) throw new ClaimError(`error converting claim "${source}" to string`);
      return;
    }
    if (text.length > MAX_METADATA_VALUE_CHARS) throw new ClaimError(`claim "${source}" is longer than ${MAX_METADATA_VALUE_CHARS} characters`);
    metadata[key] = text;
  };
  for (const claim of CI_METADATA_CLAIMS) record(claim, claim, getClaim(claims, claim), false);
  for (const [source, target] of Object.entries(claimMappings)) record(target, source, getClaim(claims, source), true);
  return metadata;
}

/** A claim-level refusal whose message is safe to return (names the claim, not its value). */
export class ClaimError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClaimError';
  }
}

/**
 * The values of a role's run_claims: each must be present and a scalar (string, integer, boolean),
 * at most MAX_METADATA_VALUE_CHARS long. A login missing one is refused rather than bound to no run.
 */
export function runClaimValues(claims: Claims, runClaims: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const claim of runClaims) {
    const raw = getClaim(claims, claim);
    if (raw === undefined || raw === null) throw new ClaimError(`claim "${claim}" named in run_claims is missing`);
    const text = scalarClaimText(raw);
    if (text === undefined) throw new ClaimError(`claim "${claim}" named in run_claims is not a string, integer or boolean`);
    if (text.length > MAX_METADATA_VALUE_CHARS) throw new ClaimError(`claim "${claim}" is longer than ${MAX_METADATA_VALUE_CHARS} characters`);
    out[claim] = text;
  }
  return out;
}
