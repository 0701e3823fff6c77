// Bounded zod field builders specific to the KV engine (secret data, version lists, signed durations, custom metadata).
import { z } from 'zod';
import { int, signedDurationSeconds as signedDuration } from '../../core/fields';


/** Longest secret path (relative to data/, metadata/, ...) we accept; Vault has no limit, storage keys need one. */
export const MAX_SECRET_PATH_CHARS = 1024;

/** Largest serialized secret we store: Vault's integrated storage refuses entries over 1 MiB (raft max_entry_size). */
export const MAX_SECRET_BYTES = 1024 * 1024;

/** Most top-level keys in one secret's data. */
export const MAX_SECRET_KEYS = 1024;

const MAX_SECRET_KEY_CHARS = 512;
const MAX_VERSIONS_PER_CALL = 1000;
const MAX_DURATION_SECONDS = 100 * 365 * 86400;

/** A secret path captured from the URL: bounded, so it can become a storage key. */
export const secretPath = () => z.string().max(MAX_SECRET_PATH_CHARS).describe('Location of the secret.');

/** A secret's data: any JSON object, bounded in key count; the serialized size is checked by `encodeSecretData`. */
export const secretData = () =>
  z
    .record(z.string().max(MAX_SECRET_KEY_CHARS), z.unknown())
    .refine((m) => Object.keys(m).length <= MAX_SECRET_KEYS, `at most ${MAX_SECRET_KEYS} keys`);

/** Version numbers as Vault's TypeCommaIntSlice: a JSON array of ints (or numeric strings), a single int, or "1,2,3". */
export const versionList = () =>
  z.preprocess(
    (v) => {
      if (typeof v === 'string')
        return v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
      if (typeof v === 'number') return [v];
      return v;
    },
    z.array(int(0, Number.MAX_SAFE_INTEGER)).max(MAX_VERSIONS_PER_CALL),
  );

/**
 * A duration in seconds that may be negative ("-1s", -1), as Vault's TypeSignedDurationSecond: the mount config uses a
 * negative delete_version_after to switch the feature off on every key.
 */
export const signedDurationSeconds = () => signedDuration(MAX_DURATION_SECONDS, 'must be a duration such as 30s, 1h, 3600 or -1s');

/**
 * custom_metadata as sent: an object of strings (numbers and booleans are weakly converted like Vault's mapstructure).
 * A null value is kept: it removes the key in a patch and is refused in a write. Vault's exact limits (64 keys, key
 * 128 and value 512 characters, printable) are checked by `validateCustomMetadata` so the error text matches Vault's.
 */
export const customMetadataInput = () =>
  z.record(
    z.string().max(1024),
    z.preprocess(
      (v) => {
        if (typeof v === 'number' && Number.isFinite(v)) return String(v);
        if (typeof v === 'boolean') return v ? '1' : '0';
        return v;
      },
      z.union([z.string().max(4096), z.null()]),
    ),
  ).refine((m) => Object.keys(m).length <= 1024, 'too many keys');
