// Generated database passwords: a CSPRNG over [A-Za-z0-9-] (no quotes, nothing a shell or SQL string
// would trip on), with at least one of each class, like Vault's default password policy.
import { randomInt } from 'node:crypto';

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
const DASH = '-';
const ALPHABET = LOWER + UPPER + DIGITS + DASH;

/** A fresh random password of `length` characters; every call draws new randomness (a failed one is never reused). */
export function generatePassword(length: number): string {
  if (!Number.isInteger(length) || length < 4 || length > 1024) throw new Error('password length out of range');
  for (;;) {
    let out = '';
    for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
    // Rejection sampling keeps the distribution uniform over passwords that satisfy every rule.
    if ([LOWER, UPPER, DIGITS, DASH].every((set) => [...out].some((c) => set.includes(c)))) return out;
  }
}
