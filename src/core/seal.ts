// Init, unseal and seal: Shamir shares reconstruct the root key, which decrypts the keyring.
// While sealed no key byte is in memory; a wrong or duplicate share never unseals.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import type { Statement } from 'better-sqlite3';
import { BadRequestError } from '../errors';
import type { SqliteDatabase } from '../storage/database';
import type { Clock } from '../util/clock';
import { type Barrier, decodeKeyring, encodeKeyring, generateKey, type Keyring, openRecord, sealRecord, zeroize } from './barrier';

const KEYRING_LOCATION = 'core/keyring';
const ROOT_KEY_BYTES = 32;

/** Seal parameters as Vault's sys/init accepts them. */
export interface InitRequest {
  secretShares: number;
  secretThreshold: number;
}

/** The public state of the seal, as sys/seal-status reports it. */
export interface SealStatus {
  initialized: boolean;
  sealed: boolean;
  threshold: number;
  shares: number;
  progress: number;
  nonce: string;
}

interface SealConfigRow {
  secret_shares: number;
  secret_threshold: number;
  keyring: Buffer;
}

/** Parses an unseal key given as hex or base64. Never echoes the input. */
export function decodeUnsealKey(input: string): Uint8Array {
  const text = input.trim();
  if (text.length === 0 || text.length > 1024) throw new BadRequestError('invalid key: expected a hex or base64 unseal key');
  if (/^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0) return new Uint8Array(Buffer.from(text, 'hex'));
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return new Uint8Array(Buffer.from(text, 'base64'));
  throw new BadRequestError('invalid key: expected a hex or base64 unseal key');
}

/** Vault's limits on a share split (sys/init and sys/rekey/init). */
export function checkShareParameters(secretShares: number, secretThreshold: number): void {
  if (!Number.isInteger(secretShares) || secretShares < 1 || secretShares > 255) throw new BadRequestError('secret_shares must be between 1 and 255');
  if (!Number.isInteger(secretThreshold) || secretThreshold < 1 || secretThreshold > secretShares) throw new BadRequestError('secret_threshold must be between 1 and secret_shares');
  if (secretShares > 1 && secretThreshold < 2) throw new BadRequestError('secret_threshold must be greater than one for multiple shares');
}

/** Owns the seal lifecycle; the barrier holds keys only between unseal and seal. */
export class SealManager {
  private pendingShares: Uint8Array[] = [];
  private nonce = '';
  private rootKey: Uint8Array | undefined;
  private cachedClusterId: string | undefined;
  private readonly readConfig: Statement<[], SealConfigRow>;
  private readonly unsealListeners: (() => void | Promise<void>)[] = [];
  private readonly sealListeners: (() => void | Promise<void>)[] = [];

  constructor(
    private readonly db: SqliteDatabase,
    private readonly barrier: Barrier,
    private readonly clock: Clock,
  ) {
    this.readConfig = db.prepare('SELECT secret_shares, secret_threshold, keyring FROM seal_config WHERE id = 1');
  }

  /** Registers work to run right after unseal (start the scheduler, load mounts). */
  onUnseal(listener: () => void | Promise<void>): void {
    this.unsealListeners.push(listener);
  }

  /** Registers work to run right before the keys are dropped (stop the scheduler). */
  onSeal(listener: () => void | Promise<void>): void {
    this.sealListeners.push(listener);
  }

  get initialized(): boolean {
    return this.readConfig.get() !== undefined;
  }

  /** The cluster's id, kept for the life of the storage; storage initialised before ids were stored gets one now. Undefined before init. */
  clusterId(): string | undefined {
    if (this.cachedClusterId !== undefined) return this.cachedClusterId;
    if (!this.initialized) return undefined;
    this.db.prepare('UPDATE seal_config SET cluster_id = ? WHERE id = 1 AND cluster_id IS NULL').run(randomUUID());
    this.cachedClusterId = (this.db.prepare('SELECT cluster_id FROM seal_config WHERE id = 1').get() as { cluster_id: string }).cluster_id;
    return this.cachedClusterId;
  }

  get sealed(): boolean {
    return this.barrier.sealed;
  }

  status(): SealStatus {
    const config = this.readConfig.get();
    return {
      initialized: config !== undefined,
      sealed: this.barrier.sealed,
      threshold: config?.secret_threshold ?? 0,
      shares: config?.secret_shares ?? 0,
      progress: this.pendingShares.length,
      nonce: this.nonce,
    };
  }

  /**
   * Creates the root key and keyring, stores the keyring under the root key, and splits the
   * root key into shares. `bootstrap` runs with the barrier briefly unsealed (to create the
   * root token), then the vault is sealed again, as after Vault's init.
   */
  async initialize(request: InitRequest, bootstrap: () => void): Promise<Uint8Array[]> {
    const { secretShares, secretThreshold } = request;
    if (this.initialized) throw new BadRequestError('Vault is already initialized');
    checkShareParameters(secretShares, secretThreshold);

    const rootKey = generateKey();
    const keyring: Keyring = {
      activeTerm: 1,
      terms: [{ term: 1, key: generateKey(), installedAtMs: this.clock.nowMs() }],
      derivationSeed: generateKey(),
    };
    const shares = secretShares === 1 ? [rootKey.slice()] : await split(rootKey, secretShares, secretThreshold);
    const encoded = encodeKeyring(keyring);
    const sealedKeyring = sealRecord(rootKey, 0, KEYRING_LOCATION, encoded);
    zeroize(encoded);
    zeroize(rootKey);

    this.barrier.unseal(keyring);
    try {
      this.db.transaction(() => {
        this.db
          .prepare('INSERT INTO seal_config (id, secret_shares, secret_threshold, keyring, initialized_at, cluster_id) VALUES (1, ?, ?, ?, ?, ?)')
          .run(secretShares, secretThreshold, sealedKeyring, this.clock.nowMs(), randomUUID());
        bootstrap();
      })();
    } finally {
      this.barrier.seal();
    }
    return shares;
  }

  /**
   * Adds one share. Returns true once the vault is unsealed. A duplicate share is ignored;
   * a set of shares that does not decrypt the keyring resets progress and fails without detail.
   */
  async submitShare(key: string): Promise<boolean> {
    const config = this.readConfig.get();
    if (!config) throw new BadRequestError('Vault is not initialized');
    if (!this.barrier.sealed) return true;
    const share = decodeUnsealKey(key);
    const expectedLength = config.secret_shares === 1 ? ROOT_KEY_BYTES : ROOT_KEY_BYTES + 1;
    if (share.length !== expectedLength) {
      zeroize(share);
      throw new BadRequestError('invalid key: wrong length for an unseal key');
    }
    if (this.pendingShares.some((s) => s.length === share.length && timingSafeEqual(s, share))) {
      zeroize(share);
      return false;
    }
    if (this.pendingShares.length === 0) this.nonce = randomUUID();
    this.pendingShares.push(share);
    if (this.pendingShares.length < config.secret_threshold) return false;

    const shares = this.pendingShares;
    this.pendingShares = [];
    this.nonce = '';
    let rootKey: Uint8Array | undefined;
    try {
      rootKey = shares.length === 1 ? (shares[0] as Uint8Array).slice() : await combine(shares);
      const plaintext = openRecord(rootKey, KEYRING_LOCATION, config.keyring);
      const keyring = decodeKeyring(plaintext);
      zeroize(plaintext);
      this.barrier.unseal(keyring);
      this.rootKey = rootKey;
    } catch {
      zeroize(rootKey);
      throw new BadRequestError('unseal failed: the provided key shares do not reconstruct the root key; progress has been reset');
    } finally {
      for (const s of shares) zeroize(s);
    }
    for (const listener of this.unsealListeners) await listener();
    return true;
  }

  /** Forgets any shares submitted so far. */
  resetProgress(): void {
    for (const s of this.pendingShares) zeroize(s);
    this.pendingShares = [];
    this.nonce = '';
  }

  /** Drops every key from memory. Listeners run first so jobs stop while keys still exist. */
  async seal(): Promise<void> {
    if (this.barrier.sealed) return;
    for (const listener of this.sealListeners) await listener();
    this.barrier.seal();
    zeroize(this.rootKey);
    this.rootKey = undefined;
    this.resetProgress();
  }

  /** The current seal's share parameters: what a key ceremony collects (threshold, and each share's byte length). */
  shareParameters(): { threshold: number; shares: number; shareLength: number } {
    const config = this.readConfig.get();
    if (!config) throw new BadRequestError('Vault is not initialized');
    return { threshold: config.secret_threshold, shares: config.secret_shares, shareLength: config.secret_shares === 1 ? ROOT_KEY_BYTES : ROOT_KEY_BYTES + 1 };
  }

  /**
   * Reconstructs the root key from a threshold of current shares and proves it by opening the stored
   * keyring. Consumes (zeroes) `shares`; the caller owns and zeroes the returned key. The error
   * never says which share was wrong or shows any of them.
   */
  async recoverRootKey(shares: Uint8Array[], what: string): Promise<Uint8Array> {
    const config = this.readConfig.get();
    if (!config) throw new BadRequestError('Vault is not initialized');
    let rootKey: Uint8Array | undefined;
    try {
      rootKey = shares.length === 1 ? (shares[0] as Uint8Array).slice() : await combine(shares);
      zeroize(openRecord(rootKey, KEYRING_LOCATION, config.keyring));
      return rootKey;
    } catch {
      zeroize(rootKey);
      throw new BadRequestError(`${what} failed: the provided key shares do not reconstruct the root key; progress has been reset`);
    } finally {
      for (const s of shares) zeroize(s);
    }
  }

  /**
   * Rekey: a new root key split into new shares, with the keyring re-sealed under it. The new seal
   * configuration and the re-sealed keyring are written in one statement of one transaction, so a
   * crash leaves either the old shares or the new ones valid, never neither. Returns the new shares
   * (the only copy). `currentRootKey` must come from `recoverRootKey`; it is zeroed.
   */
  async rekey(currentRootKey: Uint8Array, secretShares: number, secretThreshold: number): Promise<Uint8Array[]> {
    try {
      checkShareParameters(secretShares, secretThreshold);
      const config = this.readConfig.get();
      if (!config) throw new BadRequestError('Vault is not initialized');
      const newRootKey = generateKey();
      const shares = secretShares === 1 ? [newRootKey.slice()] : await split(newRootKey, secretShares, secretThreshold);
      const plaintext = openRecord(currentRootKey, KEYRING_LOCATION, config.keyring);
      const sealedKeyring = sealRecord(newRootKey, 0, KEYRING_LOCATION, plaintext);
      zeroize(plaintext);
      this.db.transaction(() => {
        this.db.prepare('UPDATE seal_config SET secret_shares = ?, secret_threshold = ?, keyring = ? WHERE id = 1').run(secretShares, secretThreshold, sealedKeyring);
      })();
      // sys/rotate re-seals the keyring under the root key held while unsealed: it must be the new one.
      if (this.rootKey) {
        zeroize(this.rootKey);
        this.rootKey = newRootKey;
      } else {
        zeroize(newRootKey);
      }
      // Unseal progress under the old shares is meaningless now.
      this.resetProgress();
      return shares;
    } finally {
      zeroize(currentRootKey);
    }
  }

  /** sys/rotate: adds a keyring term and persists the keyring under the root key. */
  rotate(): { term: number } {
    if (!this.rootKey) throw new BadRequestError('Vault is sealed');
    const keyring = this.barrier.rotate(this.clock.nowMs());
    try {
      const encoded = encodeKeyring(keyring);
      const sealedKeyring = sealRecord(this.rootKey, 0, KEYRING_LOCATION, encoded);
      zeroize(encoded);
      this.db.prepare('UPDATE seal_config SET keyring = ? WHERE id = 1').run(sealedKeyring);
    } catch (error) {
      // Never write under a term that is not persisted: it would be unreadable after restart.
      this.barrier.dropActiveTerm();
      throw error;
    }
    return { term: keyring.activeTerm };
  }
}
