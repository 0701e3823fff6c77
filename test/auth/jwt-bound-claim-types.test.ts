// Bound claims compare typed values, as Vault's jwt plugin (matchFound): a bound value is a string,
// so a boolean or numeric claim never satisfies it, and globs apply to string claims only.
import { boundClaimsFailure } from '../../src/auth/jwt/claims';

describe('bound claims are typed', () => {
  it.each([
    ['true', true],
    ['false', false],
    ['12', 12],
    ['1', [1]],
    ['main', ['x', 12, true]],
  ])('"%s" is not satisfied by %j', (want, have) => {
    expect(boundClaimsFailure({ c: want }, 'string', { c: have })).toBeDefined();
    expect(boundClaimsFailure({ c: want }, 'glob', { c: have })).toBeDefined();
  });

  it('globs never match a non-string claim, even "*"', () => {
    expect(boundClaimsFailure({ c: '*' }, 'glob', { c: 12 })).toBeDefined();
    expect(boundClaimsFailure({ c: 'tr*' }, 'glob', { c: true })).toBeDefined();
    expect(boundClaimsFailure({ c: '*' }, 'glob', { c: 'anything' })).toBeUndefined();
  });

  it('string claims still match, alone or in a list with other types', () => {
    expect(boundClaimsFailure({ c: 'true' }, 'string', { c: 'true' })).toBeUndefined();
    expect(boundClaimsFailure({ c: ['12'] }, 'string', { c: [12, '12'] })).toBeUndefined();
    expect(boundClaimsFailure({ c: 'ma*' }, 'glob', { c: [true, 'main'] })).toBeUndefined();
    expect(boundClaimsFailure({ c: 'x' }, 'string', { c: { nested: 'x' } })).toBeDefined();
  });
});
