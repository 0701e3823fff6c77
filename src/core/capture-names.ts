// Named path captures that a backend turns into a stored name (mount paths, audit paths) must
// reach the ACL exactly as the backend will use them. Whitespace and invisible characters are
// refused outright rather than trimmed (String#trim also strips NBSP and U+FEFF, so a trimmed
// name could differ from the one the ACL checked), and leading slashes are folded before the ACL.
import { BadRequestError } from '../errors';

/**
 * Unicode White_Space (JS `\s`, which also covers U+FEFF), plus the zero-width, word-joiner,
 * soft-hyphen, Mongolian vowel separator and bidi control characters that render as nothing.
 */
const INVISIBLE = /[\s\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069]/u;

/** True if `value` contains whitespace or an invisible character anywhere. */
export function hasInvisibleCharacters(value: string): boolean {
  return INVISIBLE.test(value);
}

/** Canonicalises a mount-like `path` capture: refuses invisible characters, folds leading slashes. */
export function canonicalMountCapture(value: string): string {
  if (hasInvisibleCharacters(value)) throw new BadRequestError('path names may not contain whitespace or invisible characters');
  return value.replace(/^\/+/, '');
}
