// `secrets enable|disable|list`: managing secrets engine mounts through sys/mounts, with the mount helpers `auth` shares.
import type { Command } from 'commander';
import { isRecord, sanitizePath, type VaultResponse } from '../client';
import { action, CliError, collectValues, type CommandContext, parseIntegerFlag } from '../context';
import { tableCell } from '../format';
import { parseFlagPairs } from '../key-value-args';
import { listingData, printListing, printWriteResult } from '../output';

/** The flags `secrets enable` and `auth enable` share, as in Vault. */
export interface MountFlags {
  path?: string;
  description?: string;
  defaultLeaseTtl?: string;
  maxLeaseTtl?: string;
  options: string[];
}

interface EnableOptions extends MountFlags {
  version?: string;
}

/** Mount paths are shown and compared with one trailing slash, as Vault's mount table keys are. */
export function mountPathWithSlash(path: string): string {
  return sanitizePath(path).replace(/\/*$/, '/');
}

/** The body of `POST sys/mounts/<path>`; `kv-v2` is shorthand for kv with options.version "2", as in Vault. */
export function enableRequestBody(type: string, options: { description?: string; version?: number; config?: Record<string, unknown>; engineOptions?: Record<string, unknown> }): Record<string, unknown> {
  const engineOptions: Record<string, unknown> = { ...options.engineOptions };
  let engineType = type;
  if (type === 'kv-v2') {
    engineType = 'kv';
    engineOptions.version = '2';
  }
  if (options.version !== undefined && options.version > 0) engineOptions.version = String(options.version);
  const body: Record<string, unknown> = { type: engineType, description: options.description ?? '' };
  if (options.config && Object.keys(options.config).length > 0) body.config = options.config;
  if (Object.keys(engineOptions).length > 0) body.options = engineOptions;
  return body;
}

/** Adds the mount flags (`-path`, `-description`, the lease TTLs, `-options`) to an `enable` command. */
export function withMountFlags(command: Command): Command {
  return command
    .option('--path <path>', 'mount path (default: the type)')
    .option('--description <text>', 'human-readable description of the mount')
    .option('--default-lease-ttl <duration>', 'default lease TTL for this mount, e.g. 1h')
    .option('--max-lease-ttl <duration>', 'maximum lease TTL for this mount, e.g. 24h')
    .option('--options <k=v>', 'mount option (repeatable)', collectValues, []);
}

/** The mount path an `enable` command targets: `-path`, else the type, with its trailing slash. */
export function enablePath(type: string, flags: Pick<MountFlags, 'path'>): string {
  const path = mountPathWithSlash(flags.path ?? type);
  if (path === '/') throw new CliError('Error: the mount path cannot be empty', 1);
  return path;
}

/** The body of `POST sys/mounts/<path>` or `POST sys/auth/<path>` from the mount flags. */
export function mountFlagsBody(type: string, flags: MountFlags, version?: number): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  if (flags.defaultLeaseTtl !== undefined) config.default_lease_ttl = flags.defaultLeaseTtl;
  if (flags.maxLeaseTtl !== undefined) config.max_lease_ttl = flags.maxLeaseTtl;
  return enableRequestBody(type, {
    ...(flags.description !== undefined ? { description: flags.description } : {}),
    ...(version !== undefined ? { version } : {}),
    config,
    engineOptions: parseFlagPairs('options', flags.options),
  });
}

/** The rows of `vault secrets list` (and `vault auth list`), sorted by path. */
export function mountRows(response: VaultResponse | undefined): string[][] {
  // sys/mounts answers under `data` and, for node-vault's sake, also at the top level.
  const mounts = listingData(response);
  return Object.keys(mounts)
    .filter((path) => path.endsWith('/') && isRecord(mounts[path]))
    .sort()
    .map((path) => {
      const mount = mounts[path] as Record<string, unknown>;
      return [path, tableCell(mount.type), tableCell(mount.accessor), tableCell(mount.description)];
    });
}

/** `-detailed` rows, as Vault's: TTLs from the mount's config ("system" when it inherits), options and UUID too. */
export function detailedMountRows(response: VaultResponse | undefined): string[][] {
  const mounts = listingData(response);
  const ttl = (value: unknown) => (typeof value === 'number' && value > 0 ? `${value}s` : 'system');
  return Object.keys(mounts)
    .filter((path) => path.endsWith('/') && isRecord(mounts[path]))
    .sort()
    .map((path) => {
      const mount = mounts[path] as Record<string, unknown>;
      const config = isRecord(mount.config) ? mount.config : {};
      const options = isRecord(mount.options) ? Object.entries(mount.options).map(([k, v]) => `${k}:${String(v)}`).join(' ') : '';
      return [path, tableCell(mount.type), tableCell(mount.accessor), ttl(config.default_lease_ttl), ttl(config.max_lease_ttl), tableCell(mount.local ?? false), tableCell(mount.seal_wrap ?? false), `map[${options}]`, tableCell(mount.description), tableCell(mount.uuid)];
    });
}

/** Prints a mount table (sys/mounts or sys/auth) as JSON or as Vault's Path/Type/Accessor/Description table (more columns with -detailed). */
function printMountTable(context: CommandContext, response: VaultResponse | undefined, detailed = false): number {
  if (detailed) {
    return printListing(context, listingData(response), ['Path', 'Plugin', 'Accessor', 'Default TTL', 'Max TTL', 'Local', 'Seal Wrap', 'Options', 'Description', 'UUID'], detailedMountRows(response));
  }
  return printListing(context, listingData(response), ['Path', 'Type', 'Accessor', 'Description'], mountRows(response));
}

/** What the `disable` and `list` commands of a mount table (sys/mounts or sys/auth) say and where they send it. */
export interface MountTable {
  api: 'sys/mounts' | 'sys/auth';
  noun: string;
  disableEffect: string;
  listing: string;
}

/** Registers `disable PATH` and `list` over a mount table, with Vault's messages; `secrets` and `auth` share them. */
export function registerMountTableCommands(group: Command, table: MountTable): void {
  group
    .command('disable')
    .description(`Disable the ${table.noun} at a path, ${table.disableEffect}`)
    .argument('<path>', 'mount path')
    .action(
      action(async (context, rawPath: string) => {
        const path = mountPathWithSlash(rawPath);
        const response = await context.call(`disabling ${table.noun} at ${path}`, () => context.client().delete(`${table.api}/${path}`));
        return printWriteResult(context, response, `Success! Disabled the ${table.noun} (if it existed) at: ${path}`);
      }),
    );

  group
    .command('list')
    .description(`List the enabled ${table.listing}`)
    .option('--detailed', 'show TTLs, options and UUIDs too')
    .action(
      action(async (context, options: { detailed?: boolean }) => {
        const response = await context.call(`listing ${table.listing}`, () => context.client().read(table.api));
        return printMountTable(context, response, options.detailed === true);
      }),
    );
}

/** Registers the `secrets` group. */
export function registerSecretsCommands(program: Command): void {
  const secrets = program.command('secrets').description('Enable, disable and list secrets engines');

  withMountFlags(secrets.command('enable'))
    .description('Enable a secrets engine (TYPE: kv, kv-v2, database, ...) at a path (default: its type)')
    .argument('<type>', 'engine type')
    .option('--version <n>', 'engine version; 2 selects KV v2')
    .action(
      action(async (context, type: string, options: EnableOptions) => {
        const path = enablePath(type, options);
        const version = options.version !== undefined ? parseIntegerFlag('version', options.version, 0) : undefined;
        const body = mountFlagsBody(type, options, version);
        await context.call(`enabling ${type} at ${path}`, () => context.client().write(`sys/mounts/${path}`, body, 'POST'));
        if (context.format === 'table') context.print(`Success! Enabled the ${type} secrets engine at: ${path}`);
        return 0;
      }),
    );

  registerMountTableCommands(secrets, {
    api: 'sys/mounts',
    noun: 'secrets engine',
    disableEffect: 'deleting all its data',
    listing: 'secrets engines',
  });
}
