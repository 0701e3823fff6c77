// The barrier: authenticated encryption of every stored secret under a keyring of terms.
// A record is `version ‖ term ‖ nonce ‖ ciphertext+tag`; its additional data binds it to its
// location, version and term, so a record copied to another row fails to decrypt.
import { hchacha, xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { endianness } from 'node:os';
import { BarrierIntegrityError, SealedError } from '../errors';

/** Record format version. Bumped only if the layout changes. */
const RECORD_VERSION = 1;
const HEADER_BYTES = 1 + 4;
const NONCE_BYTES = 24;
const KEY_BYTES = 32;
const TAG_BYTES = 16;
const encoder = new TextEncoder();

/** One data key of the keyring. */
export interface KeyTerm {
  term: number;
  key: Uint8Array;
  installedAtMs: number;
}

/** The decrypted keyring: data keys by term, plus a seed for purpose-bound sub-keys. */
export interface Keyring {
  activeTerm: number;
  terms: KeyTerm[];
  /** Seed for HKDF sub-keys (token hashing, audit HMAC): stable across `sys/rotate`. */
  derivationSeed: Uint8Array;
}

/** The UTF-8 text of `bytes`, read in place (no second copy of a plaintext just to decode it). */
export function utf8Text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** Fills `bytes` with zeros; used on seal for every key we hold. */
export function zeroize(bytes: Uint8Array | undefined): void {
  bytes?.fill(0);
}

/**
 * XChaCha20-Poly1305, the cipher of every record. @noble/ciphers derives the XChaCha subkey
 * (HChaCha20); the ChaCha20-Poly1305 AEAD itself then runs in Node's OpenSSL, which is about twice
 * as fast as pure JavaScript on the hot path. The output is byte-for-byte noble's
 * `xchacha20poly1305` (a test checks both directions); big-endian hosts simply use noble throughout.
 */
const NATIVE_AEAD = endianness() === 'LE';
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);

// Scratch space for the subkey derivation, allocated once: every use is synchronous and zeroes the
// key material before returning, so nothing outlives the call (Node's cipher copies key and IV in).
const KEY_WORDS = new Uint32Array(8);
const NONCE_WORDS = new Uint32Array(4);
const SUBKEY_WORDS = new Uint32Array(8);
const KEY_WORD_BYTES = new Uint8Array(KEY_WORDS.buffer);
const NONCE_WORD_BYTES = new Uint8Array(NONCE_WORDS.buffer);
const SUBKEY = Buffer.from(SUBKEY_WORDS.buffer);
const IV = Buffer.alloc(12);

/** Runs `use` with the XChaCha subkey (HChaCha20 of key and the nonce's first 16 bytes) and the ChaCha IV, then zeroes them. */
function withSubkey<T>(key: Uint8Array, nonce: Uint8Array, use: (subkey: Buffer, iv: Buffer) => T): T {
  KEY_WORD_BYTES.set(key);
  NONCE_WORD_BYTES.set(nonce.subarray(0, 16));
  hchacha(SIGMA, KEY_WORDS, NONCE_WORDS, SUBKEY_WORDS);
  KEY_WORDS.fill(0);
  IV.set(nonce.subarray(16, 24), 4);
  try {
    return use(SUBKEY, IV);
  } finally {
    SUBKEY_WORDS.fill(0);
  }
}

/** XChaCha20-Poly1305 encryption: ciphertext ‖ 16-byte tag. */
export function xchachaEncrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  if (!NATIVE_AEAD) return xchacha20poly1305(key, nonce, aad).encrypt(plaintext);
  return withSubkey(key, nonce, (subkey, iv) => {
    const cipher = createCipheriv('chacha20-poly1305', subkey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad, { plaintextLength: plaintext.length });
    const ciphertext = cipher.update(plaintext);
    cipher.final();
    return Buffer.concat([ciphertext, cipher.getAuthTag()]);
  });
}

/** XChaCha20-Poly1305 decryption; throws if the tag does not authenticate. */
export function xchachaDecrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
  if (!NATIVE_AEAD) return xchacha20poly1305(key, nonce, aad).decrypt(sealed);
  if (sealed.length < TAG_BYTES) throw new Error('ciphertext too short');
  return withSubkey(key, nonce, (subkey, iv) => {
    const decipher = createDecipheriv('chacha20-poly1305', subkey, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad, { plaintextLength: sealed.length - TAG_BYTES });
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const plaintext = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
    // final() checks the tag (and throws if it does not authenticate); a stream cipher has nothing left to emit.
    decipher.final();
    return plaintext;
  });
}

/** Encrypts `plaintext` under `key` with the record layout, bound to `location`. Exposed for the keyring itself. */
export function sealRecord(key: Uint8Array, term: number, location: string, plaintext: Uint8Array): Uint8Array {
  const header = new Uint8Array(HEADER_BYTES);
  header[0] = RECORD_VERSION;
  new DataView(header.buffer).setUint32(1, term);
  const nonce = randomBytes(NONCE_BYTES);
  const ciphertext = xchachaEncrypt(key, nonce, additionalData(location, header), plaintext);
  const out = new Uint8Array(HEADER_BYTES + NONCE_BYTES + ciphertext.length);
  out.set(header, 0);
  out.set(nonce, HEADER_BYTES);
  out.set(ciphertext, HEADER_BYTES + NONCE_BYTES);
  return out;
}

/** Reads the term a record was written under, without decrypting it. */
export function recordTerm(record: Uint8Array, location: string): number {
  if (record.length < HEADER_BYTES + NONCE_BYTES + TAG_BYTES || record[0] !== RECORD_VERSION) throw new BarrierIntegrityError(location);
  // Big-endian uint32 at offset 1, read without allocating a DataView on every record.
  return ((record[1] as number) * 0x1000000 + (((record[2] as number) << 16) | ((record[3] as number) << 8) | (record[4] as number)));
}

/** Decrypts a record written by `sealRecord`; throws BarrierIntegrityError if anything does not authenticate. */
export function openRecord(key: Uint8Array, location: string, record: Uint8Array): Uint8Array {
  recordTerm(record, location);
  const header = record.subarray(0, HEADER_BYTES);
  const nonce = record.subarray(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES);
  const ciphertext = record.subarray(HEADER_BYTES + NONCE_BYTES);
  try {
    return xchachaDecrypt(key, nonce, additionalData(location, header), ciphertext);
  } catch {
    throw new BarrierIntegrityError(location);
  }
}

function additionalData(location: string, header: Uint8Array): Uint8Array {
  const aad = Buffer.allocUnsafe(header.length + Buffer.byteLength(location, 'utf8'));
  aad.set(header, 0);
  aad.write(location, header.length, 'utf8');
  return aad;
}

/** Keyring encoding version (binary; key bytes never pass through strings). */
const KEYRING_FORMAT = 1;
const TERM_ENTRY_BYTES = 4 + 8 + KEY_BYTES;

/**
 * Serialises a keyring for storage under the root key: `format ‖ activeTerm ‖ count ‖ seed ‖
 * (term ‖ installedAtMs ‖ key)*`. Binary on purpose: key material never becomes a JS string.
 */
export function encodeKeyring(keyring: Keyring): Uint8Array {
  const out = new Uint8Array(1 + 4 + 4 + KEY_BYTES + keyring.terms.length * TERM_ENTRY_BYTES);
  const view = new DataView(out.buffer);
  out[0] = KEYRING_FORMAT;
  view.setUint32(1, keyring.activeTerm);
  view.setUint32(5, keyring.terms.length);
  out.set(keyring.derivationSeed, 9);
  let offset = 9 + KEY_BYTES;
  for (const t of keyring.terms) {
    view.setUint32(offset, t.term);
    view.setFloat64(offset + 4, t.installedAtMs);
    out.set(t.key, offset + 12);
    offset += TERM_ENTRY_BYTES;
  }
  return out;
}

/** Parses `encodeKeyring`'s output into fresh arrays (the caller zeroes the input). */
export function decodeKeyring(bytes: Uint8Array): Keyring {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== KEYRING_FORMAT) throw new Error('unknown keyring format');
  const activeTerm = view.getUint32(1);
  const count = view.getUint32(5);
  if (bytes.length !== 9 + KEY_BYTES + count * TERM_ENTRY_BYTES) throw new Error('malformed keyring');
  // Copies (not views: a Buffer's slice shares memory), so zeroing the input leaves the keyring intact.
  const derivationSeed = new Uint8Array(bytes.subarray(9, 9 + KEY_BYTES));
  const terms: KeyTerm[] = [];
  let offset = 9 + KEY_BYTES;
  for (let i = 0; i < count; i++) {
    terms.push({ term: view.getUint32(offset), installedAtMs: view.getFloat64(offset + 4), key: new Uint8Array(bytes.subarray(offset + 12, offset + 12 + KEY_BYTES)) });
    offset += TERM_ENTRY_BYTES;
  }
  return { activeTerm, derivationSeed, terms };
}

/** A fresh random 32-byte key. */
export function generateKey(): Uint8Array {
  return new Uint8Array(randomBytes(KEY_BYTES));
}

/**
 * The unsealed barrier: holds the keyring in memory while unsealed, encrypts and decrypts
 * records, and derives purpose-bound sub-keys. `seal()` zeroes every key byte it holds.
 */
export class Barrier {
  private keyring: Keyring | undefined;
  private readonly subKeys = new Map<string, Uint8Array>();

  get sealed(): boolean {
    return this.keyring === undefined;
  }

  /** Installs a decrypted keyring (on unseal). The barrier takes ownership of the bytes. */
  unseal(keyring: Keyring): void {
    this.seal();
    this.keyring = keyring;
  }

  /** Zeroes every key and sub-key and forgets them. */
  seal(): void {
    if (this.keyring) {
      for (const t of this.keyring.terms) zeroize(t.key);
      zeroize(this.keyring.derivationSeed);
    }
    for (const k of this.subKeys.values()) zeroize(k);
    this.subKeys.clear();
    this.keyring = undefined;
  }

  encrypt(location: string, plaintext: Uint8Array): Uint8Array {
    const keyring = this.requireKeyring();
    const active = keyring.terms.find((t) => t.term === keyring.activeTerm) as KeyTerm;
    return sealRecord(active.key, active.term, location, plaintext);
  }

  decrypt(location: string, record: Uint8Array): Uint8Array {
    const keyring = this.requireKeyring();
    const term = recordTerm(record, location);
    const entry = keyring.terms.find((t) => t.term === term);
    if (!entry) throw new BarrierIntegrityError(location);
    return openRecord(entry.key, location, record);
  }

  encryptJSON(location: string, value: unknown): Uint8Array {
    return this.encrypt(location, encoder.encode(JSON.stringify(value)));
  }

  decryptJSON<T>(location: string, record: Uint8Array): T {
    return JSON.parse(utf8Text(this.decrypt(location, record))) as T;
  }

  /** A 32-byte sub-key for one purpose, derived once per unseal with HKDF-SHA256. */
  subKey(purpose: string): Uint8Array {
    const cached = this.subKeys.get(purpose);
    if (cached) return cached;
    const keyring = this.requireKeyring();
    const key = hkdf(sha256, keyring.derivationSeed, encoder.encode('leasehold'), encoder.encode(purpose), KEY_BYTES);
    this.subKeys.set(purpose, key);
    return key;
  }

  /** Adds a new term and makes it active; returns the new keyring so the caller can persist it. */
  rotate(nowMs: number): Keyring {
    const keyring = this.requireKeyring();
    const term = Math.max(...keyring.terms.map((t) => t.term)) + 1;
    keyring.terms.push({ term, key: generateKey(), installedAtMs: nowMs });
    keyring.activeTerm = term;
    return keyring;
  }

  /** Undoes `rotate` when the new keyring could not be persisted. */
  dropActiveTerm(): void {
    const keyring = this.requireKeyring();
    const dropped = keyring.terms.pop() as KeyTerm;
    zeroize(dropped.key);
    keyring.activeTerm = Math.max(...keyring.terms.map((t) => t.term));
  }

  /** The active term and when it was installed (sys/key-status). */
  status(): { term: number; installedAtMs: number; termCount: number } {
    const keyring = this.requireKeyring();
    const active = keyring.terms.find((t) => t.term === keyring.activeTerm) as KeyTerm;
    return { term: active.term, installedAtMs: active.installedAtMs, termCount: keyring.terms.length };
  }

  private requireKeyring(): Keyring {
    if (!this.keyring) throw new SealedError();
    return this.keyring;
  }
}
