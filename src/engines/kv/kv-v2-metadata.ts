// KV v2's metadata/<path> endpoint: per-key settings, version history, LIST of keys, and deleting a key for good.
import { z } from 'zod';
import { bool, durationSeconds, int } from '../../core/fields';
import type { BackendRequest, BackendResponse, PathDefinition } from '../../core/framework';
import { BadRequestError, NotFoundError } from '../../errors';
import type { Clock } from '../../util/clock';
import { customMetadataInput, secretPath } from './kv-fields';
import {
  formatSignedDuration,
  formatTime,
  metadataStorageKey,
  newMetadata,
  readConfig,
  readMetadata,
  versionStoragePrefix,
  writeMetadata,
  type KeyMetadata,
} from './kv-v2-store';

const MAX_CUSTOM_METADATA_KEYS = 64;
const MAX_CUSTOM_METADATA_KEY_CHARS = 128;
const MAX_CUSTOM_METADATA_VALUE_CHARS = 512;
const CUSTOM_METADATA_ERROR_PREFIX = 'custom_metadata validation failed';
const CAS_IGNORED_WARNING = '"cas_required" set to false, but is mandated by backend config. This value will be ignored.';

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]*$/u;

// A null field means "set to the zero value", as Vault's field parsing decodes null.
const metadataFields = z.object({
  path: secretPath(),
  max_versions: int(0, 0xffffffff)
    .nullish()
    .describe("The number of versions to keep. If not set, the mount's max_versions (default 10) is used."),
  cas_required: bool()
    .nullish()
    .describe('If true, every write to this key must carry the cas option. If false, the mount setting applies.'),
  delete_version_after: durationSeconds()
    .nullish()
    .describe('Time after which a new version of this key is deleted, e.g. "1h" or seconds. 0 clears it; negative is refused.'),
  custom_metadata: customMetadataInput()
    .nullish()
    .describe('Version-agnostic string key/value pairs describing the secret (at most 64). In a patch, null removes a key.'),
});

type MetadataFields = z.infer<typeof metadataFields>;

/** Vault's custom_metadata checks and messages; nulls are skipped where a patch uses them to remove a key. */
function validateCustomMetadata(input: Record<string, string | null>, allowNulls: boolean): void {
  const keys = Object.keys(input);
  if (keys.length > MAX_CUSTOM_METADATA_KEYS) {
    throw new BadRequestError(`${CUSTOM_METADATA_ERROR_PREFIX}: payload must contain at most ${MAX_CUSTOM_METADATA_KEYS} keys, provided ${keys.length}`);
  }
  const errors: string[] = [];
  for (const key of keys) {
    const raw = input[key];
    if (raw === null && allowNulls) continue;
    const value = raw ?? '';
    if (key.length === 0 || key.length > MAX_CUSTOM_METADATA_KEY_CHARS) {
      errors.push(`length of key ${JSON.stringify(key)} is ${key.length} but must be 0 < len(key) <= ${MAX_CUSTOM_METADATA_KEY_CHARS}`);
    }
    if (value.length === 0 || value.length > MAX_CUSTOM_METADATA_VALUE_CHARS) {
      errors.push(`length of value for key ${JSON.stringify(key)} is ${value.length} but must be 0 < len(value) <= ${MAX_CUSTOM_METADATA_VALUE_CHARS}`);
    }
    if (!PRINTABLE.test(key)) errors.push(`key ${JSON.stringify(key)} contains unprintable characters`);
    if (!PRINTABLE.test(value)) errors.push(`value for key ${JSON.stringify(key)} contains unprintable characters`);
  }
  if (errors.length > 0) throw new BadRequestError(`${CUSTOM_METADATA_ERROR_PREFIX}: ${errors.join('; ')}`);
}

/** Custom metadata as stored: null when empty (Vault returns null for an empty map). */
function storedCustomMetadata(input: Record<string, string | null>): Record<string, string> | null {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(input)) if (v !== null) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return Object.keys(out).length === 0 ? null : out;
}

/** Metadata in Vault's wire shape. */
function metadataView(meta: KeyMetadata): Record<string, unknown> {
  const versions: Record<string, unknown> = {};
  for (const [n, vm] of Object.entries(meta.versions)) {
    versions[n] = { created_time: formatTime(vm.createdMs), deletion_time: formatTime(vm.deletionMs), destroyed: vm.destroyed };
  }
  return {
    cas_required: meta.casRequired,
    created_time: formatTime(meta.createdMs),
    current_version: meta.currentVersion,
    custom_metadata: meta.customMetadata,
    delete_version_after: formatSignedDuration(meta.deleteVersionAfterSeconds),
    max_versions: meta.maxVersions,
    oldest_version: meta.oldestVersion,
    updated_time: formatTime(meta.updatedMs),
    versions,
  };
}

/** Normalises a LIST prefix: listing `a/b` lists the folder `a/b/`, as Vault's LIST does. */
function listPrefix(path: string): string {
  return path === '' || path.endsWith('/') ? path : `${path}/`;
}

/** The metadata/ path of a KV v2 mount. */
export function metadataPath(clock: Clock): PathDefinition<MetadataFields> {
  const read = (req: BackendRequest<MetadataFields>): BackendResponse => {
    const meta = readMetadata(req.storage, req.fields.path);
    if (!meta) throw new NotFoundError();
    return { data: metadataView(meta) };
  };

  const list = (req: BackendRequest<MetadataFields>): BackendResponse => {
    const keys = req.storage.list(metadataStorageKey(listPrefix(req.fields.path)));
    if (keys.length === 0) throw new NotFoundError();
    return { data: { keys } };
  };

  const write = (req: BackendRequest<MetadataFields>): BackendResponse | undefined => {
    const { path: key, max_versions, cas_required, delete_version_after, custom_metadata } = req.fields;
    if (key === '') throw new BadRequestError('missing path');
    // data/ cannot address such a key, and LIST would show it as an empty name.
    if (key.endsWith('/')) throw new BadRequestError('invalid value for field "path": a secret path must not end with "/"');
    // Vault's fast path: a write that sets nothing does nothing (it does not create the key either).
    if (max_versions === undefined && cas_required === undefined && delete_version_after === undefined && custom_metadata === undefined) return undefined;
    if (custom_metadata) validateCustomMetadata(custom_metadata, false);
    const nowMs = clock.nowMs();
    return req.storage.transaction(() => {
      const config = readConfig(req.storage);
      const meta = readMetadata(req.storage, key) ?? newMetadata(key, nowMs);
      if (max_versions !== undefined) meta.maxVersions = max_versions ?? 0;
      if (cas_required !== undefined) meta.casRequired = cas_required ?? false;
      if (delete_version_after !== undefined) meta.deleteVersionAfterSeconds = delete_version_after ?? 0;
      if (custom_metadata !== undefined) meta.customMetadata = custom_metadata === null ? null : storedCustomMetadata(custom_metadata);
      writeMetadata(req.storage, meta);
      return config.casRequired && cas_required === false ? { warnings: [CAS_IGNORED_WARNING] } : undefined;
    });
  };

  const patch = (req: BackendRequest<MetadataFields>): BackendResponse | undefined => {
    const { path: key, max_versions, cas_required, delete_version_after, custom_metadata } = req.fields;
    if (key === '') throw new BadRequestError('missing path');
    if (custom_metadata) validateCustomMetadata(custom_metadata, true);
    return req.storage.transaction(() => {
      const meta = readMetadata(req.storage, key);
      if (!meta) throw new NotFoundError();
      const config = readConfig(req.storage);
      // JSON merge patch of the four patchable fields: absent keeps, null resets, custom_metadata merges by key.
      if (max_versions !== undefined) meta.maxVersions = max_versions ?? 0;
      if (cas_required !== undefined) meta.casRequired = cas_required ?? false;
      if (delete_version_after !== undefined) meta.deleteVersionAfterSeconds = delete_version_after ?? 0;
      if (custom_metadata === null) meta.customMetadata = null;
      else if (custom_metadata !== undefined) meta.customMetadata = storedCustomMetadata({ ...(meta.customMetadata ?? {}), ...custom_metadata });
      writeMetadata(req.storage, meta);
      return config.casRequired && cas_required === false ? { warnings: [CAS_IGNORED_WARNING] } : undefined;
    });
  };

  const remove = (req: BackendRequest<MetadataFields>): undefined => {
    const key = req.fields.path;
    req.storage.transaction(() => {
      if (!readMetadata(req.storage, key)) return;
      // Every stored version, including any the window dropped from the metadata but not yet from storage.
      for (const versionKey of req.storage.listRecursive(versionStoragePrefix(key))) req.storage.delete(versionKey);
      req.storage.delete(metadataStorageKey(key));
    });
    return undefined;
  };

  return {
    pattern: 'metadata/(?<path>.*)',
    fields: metadataFields,
    operations: { read, list, create: write, update: write, patch, delete: remove },
    existenceCheck: (req) => readMetadata(req.storage, req.fields.path) !== undefined,
    description: 'Reads, configures, lists and permanently deletes keys and their version history.',
  };
}
