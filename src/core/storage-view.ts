// The storage contract engines and auth methods see: a prefix-scoped, barrier-encrypted key/value view.
// Engines never see SQLite, other mounts' keys, or plaintext at rest.

/** A synchronous, encrypted key/value store scoped to one prefix. Keys use `/` as a separator. */
export interface StorageView {
  /** The decrypted value at `key`, or undefined. */
  get(key: string): Uint8Array | undefined;
  put(key: string, value: Uint8Array): void;
  delete(key: string): void;
  /** Immediate children of `prefix` (which ends in `/` or is empty): `name` for a leaf, `name/` for a folder. Sorted. */
  list(prefix: string): string[];
  /** Every key under `prefix`, recursively (for deletes of a whole tree). */
  listRecursive(prefix: string): string[];
  /** Runs `fn` atomically: all writes commit together or not at all. `fn` must be synchronous. */
  transaction<T>(fn: () => T): T;
  /** A view of a sub-prefix of this one. */
  sub(prefix: string): StorageView;
  getJSON<T>(key: string): T | undefined;
  putJSON(key: string, value: unknown): void;
}
