// Review 2: JWT time rules treat a present claim of 0 as present (Vault/go-jose check for nil, not zero).
import { timeFailure } from '../../src/auth/jwt/jwt-verify';

const leeways = { clockSkewSeconds: 60, expirationSeconds: 150, notBeforeSeconds: 150 };

describe('jwt timeFailure with zero-valued claims', () => {
  it('a token with exp 0 is expired, not "without exp"', () => {
    const now = 1_800_000_000;
    expect(timeFailure({ exp: 0, iat: now }, now, leeways)).toBe('token is expired (exp)');
  });

  it('an absent exp still gets the expiration leeway from iat', () => {
    const now = 1_800_000_000;
    expect(timeFailure({ iat: now - 100 }, now, leeways)).toBeUndefined();
    expect(timeFailure({ iat: now - 1000 }, now, leeways)).toBe('token is expired (exp)');
  });
});
