// What every command action gets: the output format, a lazily built client, and uniform error handling.
import { Command } from 'commander';
import { parseDurationSeconds } from '../util/duration';
import { ApiError, ConnectionError, resolveConnection, VaultClient } from './client';
import { type OutputFormat, parseOutputFormat } from './format';
import { KeyValueError } from './key-value-args';
import { PromptAbortedError } from './terminal';

/** A failure the CLI reports as one message and an exit code (1: usage, 2: the request failed, as in Vault). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The global options (`--address`, `--format`) every client command accepts, before or after its name. */
export interface GlobalOptions {
  address?: string;
  format?: string;
  wrapTtl?: string;
  header?: string[];
}

/** The header Leasehold reads a justification from. */
export const JUSTIFICATION_HEADER = 'X-Leasehold-Justification';

/**
 * The extra headers of `-header K=V` (repeatable) and LEASEHOLD_JUSTIFICATION (a `-header` for the
 * justification wins). `X-Vault-*` headers are refused: the token and the wrap TTL have their own settings.
 */
export function extraHeaders(flags: readonly string[] | undefined, env: NodeJS.ProcessEnv): Record<string, string> {
  const headers: Record<string, string> = {};
  const justification = env.LEASEHOLD_JUSTIFICATION?.trim();
  if (justification) headers[JUSTIFICATION_HEADER] = justification;
  for (const flag of flags ?? []) {
    const eq = flag.indexOf('=');
    const key = eq < 0 ? '' : flag.slice(0, eq).trim();
    const value = eq < 0 ? '' : flag.slice(eq + 1);
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(key)) throw new Error(`-header must be KEY=VALUE with a valid header name, got ${JSON.stringify(flag.slice(0, 64))}`);
    if (/[\r\n\0]/.test(value)) throw new Error(`-header ${key}: the value must be a single line`);
    if (key.toLowerCase().startsWith('x-vault-')) throw new Error(`-header ${key}: X-Vault-* headers cannot be set this way`);
    const existing = Object.keys(headers).find((k) => k.toLowerCase() === key.toLowerCase());
    if (existing !== undefined) delete headers[existing];
    headers[key] = value;
  }
  return headers;
}

/** Per-invocation state handed to each command action. */
export interface CommandContext {
  readonly format: OutputFormat;
  /** Built on first use, so `--address` and the token are only checked by commands that talk to a server. */
  client(): VaultClient;
  /** Writes a line to stdout. */
  print(text: string): void;
  /** Writes to stdout without a newline (`-field` output, as Vault does for piping). */
  printRaw(text: string): void;
  /** Writes a line to stderr. */
  warn(text: string): void;
  /** Runs a request; a failure becomes "Error <what>: <reason>" with exit code 2. */
  call<T>(what: string, work: () => Promise<T>): Promise<T>;
}

/** Whether `-format` was given on the command line (not just its default), so that VAULT_FORMAT applies otherwise, as in Vault. */
function formatFlagGiven(command: Command): boolean {
  for (let c: Command | null = command; c; c = c.parent) {
    if (c.options.some((option) => option.attributeName() === 'format')) return c.getOptionValueSource('format') === 'cli';
  }
  return false;
}

/** Builds the context from the global options of `command` and its parents. */
export function contextFor(command: Command, env: NodeJS.ProcessEnv = process.env): CommandContext {
  const globals = command.optsWithGlobals<GlobalOptions>();
  let format: OutputFormat;
  try {
    format = parseOutputFormat(formatFlagGiven(command) ? (globals.format ?? 'table') : (env.LEASEHOLD_FORMAT ?? env.VAULT_FORMAT ?? globals.format ?? 'table'));
  } catch (error) {
    throw new CliError(`Error: ${(error as Error).message}`, 1);
  }
  let client: VaultClient | undefined;
  return {
    format,
    client() {
      if (client === undefined) {
        try {
          const settings = resolveConnection(globals.address, env);
          const wrapTtl = globals.wrapTtl?.trim() || env.LEASEHOLD_WRAP_TTL?.trim() || env.VAULT_WRAP_TTL?.trim();
          if (wrapTtl) {
            if (parseDurationSeconds(wrapTtl) === undefined) throw new Error(`-wrap-ttl must be a duration such as 30s, 5m or 3600`);
            settings.wrapTtl = wrapTtl;
          }
          const headers = extraHeaders(globals.header, env);
          if (Object.keys(headers).length > 0) settings.headers = headers;
          client = new VaultClient(settings);
        } catch (error) {
          throw new CliError(`Error: ${(error as Error).message}`, 1);
        }
      }
      return client;
    },
    print: (text) => void process.stdout.write(`${text}\n`),
    printRaw: (text) => void process.stdout.write(text),
    warn: (text) => void process.stderr.write(`${text}\n`),
    async call<T>(what: string, work: () => Promise<T>): Promise<T> {
      try {
        return await work();
      } catch (error) {
        if (error instanceof ApiError || error instanceof ConnectionError) throw new CliError(`Error ${what}: ${error.message}`, 2);
        throw error;
      }
    },
  };
}

/**
 * Wraps a command body for commander: builds its context, maps its result to the exit code and
 * any error to one stderr message. Errors are printed by message only, never with request
 * headers, so the token cannot leak through them.
 */
export function action<Args extends unknown[]>(
  run: (context: CommandContext, ...args: Args) => Promise<number | void>,
): (...args: Args) => Promise<void> {
  return async (...args: Args) => {
    try {
      const command = args[args.length - 1];
      if (!(command instanceof Command)) throw new Error('internal: commander did not pass the command');
      process.exitCode = (await run(contextFor(command), ...args)) ?? 0;
    } catch (error) {
      process.stderr.write(`${describeError(error)}\n`);
      process.exitCode = exitCodeFor(error);
    }
  };
}

function describeError(error: unknown): string {
  if (error instanceof CliError) return error.message;
  if (error instanceof KeyValueError) return `Failed to parse K=V data: ${error.message}`;
  if (error instanceof PromptAbortedError) return 'Error: input aborted';
  return `Error: ${error instanceof Error ? error.message : String(error)}`;
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof KeyValueError || error instanceof PromptAbortedError) return 1;
  return 2;
}

/** Parses an integer flag (`-version=3`, `-key-shares=5`) or fails as a usage error naming the flag. */
export function parseIntegerFlag(flag: string, value: string, minimum = 0): number {
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < minimum || !Number.isSafeInteger(Number(value))) {
    throw new CliError(`Error: -${flag} must be an integer of at least ${minimum}`, 1);
  }
  return Number(value);
}

/** Parses a duration flag (`-increment=30m`, `-increment=3600`) into seconds, or fails as a usage error naming the flag. */
export function parseDurationFlag(flag: string, value: string): number {
  const seconds = parseDurationSeconds(value);
  if (seconds === undefined) throw new CliError(`Error: -${flag} must be a duration such as 30s, 1h or 3600`, 1);
  return seconds;
}

/** Commander's accumulator for repeatable options (`-versions 1 -versions 2`, `-custom-metadata a=b`). */
export function collectValues(value: string, previous: readonly string[]): string[] {
  return [...previous, value];
}
