// `secrets enable|disable|list`: managing secrets engine mounts through sys/mounts.
import type { Command } from 'commander';
import { isRecord, sanitizePath, type VaultResponse } from '../client';
import { action, CliError, collectValues, parseIntegerFlag } from '../context';
import { formatJson, formatTable } from '../format';
import { parseFlagPairs } from '../key-value-args';
import { printWriteResult } from '../output';

interface EnableOptions {
  path?: string;
  description?: string;
  version?: string;
  defaultLeaseTtl?: string;
  maxLeaseTtl?: string;
  options: string[];
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

/** The rows of `vault secrets list`, sorted by path. */
export function mountRows(response: VaultResponse | undefined): string[][] {
  // sys/mounts answers under `data` and, for node-vault's sake, also at the top level.
  const mounts = isRecord(response?.data) ? response.data : isRecord(response) ? response : {};
  return Object.keys(mounts)
    .filter((path) => path.endsWith('/') && isRecord(mounts[path]))
    .sort()
    .map((path) => {
      const mount = mounts[path] as Record<string, unknown>;
      const text = (value: unknown): string => (typeof value === 'string' ? value : value === undefined || value === null ? 'n/a' : String(value));
      return [path, text(mount.type), text(mount.accessor), text(mount.description)];
    });
}

/** Registers the `secrets` group. */
export function registerSecretsCommands(program: Command): void {
  const secrets = program.command('secrets').description('Enable, disable and list secrets engines');

  secrets
    .command('enable')
    .description('Enable a secrets engine (TYPE: kv, kv-v2, database, ...) at a path (default: its type)')
    .argument('<type>', 'engine type')
    .option('--path <path>', 'mount path (default: the type)')
    .option('--description <text>', 'human-readable description of the mount')
    .option('--version <n>', 'engine version; 2 selects KV v2')
    .option('--default-lease-ttl <duration>', 'default lease TTL for this mount, e.g. 1h')
    .option('--max-lease-ttl <duration>', 'maximum lease TTL for this mount, e.g. 24h')
    .option('--options <k=v>', 'engine option (repeatable)', collectValues, [])
    .action(
      action(async (context, type: string, options: EnableOptions) => {
        const path = mountPathWithSlash(options.path ?? type);
        if (path === '/') throw new CliError('Error: the mount path cannot be empty', 1);
        const engineOptions = parseFlagPairs('options', options.options);
        const config: Record<string, unknown> = {};
        if (options.defaultLeaseTtl !== undefined) config.default_lease_ttl = options.defaultLeaseTtl;
        if (options.maxLeaseTtl !== undefined) config.max_lease_ttl = options.maxLeaseTtl;
        const body = enableRequestBody(type, {
          ...(options.description !== undefined ? { description: options.description } : {}),
          ...(options.version !== undefined ? { version: parseIntegerFlag('version', options.version, 0) } : {}),
          config,
          engineOptions,
        });
        await context.call(`enabling ${type} at ${path}`, () => context.client().write(`sys/mounts/${path}`, body, 'POST'));
        if (context.format === 'table') context.print(`Success! Enabled the ${type} secrets engine at: ${path}`);
        return 0;
      }),
    );

  secrets
    .command('disable')
    .description('Disable the secrets engine at a path, deleting all its data')
    .argument('<path>', 'mount path')
    .action(
      action(async (context, rawPath: string) => {
        const path = mountPathWithSlash(rawPath);
        const response = await context.call('disabling secrets engine', () => context.client().delete(`sys/mounts/${path}`));
        return printWriteResult(context, response, `Success! Disabled the secrets engine (if it existed) at: ${path}`);
      }),
    );

  secrets
    .command('list')
    .description('List the enabled secrets engines')
    .action(
      action(async (context) => {
        const response = await context.call('listing secrets engines', () => context.client().read('sys/mounts'));
        if (context.format === 'json') {
          context.print(formatJson(isRecord(response?.data) ? response.data : (response ?? {})));
          return 0;
        }
        context.print(formatTable(['Path', 'Type', 'Accessor', 'Description'], mountRows(response)));
        return 0;
      }),
    );
}
