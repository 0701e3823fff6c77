// KV secrets engine version 2: Vault's versioned kv-v2 API (config, data/, delete/, undelete/, destroy/, metadata/, subkeys/).
import { z } from 'zod';
import { bool, int } from '../../core/fields';
import type { Backend, BackendContext, BackendRequest, BackendResponse, PathDefinition } from '../../core/framework';
import { BadRequestError, InternalError, NotFoundError, VaultError } from '../../errors';
import type { StorageView } from '../../core/storage-view';
import type { Clock } from '../../util/clock';
import { secretData, secretPath, signedDurationSeconds, versionList } from './kv-fields';
import { metadataPath } from './kv-v2-metadata';
import { mergePatch, isJsonObject } from './merge-patch';
import {
  DELETE_VERSION_AFTER_DISABLED_SECONDS,
  LATEST_COPY_MAX_BYTES,
  addVersion,
  checkAndSet,
  checkSecretSize,
  destroyVersionData,
  formatSignedDuration,
  isDeleted,
  newMetadata,
  readConfig,
  readMetadata,
  readVersionData,
  scheduledDeletionMs,
  versionStorageKey,
  versionView,
  writeConfig,
  writeMetadata,
  type KeyMetadata,
  type VersionRecord,
} from './kv-v2-store';

/** Nesting beyond which subkeys/ stops descending, as Vault's maxSubkeysDepth. */
const MAX_SUBKEYS_DEPTH = 100;

const configFields = z.object({
  max_versions: int(0, 0xffffffff)
    .nullish()
    .describe('The number of versions to keep for each key. 0 means the default, 10.'),
  cas_required: bool()
    .nullish()
    .describe('If true, every write to every key must carry the cas option.'),
  delete_version_after: signedDurationSeconds()
    .nullish()
    .describe('Time after which a new version is deleted, e.g. "768h". 0 clears it; a negative value disables it on every key.'),
});

const dataFields = z.object({
  path: secretPath(),
  version: int(0)
    .optional()
    .describe('On read, the version to return; 0 or absent means the latest.'),
  data: secretData()
    .nullish()
    .describe('The secret: a JSON object stored as-is on write, or a JSON merge patch on patch.'),
  options: z
    .object({
      cas: int(0)
        .optional()
        .describe('Check-and-set: the write succeeds only if this is the current version (0: only if the key does not exist).'),
    })
    .nullish()
    .describe('Write options; only cas is recognised.'),
});

const versionsFields = z.object({
  path: secretPath(),
  versions: versionList()
    .optional()
    .describe('The version numbers to act on, as a JSON array or a comma-separated string.'),
});

const subkeysFields = z.object({
  path: secretPath(),
  version: int(0)
    .optional()
    .describe('The version to describe; 0 or absent means the latest.'),
  depth: int(0)
    .optional()
    .describe('The deepest nesting level to return; 0 means no limit.'),
});

type ConfigFields = z.infer<typeof configFields>;
type DataFields = z.infer<typeof dataFields>;
type VersionsFields = z.infer<typeof versionsFields>;
type SubkeysFields = z.infer<typeof subkeysFields>;

/** The version a read asks for: a positive `version`, else the latest. */
function requestedVersion(meta: KeyMetadata, version: number | undefined): number {
  return version !== undefined && version > 0 ? version : meta.currentVersion;
}

/** Replaces every leaf of `data` with null, treating objects at `maxDepth` (0: no limit) as leaves, like Vault's subkeys. */
function subkeysOf(data: Record<string, unknown>, maxDepth: number, depth = 1): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    const descend = isJsonObject(v) && Object.keys(v).length > 0 && depth < MAX_SUBKEYS_DEPTH && (maxDepth === 0 || depth < maxDepth);
    Object.defineProperty(out, k, { value: descend ? subkeysOf(v, maxDepth, depth + 1) : null, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** The config path: mount-wide defaults. */
function configPath(): PathDefinition<ConfigFields> {
  return {
    pattern: 'config',
    fields: configFields,
    operations: {
      read: (req) => {
        const config = readConfig(req.storage);
        return {
          data: {
            max_versions: config.maxVersions,
            cas_required: config.casRequired,
            delete_version_after: formatSignedDuration(config.deleteVersionAfterSeconds),
          },
        };
      },
      update: (req) => {
        const { max_versions, cas_required, delete_version_after } = req.fields;
        if (max_versions === undefined && cas_required === undefined && delete_version_after === undefined) return undefined;
        req.storage.transaction(() => {
          const config = readConfig(req.storage);
          if (max_versions !== undefined) config.maxVersions = max_versions ?? 0;
          if (cas_required !== undefined) config.casRequired = cas_required ?? false;
          if (delete_version_after !== undefined) {
            const seconds = delete_version_after ?? 0;
            config.deleteVersionAfterSeconds = seconds < 0 ? DELETE_VERSION_AFTER_DISABLED_SECONDS : seconds;
          }
          writeConfig(req.storage, config);
        });
        return undefined;
      },
    },
    description: 'Configures max_versions, cas_required and delete_version_after for every key of the mount.',
  };
}

/**
 * The requested version of a key with its metadata view; 404 if absent, and 404 carrying the
 * metadata (with `nullField` set to null) if that version is deleted or destroyed, as Vault answers.
 */
function readLiveVersion(storage: StorageView, clock: Clock, key: string, version: number | undefined, nullField: 'data' | 'subkeys') {
  const meta = readMetadata(storage, key);
  if (!meta) throw new NotFoundError();
  const n = requestedVersion(meta, version);
  const vm = meta.versions[String(n)];
  if (!vm) throw new NotFoundError();
  const metadata = versionView(meta, n, vm);
  if (vm.destroyed || isDeleted(vm, clock.nowMs())) throw new NotFoundError('', { [nullField]: null, metadata: { ...metadata } });
  const data = readVersionData(storage, meta, n);
  if (!data) throw new InternalError('could not find version data');
  return { data, metadata: { ...metadata } };
}

/** The data/ path: read a version, write or patch a new one, soft-delete the latest. */
function dataPath(clock: Clock): PathDefinition<DataFields> {
  /** Stores `data` as the next version of `key` after the CAS check, pruning versions that leave the window. */
  const storeNewVersion = (req: BackendRequest<DataFields>, meta: KeyMetadata, data: Record<string, unknown>, nowMs: number): BackendResponse => {
    const config = readConfig(req.storage);
    const record: VersionRecord = { data, createdMs: nowMs };
    const recordBytes = checkSecretSize(record);
    const deletionMs = scheduledDeletionMs(nowMs, config, meta);
    const { version, prunedVersions } = addVersion(meta, nowMs, deletionMs, config);
    req.storage.putJSON(versionStorageKey(meta.key, meta.currentVersion), record);
    // writeMetadata drops the previous version's copy; a version too big for one gets none.
    if (recordBytes <= LATEST_COPY_MAX_BYTES) meta.latest = { version: meta.currentVersion, data };
    writeMetadata(req.storage, meta);
    for (const n of prunedVersions) req.storage.delete(versionStorageKey(meta.key, n));
    return { data: { ...versionView(meta, meta.currentVersion, version) } };
  };

  const read = (req: BackendRequest<DataFields>): BackendResponse => {
    const { data, metadata } = readLiveVersion(req.storage, clock, req.fields.path, req.fields.version, 'data');
    return { data: { data, metadata } };
  };

  const write = (req: BackendRequest<DataFields>): BackendResponse => {
    const { path: key, data, options } = req.fields;
    if (data === undefined || data === null) throw new BadRequestError('no data provided');
    const nowMs = clock.nowMs();
    return req.storage.transaction(() => {
      const meta = readMetadata(req.storage, key) ?? newMetadata(key, nowMs);
      checkAndSet(options?.cas, readConfig(req.storage), meta);
      return storeNewVersion(req, meta, data, nowMs);
    });
  };

  const patch = (req: BackendRequest<DataFields>): BackendResponse => {
    const { path: key, data, options } = req.fields;
    if (data === undefined || data === null) throw new BadRequestError('no data provided');
    const nowMs = clock.nowMs();
    return req.storage.transaction(() => {
      const meta = readMetadata(req.storage, key);
      if (!meta) throw new NotFoundError();
      checkAndSet(options?.cas, readConfig(req.storage), meta);
      const vm = meta.versions[String(meta.currentVersion)];
      if (!vm) throw new NotFoundError();
      // Vault answers a patch of a deleted or destroyed latest version with 404 and that version's metadata.
      if (vm.destroyed || isDeleted(vm, nowMs)) throw new NotFoundError('', { ...versionView(meta, meta.currentVersion, vm) });
      const current = readVersionData(req.storage, meta, meta.currentVersion);
      if (!current) throw new InternalError('could not find version data');
      const patched = mergePatch(current, data) as Record<string, unknown>;
      return storeNewVersion(req, meta, patched, nowMs);
    });
  };

  const remove = (req: BackendRequest<DataFields>): undefined => {
    const nowMs = clock.nowMs();
    req.storage.transaction(() => {
      const meta = readMetadata(req.storage, req.fields.path);
      const vm = meta?.versions[String(meta.currentVersion)];
      if (!meta || !vm || vm.destroyed || isDeleted(vm, nowMs)) return;
      vm.deletionMs = nowMs;
      writeMetadata(req.storage, meta);
    });
    return undefined;
  };

  return {
    // Vault's pattern: a path that does not end in a slash.
    pattern: 'data/(?<path>.*?[^/])',
    fields: dataFields,
    operations: { read, create: write, update: write, patch, delete: remove },
    existenceCheck: (req) => readMetadata(req.storage, req.fields.path) !== undefined,
    description: 'Writes, patches, reads and soft-deletes versions of a secret.',
  };
}

/** One of delete/, undelete/, destroy/: an update that applies `apply` to each listed version that exists. */
function versionsPath(
  clock: Clock,
  prefix: 'delete' | 'undelete' | 'destroy',
  missingVersionsMessage: string,
  description: string,
  apply: (input: { req: BackendRequest<VersionsFields>; meta: KeyMetadata; version: number; nowMs: number }) => void,
): PathDefinition<VersionsFields> {
  return {
    pattern: `${prefix}/(?<path>.*)`,
    fields: versionsFields,
    operations: {
      update: (req) => {
        const versions = req.fields.versions ?? [];
        if (versions.length === 0) throw new BadRequestError(missingVersionsMessage);
        const nowMs = clock.nowMs();
        req.storage.transaction(() => {
          const meta = readMetadata(req.storage, req.fields.path);
          if (!meta) return;
          for (const version of versions) apply({ req, meta, version, nowMs });
          writeMetadata(req.storage, meta);
        });
        return undefined;
      },
    },
    description,
  };
}

/** The subkeys/ path: a version's structure with every value replaced by null. */
function subkeysPath(clock: Clock): PathDefinition<SubkeysFields> {
  return {
    pattern: 'subkeys/(?<path>.*)',
    fields: subkeysFields,
    operations: {
      read: (req) => {
        const { data, metadata } = readLiveVersion(req.storage, clock, req.fields.path, req.fields.version, 'subkeys');
        return { data: { subkeys: subkeysOf(data, req.fields.depth ?? 0), metadata } };
      },
    },
    description: "Reads the structure of a secret version's data with the values removed.",
  };
}

/** The catch-all Vault adds last: any other path answers 404 with a hint towards the kv-v2 API. */
function invalidPath(): PathDefinition {
  const handler = (req: BackendRequest): never => {
    if (['metadata', 'data', 'delete', 'undelete', 'destroy'].includes(req.path)) {
      throw new VaultError(404, '', { warnings: ['Non-listing operations on the root of a K/V v2 mount are not supported.'] });
    }
    const subCommand = { create: 'put', update: 'put', patch: 'patch', read: 'get', list: 'list', delete: 'delete' }[req.operation];
    throw new VaultError(404, '', {
      warnings: [`Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv ${subCommand}' for this operation.`],
    });
  };
  return {
    pattern: '.*',
    operations: { read: handler, update: handler, patch: handler, delete: handler, list: handler },
    description: 'Answers paths that are not part of the kv-v2 API.',
  };
}

/** Builds a KV v2 backend; its storage holds `config`, `metadata/<path>` and `versions/<hash>/<n>`. */
export function kvV2Backend(ctx: BackendContext): Backend {
  const { clock } = ctx;
  return {
    paths: [
      configPath(),
      dataPath(clock),
      metadataPath(clock),
      versionsPath(clock, 'delete', 'No version number provided', 'Soft-deletes the listed versions of a secret.', ({ meta, version, nowMs }) => {
        const vm = meta.versions[String(version)];
        if (!vm || vm.destroyed || isDeleted(vm, nowMs)) return;
        vm.deletionMs = nowMs;
      }),
      versionsPath(clock, 'undelete', 'No version number provided', 'Restores soft-deleted versions of a secret.', ({ req, meta, version, nowMs }) => {
        const vm = meta.versions[String(version)];
        if (!vm || vm.destroyed) return;
        // An undeleted version gets a fresh delete_version_after deadline, counted from now.
        vm.deletionMs = scheduledDeletionMs(nowMs, readConfig(req.storage), meta);
      }),
      versionsPath(clock, 'destroy', 'no version number provided', 'Permanently removes the data of the listed versions.', ({ req, meta, version }) => {
        const vm = meta.versions[String(version)];
        if (!vm || vm.destroyed) return;
        vm.destroyed = true;
        destroyVersionData(req.storage, meta, version);
      }),
      subkeysPath(clock),
      invalidPath(),
    ],
  };
}
