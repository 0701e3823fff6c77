// Signature and time checks of a JWT with jose: allowed algorithms only, key by `kid` from the configured keys,
// Vault's leeway rules for exp/nbf/iat measured against the injected clock. Errors never carry the token.
import { errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyResult } from 'jose';

/** A refusal of a token whose message is safe to return to the client. */
export class TokenRejectedError extends Error {
  constructor(
    message: string,
    /** True when the token names a key id none of the configured keys has (the caller may refetch once). */
    readonly unknownKeyId = false,
  ) {
    super(message);
    this.name = 'TokenRejectedError';
  }
}

/** Effective leeways in seconds (already resolved from the role: defaults applied, disabled ones are 0). */
export interface Leeways {
  clockSkewSeconds: number;
  expirationSeconds: number;
  notBeforeSeconds: number;
}

const EXPIRED = 'token is expired (exp)';
const NOT_YET_VALID = 'token not valid yet (nbf)';

/** Maps jose's errors to short, generic reasons. jose's own messages are safe too, but these are stable. */
function describeJoseError(error: unknown): TokenRejectedError {
  const code = (error as { code?: string } | undefined)?.code;
  switch (code) {
    case joseErrors.JOSEAlgNotAllowed.code:
      return new TokenRejectedError('signing algorithm not allowed');
    case joseErrors.JWKSNoMatchingKey.code:
      return new TokenRejectedError('no configured key matches the token', true);
    case joseErrors.JWSSignatureVerificationFailed.code:
      return new TokenRejectedError('signature verification failed');
    case joseErrors.JOSENotSupported.code:
      return new TokenRejectedError('unsupported signing algorithm or key');
    case joseErrors.JWTExpired.code:
      return new TokenRejectedError(EXPIRED);
    case joseErrors.JWTClaimValidationFailed.code:
      return new TokenRejectedError((error as { claim?: string }).claim === 'nbf' ? NOT_YET_VALID : 'invalid registered claim');
    case joseErrors.JWSInvalid.code:
    case joseErrors.JWTInvalid.code:
      return new TokenRejectedError('malformed token');
    default:
      // A key of the wrong type for the algorithm surfaces as a TypeError from jose.
      return new TokenRejectedError(error instanceof TypeError ? 'unsupported signing algorithm or key' : 'invalid token');
  }
}

/**
 * Verifies the signature with the keys `getKey` resolves. When several keys fit (no `kid`, or static PEM keys), each
 * is tried in turn, as Vault does.
 */
async function verifySignature(token: string, getKey: JWTVerifyGetKey, options: Parameters<typeof jwtVerify>[2]): Promise<JWTVerifyResult> {
  try {
    return await jwtVerify(token, getKey, options);
  } catch (error) {
    if ((error as { code?: string }).code !== joseErrors.JWKSMultipleMatchingKeys.code) throw error;
    const candidates = error as unknown as AsyncIterable<Parameters<typeof jwtVerify>[1]>;
    for await (const key of candidates) {
      try {
        return await jwtVerify(token, key, options);
      } catch (attempt) {
        if ((attempt as { code?: string }).code !== joseErrors.JWSSignatureVerificationFailed.code) throw attempt;
      }
    }
    throw new joseErrors.JWSSignatureVerificationFailed();
  }
}

/** Reads a NumericDate claim; undefined when absent. jose has already refused non-numeric values. */
function numericDate(payload: JWTPayload, claim: 'exp' | 'nbf' | 'iat'): number | undefined {
  const value = payload[claim];
  return typeof value === 'number' ? value : undefined;
}

/**
 * Vault's time rules for jwt roles: a token needs at least one of iat/nbf/exp; without exp it lives `expiration`
 * seconds from its latest start (iat or nbf); without nbf it starts at iat. Then exp, nbf and iat are checked
 * against now with the clock skew leeway.
 */
export function timeFailure(payload: JWTPayload, nowSeconds: number, leeways: Leeways): string | undefined {
  const iat = numericDate(payload, 'iat');
  let exp = numericDate(payload, 'exp');
  let nbf = numericDate(payload, 'nbf');
  // Absent means undefined: a claim of 0 (1970) is present, as go-jose's nil checks treat it.
  if (iat === undefined && exp === undefined && nbf === undefined) return 'no issue time, notbefore, or expiration time encoded in token';
  if (exp === undefined) exp = Math.max(iat ?? 0, nbf ?? 0) + leeways.expirationSeconds;
  if (nbf === undefined) nbf = iat ?? exp - leeways.notBeforeSeconds;
  const skew = leeways.clockSkewSeconds;
  // Same order as Vault (go-jose): nbf, exp, iat.
  if (nowSeconds + skew < nbf) return NOT_YET_VALID;
  if (nowSeconds - skew > exp) return EXPIRED;
  if (iat !== undefined && nowSeconds + skew < iat) return 'token issued in the future (iat)';
  return undefined;
}

/** Verifies `token` and returns its claims and header, or throws TokenRejectedError. */
export async function verifyJwt(
  token: string,
  getKey: JWTVerifyGetKey,
  input: { algorithms: string[]; nowMs: number; leeways: Leeways },
): Promise<{ payload: JWTPayload; kid?: string }> {
  const nowSeconds = Math.floor(input.nowMs / 1000);
  // jose checks the claims' types and, with this generous tolerance, never refuses a time the rules below accept;
  // the rules below (Vault's) decide.
  const tolerance = input.leeways.clockSkewSeconds + Math.max(input.leeways.expirationSeconds, input.leeways.notBeforeSeconds) + 1;
  let result: JWTVerifyResult;
  try {
    result = await verifySignature(token, getKey, { algorithms: input.algorithms, currentDate: new Date(input.nowMs), clockTolerance: tolerance });
  } catch (error) {
    throw describeJoseError(error);
  }
  const failure = timeFailure(result.payload, nowSeconds, input.leeways);
  if (failure) throw new TokenRejectedError(failure);
  return { payload: result.payload, kid: result.protectedHeader.kid };
}
