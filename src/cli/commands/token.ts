// `token create|lookup|renew|revoke|capabilities`: the auth/token/ endpoints and sys/capabilities, with Vault's flags.
import type { Command } from 'commander';
import { isRecord, type VaultResponse } from '../client';
import { action, CliError, collectValues, type CommandContext, parseDurationFlag, parseIntegerFlag } from '../context';
import { formatStructured } from '../format';
import { parseFlagPairs } from '../key-value-args';
import { printSecret, printWriteResult } from '../output';

/** One request of a token command: a body means PUT, none means GET. */
export interface TokenRequest {
  path: string;
  body?: Record<string, unknown>;
}

/** The flags of `token create`. */
export interface CreateOptions {
  policy: string[];
  metadata: string[];
  ttl?: string;
  explicitMaxTtl?: string;
  period?: string;
  useLimit?: string;
  numUses?: string;
  displayName?: string;
  orphan?: boolean;
  renewable?: boolean;
  /** False with `-no-default-policy`. */
  defaultPolicy?: boolean;
  role?: string;
  field?: string;
}

interface AccessorOptions {
  accessor?: boolean;
}

interface RenewOptions extends AccessorOptions {
  increment?: string;
}

/** The flags of `token revoke`. */
export interface RevokeOptions extends AccessorOptions {
  self?: boolean;
  mode?: string;
}

/**
 * `token create`'s request: through a role with `-role`, to create-orphan with `-orphan` (so a
 * policy on that path suffices), else to create. TTLs go as typed; the server parses durations.
 */
export function tokenCreateRequest(options: CreateOptions): TokenRequest {
  const body: Record<string, unknown> = {};
  const policies = options.policy.flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value !== '');
  if (policies.length > 0) body.policies = policies;
  if (options.metadata.length > 0) body.meta = parseFlagPairs('metadata', options.metadata);
  if (options.ttl !== undefined) body.ttl = options.ttl;
  if (options.explicitMaxTtl !== undefined) body.explicit_max_ttl = options.explicitMaxTtl;
  if (options.period !== undefined) body.period = options.period;
  const uses = options.useLimit ?? options.numUses;
  if (uses !== undefined) body.num_uses = parseIntegerFlag(options.useLimit !== undefined ? 'use-limit' : 'num-uses', uses);
  if (options.displayName !== undefined) body.display_name = options.displayName;
  if (options.renewable !== undefined) body.renewable = options.renewable;
  if (options.defaultPolicy === false) body.no_default_policy = true;
  if (options.role !== undefined) {
    if (options.orphan) body.no_parent = true;
    return { path: `auth/token/create/${options.role}`, body };
  }
  return { path: options.orphan ? 'auth/token/create-orphan' : 'auth/token/create', body };
}

/** `token lookup`'s request: lookup-self (a GET, which the default policy allows) without an argument. */
export function tokenLookupRequest(token: string | undefined, options: AccessorOptions): TokenRequest {
  if (token === undefined) {
    if (options.accessor) throw new CliError('Not enough arguments with -accessor (expected 1, got 0)', 1);
    return { path: 'auth/token/lookup-self' };
  }
  return options.accessor ? { path: 'auth/token/lookup-accessor', body: { accessor: token } } : { path: 'auth/token/lookup', body: { token } };
}

/** `token renew`'s request: renew-self without an argument, renew-accessor with -accessor, else renew. */
export function tokenRenewRequest(token: string | undefined, options: AccessorOptions, increment?: number): TokenRequest {
  const body: Record<string, unknown> = increment !== undefined ? { increment } : {};
  if (token === undefined) return { path: 'auth/token/renew-self', body };
  return { path: options.accessor ? 'auth/token/renew-accessor' : 'auth/token/renew', body: { ...body, [options.accessor ? 'accessor' : 'token']: token } };
}

/** `token revoke`'s request, refusing the flag combinations Vault's CLI refuses; -mode=path revokes by prefix. */
export function tokenRevokeRequest(token: string | undefined, options: RevokeOptions): TokenRequest {
  const mode = options.mode ?? '';
  if (!['', 'orphan', 'path'].includes(mode)) throw new CliError(`Invalid mode: ${mode}`, 1);
  if (options.self && token !== undefined) throw new CliError('Too many arguments with -self (expected 0, got 1)', 1);
  if (!options.self && token === undefined) throw new CliError('Not enough arguments (expected 1 or -self, got 0)', 1);
  if (options.self && options.accessor) throw new CliError('Cannot use -self with -accessor!', 1);
  if (options.self && mode !== '') throw new CliError('Cannot use -self with -mode!', 1);
  if (options.accessor && mode !== '') throw new CliError(`Cannot use -accessor with -mode=${mode}!`, 1);
  if (options.self || token === undefined) return { path: 'auth/token/revoke-self', body: {} };
  if (options.accessor) return { path: 'auth/token/revoke-accessor', body: { accessor: token } };
  if (mode === 'orphan') return { path: 'auth/token/revoke-orphan', body: { token } };
  if (mode === 'path') return { path: `sys/leases/revoke-prefix/${token}`, body: {} };
  return { path: 'auth/token/revoke', body: { token } };
}

/** `token capabilities [TOKEN] PATH`: sys/capabilities for a given token, else sys/capabilities-self. */
export function capabilitiesRequest(token: string | undefined, path: string): TokenRequest {
  return token === undefined ? { path: 'sys/capabilities-self', body: { path } } : { path: 'sys/capabilities', body: { token, path } };
}

/** The capabilities in a sys/capabilities answer: under the path, else under `capabilities`, as Vault's client reads them. */
export function capabilitiesFrom(response: VaultResponse | undefined, path: string): string[] | undefined {
  const data = isRecord(response?.data) ? response.data : {};
  const list = Array.isArray(data[path]) ? data[path] : Array.isArray(data.capabilities) ? data.capabilities : undefined;
  return list?.map(String);
}

/** A lookup or renewal answer with the token value blanked: the CLI shows a token only where it is created. */
export function withoutTokenValue(response: VaultResponse | undefined): VaultResponse {
  const hidden: VaultResponse = { ...response };
  if (isRecord(hidden.data) && typeof hidden.data.id === 'string') hidden.data = { ...hidden.data, id: '' };
  if (isRecord(hidden.auth) && typeof hidden.auth.client_token === 'string') hidden.auth = { ...hidden.auth, client_token: '' };
  return hidden;
}

function send(context: CommandContext, what: string, request: TokenRequest): Promise<VaultResponse | undefined> {
  return context.call(what, () => (request.body === undefined ? context.client().read(request.path) : context.client().write(request.path, request.body)));
}

/** Registers the `token` group. */
export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('Create, look up, renew and revoke tokens');

  token
    .command('create')
    .description('Create a child token (prints the new token, as Vault does)')
    .option('--policy <name>', 'policy of the token (repeatable; default: the caller\'s policies)', collectValues, [])
    .option('--metadata <k=v>', 'metadata recorded with the token (repeatable)', collectValues, [])
    .option('--ttl <duration>', 'initial TTL, e.g. 1h')
    .option('--explicit-max-ttl <duration>', 'hard limit on the lifetime, renewals included')
    .option('--period <duration>', 'make a periodic token renewed by this period (root or sudo)')
    .option('--use-limit <n>', 'number of uses before the token is revoked (0: unlimited)')
    .option('--num-uses <n>', 'same as -use-limit')
    .option('--display-name <name>', 'display name of the token')
    .option('--orphan', 'create the token without a parent (auth/token/create-orphan)')
    .option('--renewable', 'allow renewal (the server default)')
    .option('--no-renewable', 'forbid renewal')
    .option('--no-default-policy', 'do not attach the "default" policy')
    .option('--role <name>', 'create the token through this token role')
    .option('--field <name>', 'print only this field (e.g. token), without a trailing newline')
    .action(
      action(async (context, options: CreateOptions) => {
        const response = await send(context, 'creating token', tokenCreateRequest(options));
        return printSecret(context, response ?? {}, options.field);
      }),
    );

  token
    .command('lookup')
    .description('Show the properties of a token (default: the current one); the token value is not printed')
    .argument('[token]', 'the token, or its accessor with -accessor')
    .option('--accessor', 'treat the argument as an accessor')
    .option('--field <name>', 'print only this field')
    .action(
      action(async (context, value: string | undefined, options: AccessorOptions & { field?: string }) => {
        const response = await send(context, 'looking up token', tokenLookupRequest(value?.trim(), options));
        return printSecret(context, withoutTokenValue(response), options.field);
      }),
    );

  token
    .command('renew')
    .description('Extend the TTL of a token (default: the current one)')
    .argument('[token]', 'the token, or its accessor with -accessor')
    .argument('[increment]', 'requested TTL from now, as `vault token renew TOKEN 2h` takes it (same as -increment)')
    .option('--accessor', 'treat the argument as an accessor')
    .option('-i, --increment <duration>', 'requested TTL from now, e.g. 30m (default: the token\'s TTL)')
    .action(
      action(async (context, value: string | undefined, positional: string | undefined, options: RenewOptions) => {
        const given = options.increment ?? positional;
        const increment = given !== undefined ? parseDurationFlag('increment', given) : undefined;
        const response = await send(context, 'renewing token', tokenRenewRequest(value?.trim(), options, increment));
        return printSecret(context, withoutTokenValue(response));
      }),
    );

  token
    .command('revoke')
    .description('Revoke a token with its children and leases (-mode=orphan: not its children)')
    .argument('[token]', 'the token, its accessor with -accessor, or an auth path prefix with -mode=path')
    .option('--accessor', 'treat the argument as an accessor')
    .option('--self', 'revoke the current token')
    .option('--mode <mode>', '"orphan": keep the children as orphans; "path": revoke every token under an auth path')
    .action(
      action(async (context, value: string | undefined, options: RevokeOptions) => {
        const response = await send(context, 'revoking token', tokenRevokeRequest(value?.trim(), options));
        return printWriteResult(context, response, 'Success! Revoked token (if it existed)');
      }),
    );

  token
    .command('capabilities')
    .description("Show a token's capabilities on a path (default: the current token's)")
    .argument('<tokenOrPath>', 'the token, or PATH when no token is given')
    .argument('[path]', 'the path, e.g. secret/data/app')
    .action(
      action(async (context, first: string, second: string | undefined) => {
        const path = second ?? first;
        const value = second === undefined ? undefined : first.trim();
        const response = await send(context, 'listing capabilities', capabilitiesRequest(value, path));
        const capabilities = capabilitiesFrom(response, path);
        if (capabilities === undefined) throw new CliError('No capabilities found', 1);
        context.print(context.format !== 'table' ? formatStructured(capabilities, context.format) : [...capabilities].sort().join(', '));
        return 0;
      }),
    );
}
