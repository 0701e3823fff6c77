// `lease lookup|renew|revoke`: the sys/leases/ endpoints, with Vault's flags and messages.
import type { Command } from 'commander';
import { action, CliError, parseDurationFlag } from '../context';
import { printSecret } from '../output';

interface RenewOptions {
  increment?: string;
}

/** The flags of `lease revoke`. */
export interface RevokeOptions {
  prefix?: boolean;
  force?: boolean;
  sync?: boolean;
}

/** What `lease revoke` sends, names in its errors and prints on success. */
export interface LeaseRevokeRequest {
  path: string;
  body: Record<string, unknown>;
  what: string;
  success: string;
}

/** `lease revoke`'s request: one lease, every lease under a prefix, or (with -force) a forced prefix removal. */
export function leaseRevokeRequest(id: string, options: RevokeOptions): LeaseRevokeRequest {
  const sync = options.sync ?? false;
  const queued = 'All revocation operations queued successfully!';
  if (options.force) {
    if (!options.prefix) throw new CliError('Specifying -force requires also specifying -prefix', 1);
    return { path: `sys/leases/revoke-force/${id}`, body: {}, what: `force revoking leases with prefix ${id}`, success: `Success! Force revoked any leases with prefix: ${id}` };
  }
  if (options.prefix) {
    return { path: `sys/leases/revoke-prefix/${id}`, body: { sync }, what: `revoking leases with prefix ${id}`, success: sync ? `Success! Revoked any leases with prefix: ${id}` : queued };
  }
  return { path: 'sys/leases/revoke', body: { lease_id: id, sync }, what: `revoking lease ${id}`, success: sync ? `Success! Revoked lease: ${id}` : queued };
}

/** Registers the `lease` group. */
export function registerLeaseCommands(program: Command): void {
  const lease = program.command('lease').description('Look up, renew and revoke leases');

  lease
    .command('lookup')
    .description('Show the issue time, expiry and TTL of a lease')
    .argument('<id>', 'lease id, e.g. database/creds/readonly/AbC...')
    .action(
      action(async (context, id: string) => {
        const response = await context.call('looking up lease', () => context.client().write('sys/leases/lookup', { lease_id: id.trim() }));
        return printSecret(context, response ?? {});
      }),
    );

  lease
    .command('renew')
    .description('Extend a lease by -increment from now, within its maximum TTL')
    .argument('<id>', 'lease id')
    .option('-i, --increment <duration>', 'requested TTL from now, e.g. 1h (default: the lease\'s TTL)')
    .action(
      action(async (context, rawId: string, options: RenewOptions) => {
        const id = rawId.trim();
        const body: Record<string, unknown> = { lease_id: id };
        if (options.increment !== undefined) body.increment = parseDurationFlag('increment', options.increment);
        const response = await context.call(`renewing ${id}`, () => context.client().write('sys/leases/renew', body));
        return printSecret(context, response ?? {});
      }),
    );

  lease
    .command('revoke')
    .description('Revoke a lease, or every lease under a prefix with -prefix')
    .argument('<id>', 'lease id, or a prefix with -prefix')
    .option('--prefix', 'treat the argument as a prefix and revoke every lease under it (root-protected)')
    .option('--force', 'with -prefix: forget the leases even if the engine fails to revoke them (root-protected)')
    .option('--sync', 'wait for the revocation instead of queuing it')
    .action(
      action(async (context, rawId: string, options: RevokeOptions) => {
        const id = rawId.trim();
        const request = leaseRevokeRequest(id, options);
        if (options.force) context.warn('Warning! Force-removing leases can cause Leasehold to become out of sync with secrets engines!');
        await context.call(request.what, () => context.client().write(request.path, request.body));
        if (context.format === 'table') context.print(request.success);
        return 0;
      }),
    );
}
