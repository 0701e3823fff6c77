// `kv ...`: the KV engine commands, on v1 or v2 mounts, with Vault's paths, flags and output.
import type { Command } from 'commander';
import { isRecord, type VaultResponse } from '../client';
import { action, CliError, collectValues, type CommandContext, parseIntegerFlag } from '../context';
import { formatStructured } from '../format';
import { parseFlagPairs, parseKeyValueArgs, processSources } from '../key-value-args';
import { formatKvMetadata, formatKvV2Secret } from '../kv-format';
import { kvApiPath, type KvTarget, type KvV2Prefix, resolveKvTarget } from '../kv-paths';
import { EXIT_NOT_FOUND, printField, printKeys, printSecret, printWriteResult } from '../output';

interface MountOptions {
  mount?: string;
}

interface GetOptions extends MountOptions {
  version?: string;
  field?: string;
}

interface PutOptions extends MountOptions {
  cas?: string;
}

interface PatchOptions extends PutOptions {
  method: string;
  remove: string[];
}

interface VersionsOptions extends MountOptions {
  versions: string[];
}

interface MetadataPutOptions extends MountOptions {
  maxVersions?: string;
  casRequired?: boolean;
  deleteVersionAfter?: string;
  customMetadata: string[];
}

/** `-versions=1,2 -versions 3` as [1, 2, 3]. */
export function parseVersions(values: readonly string[]): number[] {
  return values
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '')
    .map((value) => parseIntegerFlag('versions', value, 1));
}

async function kvTarget(context: CommandContext, path: string, options: MountOptions): Promise<KvTarget> {
  return context.call(`checking the KV mount of ${path}`, () => resolveKvTarget(context.client(), path, options.mount));
}

function requireV2(target: KvTarget, feature: string): void {
  if (target.version !== 2) throw new CliError(`${feature} not supported on KV Version 1`, 1);
}

async function requireData(args: readonly string[]): Promise<Record<string, unknown>> {
  if (args.length === 0) throw new CliError('Must supply data', 1);
  return parseKeyValueArgs(args, processSources);
}

/** After put/patch on v2 the response is the new version's metadata; v1 answers 204. */
function printKvWrite(context: CommandContext, target: KvTarget, path: string, response: VaultResponse | undefined): number {
  if (target.version === 1 || response === undefined) return printWriteResult(context, response, `Success! Data written to: ${path}`);
  if (isRecord(response.wrap_info)) return printSecret(context, response);
  context.print(context.format !== 'table' ? formatStructured(response, context.format) : formatKvV2Secret(path, response, 'write'));
  return 0;
}

/** Adds `-mount`, which every kv command takes. */
function withMount(command: Command): Command {
  return command.option('--mount <path>', 'KV mount; PATH is then relative to it (e.g. -mount=secret foo)');
}

/** Registers the `kv` group. */
export function registerKvCommands(program: Command): void {
  const kv = program.command('kv').description('Read and write KV secrets (v1 and v2 mounts)');

  withMount(kv.command('put'))
    .description('Write a new version of a secret (replaces all its data)')
    .argument('<path>', 'secret path, e.g. secret/creds')
    .argument('[data...]', 'k=v pairs, k=@file, k=-, @file.json or - (JSON on stdin)')
    .option('--cas <n>', 'check-and-set: write only if the current version is n (0: only if absent)')
    .action(
      action(async (context, path: string, args: string[], options: PutOptions) => {
        const data = await requireData(args);
        const target = await kvTarget(context, path, options);
        const apiPath = kvApiPath(target, 'data');
        let body: Record<string, unknown> = data;
        if (target.version === 2) {
          body = { data, ...(options.cas !== undefined ? { options: { cas: parseIntegerFlag('cas', options.cas) } } : {}) };
        }
        const response = await context.call(`writing data to ${apiPath}`, () => context.client().write(apiPath, body));
        return printKvWrite(context, target, apiPath, response);
      }),
    );

  withMount(kv.command('get'))
    .description('Read a secret (the latest version, or -version N)')
    .argument('<path>', 'secret path')
    .option('--version <n>', 'version to read (v2)')
    .option('--field <name>', 'print only this data field, without a trailing newline')
    .action(
      action(async (context, path: string, options: GetOptions) => {
        const target = await kvTarget(context, path, options);
        const apiPath = kvApiPath(target, 'data');
        const query = options.version !== undefined ? { version: String(parseIntegerFlag('version', options.version)) } : undefined;
        const response = await context.call(`reading ${apiPath}`, () => context.client().read(apiPath, query));
        if (response === undefined) {
          context.warn(`No value found at ${apiPath}`);
          return EXIT_NOT_FOUND;
        }
        if (target.version === 1 || isRecord(response.wrap_info)) return printSecret(context, response, options.field);
        const body = isRecord(response.data) ? response.data : {};
        const data = isRecord(body.data) ? body.data : undefined;
        if (options.field !== undefined) {
          if (data === undefined) throw new CliError(`No data found at ${apiPath}`, EXIT_NOT_FOUND);
          return printField(context, { data }, options.field);
        }
        context.print(context.format !== 'table' ? formatStructured(response, context.format) : formatKvV2Secret(apiPath, response, 'read'));
        if (data !== undefined) return 0;
        // A deleted or destroyed version has metadata but no data.
        context.warn(`No data found at ${apiPath}: the version is deleted or destroyed`);
        return EXIT_NOT_FOUND;
      }),
    );

  withMount(kv.command('list'))
    .description('List the keys below a path')
    .argument('<path>', 'folder path, e.g. secret/ or secret/app/')
    .action(
      action(async (context, path: string, options: MountOptions) => {
        const target = await kvTarget(context, path, options);
        const apiPath = kvApiPath(target, 'metadata');
        const response = await context.call(`listing ${apiPath}`, () => context.client().list(apiPath));
        return printKeys(context, response, apiPath);
      }),
    );

  withMount(kv.command('delete'))
    .description('Delete the latest version of a secret, or -versions (v2: recoverable with undelete)')
    .argument('<path>', 'secret path')
    .option('--versions <list>', 'versions to delete, comma-separated or repeated (v2)', collectValues, [])
    .action(
      action(async (context, path: string, options: VersionsOptions) => {
        const target = await kvTarget(context, path, options);
        const versions = parseVersions(options.versions);
        if (target.version === 2 && versions.length > 0) {
          const apiPath = kvApiPath(target, 'delete');
          const response = await context.call(`deleting ${apiPath}`, () => context.client().write(apiPath, { versions }));
          return printWriteResult(context, response, `Success! Data deleted (if it existed) at: ${apiPath}`);
        }
        const apiPath = kvApiPath(target, 'data');
        const response = await context.call(`deleting ${apiPath}`, () => context.client().delete(apiPath));
        return printWriteResult(context, response, `Success! Data deleted (if it existed) at: ${apiPath}`);
      }),
    );

  for (const [name, feature, prefix] of [
    ['undelete', 'Undelete', 'undelete'],
    ['destroy', 'Destroy', 'destroy'],
  ] as const satisfies ReadonlyArray<readonly [string, string, KvV2Prefix]>) {
    withMount(kv.command(name))
      .description(name === 'undelete' ? 'Restore deleted versions of a secret (v2)' : 'Permanently remove versions of a secret (v2)')
      .argument('<path>', 'secret path')
      .option('--versions <list>', `versions to ${name}, comma-separated or repeated`, collectValues, [])
      .action(
        action(async (context, path: string, options: VersionsOptions) => {
          const versions = parseVersions(options.versions);
          if (versions.length === 0) throw new CliError(`No versions provided, use the "-versions" flag to specify the version to ${name}.`, 1);
          const target = await kvTarget(context, path, options);
          requireV2(target, feature);
          const apiPath = kvApiPath(target, prefix);
          const response = await context.call(`writing data to ${apiPath}`, () => context.client().write(apiPath, { versions }));
          return printWriteResult(context, response, `Success! Data written to: ${apiPath}`);
        }),
      );
  }

  withMount(kv.command('patch'))
    .description('Merge k=v pairs into the latest version of a secret (v2)')
    .argument('<path>', 'secret path')
    .argument('[data...]', 'k=v pairs, k=@file, k=-, @file.json or - (JSON on stdin)')
    .option('--cas <n>', 'check-and-set: patch only if the current version is n')
    .option('--method <method>', '"patch" (an HTTP PATCH) or "rw" (read, merge, write with check-and-set)', 'patch')
    .option('--remove <key>', 'key to remove (repeatable)', collectValues, [])
    .action(
      action(async (context, path: string, args: string[], options: PatchOptions) => {
        if (options.method !== 'patch' && options.method !== 'rw') throw new CliError('Error: -method must be "patch" or "rw"', 1);
        const data = args.length === 0 && options.remove.length > 0 ? {} : await requireData(args);
        const target = await kvTarget(context, path, options);
        requireV2(target, 'Patch');
        const apiPath = kvApiPath(target, 'data');
        const cas = options.cas !== undefined ? parseIntegerFlag('cas', options.cas) : undefined;
        let response: VaultResponse | undefined;
        if (options.method === 'patch') {
          // A JSON merge patch: a null value removes the key.
          const patch: Record<string, unknown> = { ...data, ...Object.fromEntries(options.remove.map((key) => [key, null])) };
          response = await context.call(`writing data to ${apiPath}`, () =>
            context.client().patch(apiPath, { data: patch, ...(cas !== undefined ? { options: { cas } } : {}) }),
          );
        } else {
          const current = await context.call(`reading ${apiPath}`, () => context.client().read(apiPath));
          const currentBody = isRecord(current?.data) ? current.data : {};
          if (!isRecord(currentBody.data)) {
            context.warn(`No value found at ${apiPath}`);
            return EXIT_NOT_FOUND;
          }
          const merged: Record<string, unknown> = { ...currentBody.data, ...data };
          for (const key of options.remove) delete merged[key];
          const currentVersion = isRecord(currentBody.metadata) ? currentBody.metadata.version : undefined;
          const checkAndSet = cas ?? (typeof currentVersion === 'number' ? currentVersion : undefined);
          response = await context.call(`writing data to ${apiPath}`, () =>
            context.client().write(apiPath, { data: merged, ...(checkAndSet !== undefined ? { options: { cas: checkAndSet } } : {}) }),
          );
        }
        return printKvWrite(context, target, apiPath, response);
      }),
    );

  withMount(kv.command('rollback'))
    .description('Write an earlier version of a secret as its new current version (v2)')
    .argument('<path>', 'secret path')
    .option('--version <n>', 'the version to roll back to')
    .action(
      action(async (context, path: string, options: MountOptions & { version?: string }) => {
        if (options.version === undefined) throw new CliError('Must specify a version to roll back to with -version', 1);
        const version = parseIntegerFlag('version', options.version, 1);
        const target = await kvTarget(context, path, options);
        requireV2(target, 'Rollback');
        const metadataPath = kvApiPath(target, 'metadata');
        const dataPath = kvApiPath(target, 'data');
        const metadata = await context.call(`reading ${metadataPath}`, () => context.client().read(metadataPath));
        const meta = isRecord(metadata?.data) ? metadata.data : undefined;
        if (meta === undefined) {
          context.warn(`No value found at ${dataPath}`);
          return EXIT_NOT_FOUND;
        }
        const currentVersion = typeof meta.current_version === 'number' ? meta.current_version : 0;
        const versions = isRecord(meta.versions) ? meta.versions : {};
        const info = versions[String(version)];
        if (!isRecord(info)) throw new CliError(`Error: version ${version} does not exist at ${dataPath}`, 2);
        if (info.destroyed === true) throw new CliError(`Cannot roll back to a version that has been destroyed`, 2);
        if (typeof info.deletion_time === 'string' && info.deletion_time !== '') {
          throw new CliError(`Cannot roll back to a version that has been deleted`, 2);
        }
        const old = await context.call(`reading ${dataPath}`, () => context.client().read(dataPath, { version: String(version) }));
        const oldBody = isRecord(old?.data) ? old.data : {};
        if (!isRecord(oldBody.data)) {
          context.warn(`No value found at ${dataPath}`);
          return EXIT_NOT_FOUND;
        }
        const data = oldBody.data;
        const response = await context.call(`writing data to ${dataPath}`, () =>
          context.client().write(dataPath, { data, options: { cas: currentVersion } }),
        );
        return printKvWrite(context, target, dataPath, response);
      }),
    );

  registerKvMetadataCommands(kv);
}

async function metadataTarget(context: CommandContext, path: string, options: MountOptions): Promise<{ apiPath: string }> {
  const target = await kvTarget(context, path, options);
  requireV2(target, 'Metadata');
  return { apiPath: kvApiPath(target, 'metadata') };
}

function registerKvMetadataCommands(kv: Command): void {
  const metadata = kv.command('metadata').description("Read and change a secret's metadata and version settings (v2)");

  withMount(metadata.command('get'))
    .description("Show a secret's metadata and its versions")
    .argument('<path>', 'secret path')
    .action(
      action(async (context, path: string, options: MountOptions) => {
        const { apiPath } = await metadataTarget(context, path, options);
        const response = await context.call(`reading ${apiPath}`, () => context.client().read(apiPath));
        if (response === undefined) {
          context.warn(`No value found at ${apiPath}`);
          return EXIT_NOT_FOUND;
        }
        context.print(context.format !== 'table' ? formatStructured(response, context.format) : formatKvMetadata(apiPath, response));
        return 0;
      }),
    );

  withMount(metadata.command('put'))
    .description("Change a secret's settings: version limit, check-and-set, expiry, custom metadata")
    .argument('<path>', 'secret path')
    .option('--max-versions <n>', 'versions to keep (0: the mount default)')
    .option('--cas-required', 'require check-and-set on every write')
    .option('--no-cas-required', 'do not require check-and-set')
    .option('--delete-version-after <duration>', 'delete versions this long after they are written, e.g. 720h (0s: never)')
    .option('--custom-metadata <k=v>', 'custom metadata pair (repeatable)', collectValues, [])
    .action(
      action(async (context, path: string, options: MetadataPutOptions) => {
        const { apiPath } = await metadataTarget(context, path, options);
        const body: Record<string, unknown> = {};
        if (options.maxVersions !== undefined) body.max_versions = parseIntegerFlag('max-versions', options.maxVersions);
        if (options.casRequired !== undefined) body.cas_required = options.casRequired;
        if (options.deleteVersionAfter !== undefined) body.delete_version_after = options.deleteVersionAfter;
        if (options.customMetadata.length > 0) body.custom_metadata = parseFlagPairs('custom-metadata', options.customMetadata);
        const response = await context.call(`writing data to ${apiPath}`, () => context.client().write(apiPath, body, 'POST'));
        return printWriteResult(context, response, `Success! Data written to: ${apiPath}`);
      }),
    );

  withMount(metadata.command('delete'))
    .description('Delete a secret with all its versions and metadata')
    .argument('<path>', 'secret path')
    .action(
      action(async (context, path: string, options: MountOptions) => {
        const { apiPath } = await metadataTarget(context, path, options);
        const response = await context.call(`deleting ${apiPath}`, () => context.client().delete(apiPath));
        return printWriteResult(context, response, `Success! Data deleted (if it existed) at: ${apiPath}`);
      }),
    );
}
