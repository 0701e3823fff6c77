// KV v2's storage model (config, key metadata, version records) and Vault's rules for CAS, max_versions and deletion.
import { createHash } from 'node:crypto';
import { BadRequestError } from '../../errors';
import type { StorageView } from '../../core/storage-view';
import { formatDurationGo } from '../../util/duration';
import { formatRfc3339Nano } from '../../util/time';
import { MAX_SECRET_BYTES } from './kv-fields';

/** Versions kept per key when neither the key nor the mount sets max_versions (Vault's defaultMaxVersions). */
export const DEFAULT_MAX_VERSIONS = 10;

/** The mount config's delete_version_after when a negative value switched the feature off for every key. */
export const DELETE_VERSION_AFTER_DISABLED_SECONDS = -1;

const CONFIG_KEY = 'config';

/** Mount-wide settings (`config`). Zero means "not set" for every field, as in Vault. */
export interface KvConfig {
  maxVersions: number;
  casRequired: boolean;
  /** 0 = not set, -1 = disabled on every key, otherwise seconds. */
  deleteVersionAfterSeconds: number;
}

/** One version's bookkeeping, kept in the key's metadata record. */
export interface VersionMetadata {
  createdMs: number;
  /** When the version is (or will be) treated as deleted; null if never. */
  deletionMs: number | null;
  destroyed: boolean;
}

/** Everything Vault keeps about a key apart from the version data itself. */
export interface KeyMetadata {
  key: string;
  /** Version number (as a decimal string) to its bookkeeping; versions outside the max_versions window are dropped. */
  versions: Record<string, VersionMetadata>;
  currentVersion: number;
  oldestVersion: number;
  createdMs: number;
  updatedMs: number;
  /** 0 = use the mount's setting. */
  maxVersions: number;
  casRequired: boolean;
  /** 0 = use the mount's setting. */
  deleteVersionAfterSeconds: number;
  customMetadata: Record<string, string> | null;
  /**
   * A copy of the current version's data, so that reading the latest version (the common read) opens one
   * record instead of two. Only for data up to LATEST_COPY_MAX_BYTES (metadata operations open this record
   * too); absent in metadata written before it existed and once that version is destroyed. The version's
   * own record stays the source for every other version.
   */
  latest?: LatestVersionCopy;
}

/** The current version's data, kept in the key's metadata record. */
export interface LatestVersionCopy {
  version: number;
  data: Record<string, unknown>;
}

/**
 * Largest version (serialised) whose data the metadata record also keeps. Secrets are mostly far smaller;
 * a bigger one is read from its own record, so metadata reads and writes never carry megabytes.
 */
export const LATEST_COPY_MAX_BYTES = 8 * 1024;

/** The stored body of one version. */
export interface VersionRecord {
  data: Record<string, unknown>;
  createdMs: number;
}

/** Version metadata as Vault returns it under `metadata` on reads and as the body of writes. */
export interface VersionMetadataView {
  version: number;
  created_time: string;
  deletion_time: string;
  destroyed: boolean;
  custom_metadata: Record<string, string> | null;
}

/** Formats a time like Go's RFC3339Nano (trailing zero fractions dropped); null is Vault's empty string. */
export function formatTime(ms: number | null): string {
  return ms === null ? '' : formatRfc3339Nano(ms);
}

/** Formats signed seconds as Go's time.Duration String() ("0s", "1h0m0s", "-1s"). */
export function formatSignedDuration(seconds: number): string {
  return seconds < 0 ? `-${formatDurationGo(-seconds)}` : formatDurationGo(seconds);
}

/** The storage key of a key's metadata; it mirrors the secret path so that LIST on metadata/ is a prefix listing. */
export function metadataStorageKey(key: string): string {
  return `metadata/${key}`;
}

/**
 * The storage prefix of a key's versions. Hashed (as Vault salts them) so that one key's versions can never
 * collide with or be listed as another key's, whatever slashes or digits the paths contain.
 */
export function versionStoragePrefix(key: string): string {
  return `versions/${createHash('sha256').update(key, 'utf8').digest('hex')}/`;
}

/** The storage key of one version's data. */
export function versionStorageKey(key: string, version: number): string {
  return `${versionStoragePrefix(key)}${version}`;
}

/** The mount config, with Vault's zero defaults when never written. */
export function readConfig(storage: StorageView): KvConfig {
  return storage.getJSON<KvConfig>(CONFIG_KEY) ?? { maxVersions: 0, casRequired: false, deleteVersionAfterSeconds: 0 };
}

/** Persists the mount config. */
export function writeConfig(storage: StorageView, config: KvConfig): void {
  storage.putJSON(CONFIG_KEY, config);
}

/** A key's metadata, or undefined if the key does not exist. */
export function readMetadata(storage: StorageView, key: string): KeyMetadata | undefined {
  return storage.getJSON<KeyMetadata>(metadataStorageKey(key));
}

/** The data of version `n`: from the metadata's copy of the latest version, else from the version's own record. */
export function readVersionData(storage: StorageView, meta: KeyMetadata, n: number): Record<string, unknown> | undefined {
  if (meta.latest !== undefined && meta.latest.version === n) return meta.latest.data;
  return storage.getJSON<VersionRecord>(versionStorageKey(meta.key, n))?.data;
}

/** Removes version `n`'s data for good: its record, and the metadata's copy if it is that version (the caller writes `meta`). */
export function destroyVersionData(storage: StorageView, meta: KeyMetadata, n: number): void {
  storage.delete(versionStorageKey(meta.key, n));
  if (meta.latest !== undefined && meta.latest.version === n) delete meta.latest;
}

/**
 * Persists a key's metadata. A copy of anything but the live current version (a destroyed one, or one an
 * older build left behind) is dropped here, so a destroyed version's data can never be written back.
 */
export function writeMetadata(storage: StorageView, meta: KeyMetadata): void {
  const copied = meta.latest === undefined ? undefined : meta.versions[String(meta.latest.version)];
  if (meta.latest !== undefined && (meta.latest.version !== meta.currentVersion || copied === undefined || copied.destroyed)) delete meta.latest;
  storage.putJSON(metadataStorageKey(meta.key), meta);
}

/** Fresh metadata for a key that has never been written (created_time is set by the first version or metadata write). */
export function newMetadata(key: string, nowMs: number): KeyMetadata {
  return {
    key,
    versions: {},
    currentVersion: 0,
    oldestVersion: 0,
    createdMs: nowMs,
    updatedMs: nowMs,
    maxVersions: 0,
    casRequired: false,
    deleteVersionAfterSeconds: 0,
    customMetadata: null,
  };
}

/** True once a version's deletion time has come (a soft delete, or delete_version_after elapsed). */
export function isDeleted(vm: VersionMetadata, nowMs: number): boolean {
  return vm.deletionMs !== null && vm.deletionMs <= nowMs;
}

/**
 * When a version written (or undeleted) at `fromMs` is to be deleted: `fromMs` plus the smaller non-zero
 * delete_version_after of the mount and the key; null if neither is set or the mount disabled the feature.
 */
export function scheduledDeletionMs(fromMs: number, config: KvConfig, meta: KeyMetadata): number | null {
  if (config.deleteVersionAfterSeconds === DELETE_VERSION_AFTER_DISABLED_SECONDS) return null;
  const mountSeconds = Math.max(0, config.deleteVersionAfterSeconds);
  const keySeconds = meta.deleteVersionAfterSeconds;
  if (mountSeconds === 0 && keySeconds === 0) return null;
  const seconds = mountSeconds === 0 ? keySeconds : keySeconds === 0 ? mountSeconds : Math.min(mountSeconds, keySeconds);
  return fromMs + seconds * 1000;
}

/**
 * Enforces check-and-set as Vault does: if `cas` is given it must equal the current version (0 = the key must
 * not exist yet); without it the write is refused when the mount or the key requires CAS.
 */
export function checkAndSet(cas: number | undefined, config: KvConfig, meta: KeyMetadata): void {
  if (cas !== undefined) {
    if (cas !== meta.currentVersion) throw new BadRequestError('check-and-set parameter did not match the current version');
  } else if (config.casRequired || meta.casRequired) {
    throw new BadRequestError('check-and-set parameter required for this call');
  }
}

/**
 * Adds the next version to `meta` and slides the max_versions window. The effective maximum is the larger of the
 * key's and the mount's setting, or 10 if neither is set (what Vault's AddVersion does). Returns the version numbers
 * that fell out of the window, whose data the caller deletes.
 */
export function addVersion(meta: KeyMetadata, createdMs: number, deletionMs: number | null, config: KvConfig): { version: VersionMetadata; prunedVersions: number[] } {
  const version: VersionMetadata = { createdMs, deletionMs, destroyed: false };
  meta.currentVersion += 1;
  meta.versions[String(meta.currentVersion)] = version;
  meta.updatedMs = createdMs;

  const configured = Math.max(meta.maxVersions, config.maxVersions);
  const maxVersions = configured > 0 ? configured : DEFAULT_MAX_VERSIONS;
  const prunedVersions: number[] = [];
  if (meta.currentVersion - meta.oldestVersion >= maxVersions) {
    const lastToDrop = meta.currentVersion - maxVersions;
    for (let n = meta.oldestVersion; n <= lastToDrop; n++) {
      if (n > 0) prunedVersions.push(n);
      delete meta.versions[String(n)];
    }
    meta.oldestVersion = lastToDrop + 1;
  }
  return { version, prunedVersions };
}

/** Version metadata in Vault's wire shape. */
export function versionView(meta: KeyMetadata, version: number, vm: VersionMetadata): VersionMetadataView {
  return {
    version,
    created_time: formatTime(vm.createdMs),
    deletion_time: formatTime(vm.deletionMs),
    destroyed: vm.destroyed,
    custom_metadata: meta.customMetadata,
  };
}

/** Refuses a version record larger than Vault's storage would accept, before anything is written; returns its size in bytes. */
export function checkSecretSize(record: VersionRecord): number {
  const bytes = Buffer.byteLength(JSON.stringify(record), 'utf8');
  if (bytes > MAX_SECRET_BYTES) throw new BadRequestError(`invalid value for field "data": secret is ${bytes} bytes, at most ${MAX_SECRET_BYTES} are allowed`);
  return bytes;
}
