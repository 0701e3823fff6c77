// `server`: starts a Leasehold server (dev mode or on a data directory) and stops it on SIGINT/SIGTERM.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import type { RunningServer, ServerOptions } from '../../server';
import { action, CliError, parseIntegerFlag } from '../context';
import { applyVaultConfigFile, isLegacyConfigFile } from './server-config-file';

interface ServerFlags {
  dev?: boolean;
  devRootTokenId?: string;
  listen?: string;
  data?: string;
  config?: string;
  logLevel?: string;
  snapshotMaxBytes?: string;
}

/** The log levels the server's logger knows. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The highest snapshot upload limit one may set: 64 GiB. */
const SNAPSHOT_MAX_BYTES_CEILING = 64 * 1024 ** 3;

/** The config file: JSON with the same settings as the flags (flags win). */
export const serverConfigSchema = z
  .object({
    listen: z.string().min(1).max(300).describe('HOST:PORT to listen on, e.g. 127.0.0.1:8200').optional(),
    data_dir: z.string().min(1).max(4096).describe('directory of the encrypted database').optional(),
    log_level: z.enum(LOG_LEVELS).describe('log level').optional(),
    revoke_max_attempts: z.number().int().min(1).max(1000).describe('failed revocation attempts before a lease is irrevocable').optional(),
    revoke_backoff_base_ms: z.number().int().min(1).max(3_600_000).describe('first wait after a failed revocation, in ms (doubles per attempt)').optional(),
    revoke_backoff_max_ms: z.number().int().min(1).max(86_400_000).describe('longest wait between revocation attempts, in ms').optional(),
    snapshot_max_bytes: z.number().int().min(1).max(SNAPSHOT_MAX_BYTES_CEILING).describe('largest snapshot file sys/storage/snapshot-restore accepts, in bytes').optional(),
    pending_lease_grace_ms: z
      .number()
      .int()
      .min(1000)
      .max(3_600_000)
      .describe('how long a credential may take to be created before its unfinished issuance is revoked, in ms (default 60000)')
      .optional(),
    max_pending_wraps_per_token: z.number().int().min(1).max(1_000_000).describe('unexpired response-wrapping tokens one token may have pending').optional(),
  })
  .strict();

/** Parsed contents of a `--config` file. */
export type ServerConfig = z.infer<typeof serverConfigSchema>;

/** Parses a config file's text; errors name the field, never a value. */
export function parseServerConfig(text: string, fileName: string): ServerConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new CliError(`Error: config file ${JSON.stringify(fileName)} is not valid JSON`, 1);
  }
  const parsed = serverConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at "${issue.path.join('.')}"` : '';
    throw new CliError(`Error: config file ${JSON.stringify(fileName)}: ${issue?.code ?? 'invalid'}${where}`, 1);
  }
  return parsed.data;
}

/** Flags over config file; defaults (listen address, log level) are the server's. */
export function resolveServerOptions(flags: ServerFlags, config: ServerConfig = {}): ServerOptions {
  const dev = flags.dev === true;
  if (flags.devRootTokenId !== undefined && !dev) throw new CliError('Error: -dev-root-token-id requires -dev', 1);
  const logLevel = flags.logLevel ?? config.log_level;
  if (logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new CliError(`Error: -log-level must be one of ${LOG_LEVELS.join(', ')}`, 1);
  }
  const options: ServerOptions = { dev };
  const listen = flags.listen ?? config.listen;
  const dataDir = flags.data ?? config.data_dir;
  if (listen !== undefined) options.listen = listen;
  if (dataDir !== undefined) options.dataDir = dataDir;
  if (flags.devRootTokenId !== undefined) options.devRootTokenId = flags.devRootTokenId;
  if (logLevel !== undefined) options.logLevel = logLevel;
  if (config.revoke_max_attempts !== undefined) options.revokeMaxAttempts = config.revoke_max_attempts;
  if (config.revoke_backoff_base_ms !== undefined) options.revokeBackoffBaseMs = config.revoke_backoff_base_ms;
  if (config.revoke_backoff_max_ms !== undefined) options.revokeBackoffMaxMs = config.revoke_backoff_max_ms;
  if (flags.snapshotMaxBytes !== undefined) {
    const bytes = parseIntegerFlag('snapshot-max-bytes', flags.snapshotMaxBytes, 1);
    if (bytes > SNAPSHOT_MAX_BYTES_CEILING) throw new CliError(`Error: -snapshot-max-bytes must be at most ${SNAPSHOT_MAX_BYTES_CEILING}`, 1);
    options.snapshotMaxBytes = bytes;
  } else if (config.snapshot_max_bytes !== undefined) {
    options.snapshotMaxBytes = config.snapshot_max_bytes;
  }
  if (config.pending_lease_grace_ms !== undefined) options.pendingLeaseGraceMs = config.pending_lease_grace_ms;
  if (config.max_pending_wraps_per_token !== undefined) options.maxPendingWrapsPerToken = config.max_pending_wraps_per_token;
  return options;
}

/**
 * What `vault server -dev` prints: where it listens, the env hints, and the unseal key and root
 * token. Dev mode is the only case where the server command shows them.
 */
export function formatDevBanner(server: Pick<RunningServer, 'url' | 'rootToken' | 'unsealKey'>): string {
  return [
    '==> Leasehold server started! Log data will stream in below:',
    '',
    `             Api Address: ${server.url}`,
    '',
    'WARNING! dev mode is enabled! In this mode, Leasehold runs entirely in-memory',
    'and starts unsealed with a single unseal key.',
    '',
    'You may need to set the following environment variables:',
    '',
    `    $ export LEASEHOLD_ADDR='${server.url}'`,
    `    $ export VAULT_ADDR='${server.url}'`,
    '',
    'The unseal key and root token are displayed below in case you want to',
    'seal/unseal Leasehold or re-authenticate.',
    '',
    `Unseal Key: ${server.unsealKey ?? ''}`,
    `Root Token: ${server.rootToken ?? ''}`,
    '',
    'Development mode should NOT be used in production installations!',
    '',
  ].join('\n');
}

/** The banner of a normal server: the address only; keys and tokens never appear. */
export function formatServerBanner(server: Pick<RunningServer, 'url'>): string {
  return ['==> Leasehold server started! Log data will stream in below:', '', `             Api Address: ${server.url}`, ''].join('\n');
}

async function loadStartServer(): Promise<(options: ServerOptions) => Promise<RunningServer>> {
  // Loaded on demand: client commands should not pay for the HTTP stack, SQLite and the engines.
  return (await import('../../server.js')).startServer;
}

/** Registers `server`. */
export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description('Start a Leasehold server')
    .option('--dev', 'in-memory, initialised and unsealed development server; prints the root token')
    .option('--dev-root-token-id <id>', 'root token to use in dev mode (default: random)')
    .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:8200)')
    .option('--data <dir>', 'directory of the encrypted database')
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')}`)
    .option('--snapshot-max-bytes <n>', 'largest snapshot file a restore accepts (default 1 GiB; other requests keep 32 MiB)')
    .option('--config <file>', 'config file or directory: Vault\'s HCL/JSON (storage, listener "tcp", ...), or the flat JSON {"listen", "data_dir", "log_level"}')
    .action(
      action(async (context, flags: ServerFlags) => {
        // A Vault-style HCL/JSON file or directory, or Leasehold's older flat JSON file.
        const vaultStyle = flags.config !== undefined && !isLegacyConfigFile(flags.config);
        const config = flags.config !== undefined && !vaultStyle ? parseServerConfig(await readConfig(flags.config), flags.config) : {};
        let options = resolveServerOptions(flags, config);
        if (vaultStyle && flags.config !== undefined) {
          const loaded = applyVaultConfigFile(flags.config, flags, options);
          options = loaded.options;
          for (const note of loaded.notes) context.warn(`==> Note: ${note}`);
        }
        const startServer = await loadStartServer();
        let server: RunningServer;
        try {
          server = await startServer(options);
        } catch (error) {
          throw new CliError(`Error starting server: ${(error as Error).message}`, 1);
        }
        context.print(options.dev ? formatDevBanner(server) : formatServerBanner(server));
        return waitForShutdown(context.warn, server);
      }),
    );
}

async function readConfig(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`Error: cannot read config file ${JSON.stringify(path)} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, 1);
  }
}

/** Resolves with the exit code once a signal has closed the server; a second signal exits at once. */
function waitForShutdown(warn: (text: string) => void, server: RunningServer): Promise<number> {
  return new Promise<number>((resolve) => {
    let closing = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (closing) {
        warn(`==> ${signal} again: exiting without a clean shutdown`);
        process.exit(1);
      }
      closing = true;
      warn(`==> Leasehold shutdown triggered (${signal})`);
      server.close().then(
        () => finish(0),
        (error: unknown) => {
          warn(`Error during shutdown: ${error instanceof Error ? error.message : String(error)}`);
          finish(1);
        },
      );
    };
    const finish = (code: number): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(code);
      // Whatever the server left open (keep-alive sockets, timers) must not keep the process alive.
      setImmediate(() => process.exit(code));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
