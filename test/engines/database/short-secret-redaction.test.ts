// A short database password is redacted wherever it stands as a token, without cutting its letters
// out of every other word of an error; a long one is redacted wherever it occurs.
import { redact, REDACTED, sanitiseError } from '../../../src/engines/database/plugins/sanitise';

describe('redaction of short secrets', () => {
  it('a one-character password leaves the words of an error intact', () => {
    const message = 'password authentication failed for user "vault"';
    expect(redact(message, ['a'])).toBe(message);
    expect(sanitiseError(new Error(message), ['e']).message).toBe(message);
  });

  it('a short password standing as a token is always redacted, quoted, bare or in a URL', () => {
    const R = REDACTED;
    for (const [message, secret, expected] of [
      [`syntax error at or near "x1"`, 'x1', `syntax error at or near "${R}"`],
      [`ALTER ROLE u WITH PASSWORD 'a'`, 'a', `ALTER ROLE u WITH PASSWORD '${R}'`],
      [`value a is wrong`, 'a', `value ${R} is wrong`],
      [`a`, 'a', R],
      [`postgres://u:p@w@host/db failed`, 'p@w', `postgres://u:${R}@host/db failed`],
      [`key=pw;other`, 'pw', `key=${R};other`],
      [`(pa.ss)`, 'pa.ss', `(${R})`],
      [`x@!y`, '@!', `x${R}y`],
    ] as const) {
      expect(redact(message, [secret])).toBe(expected);
    }
  });

  it('a long password is redacted even inside a word', () => {
    expect(redact('xx-correcthorse-yy', ['correcthorse'])).toBe(`xx-${REDACTED}-yy`);
  });
});
