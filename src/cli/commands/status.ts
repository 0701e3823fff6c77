// `status`: the seal status, with Vault's exit codes (0 unsealed, 2 sealed, 1 error).
import type { Command } from 'commander';
import { isRecord, type VaultResponse } from '../client';
import { action, CliError, type CommandContext } from '../context';
import { formatStructured, formatKeyValueTable } from '../format';

/** Vault's exit code for a sealed server, which scripts test (`until leasehold status; do ...`). */
export const EXIT_SEALED = 2;

/** The rows of `vault status`, in Vault's order; fields the server did not send are left out. */
export function sealStatusEntries(status: Record<string, unknown>): Array<[string, unknown]> {
  const entries: Array<[string, unknown]> = [
    ['Seal Type', status.type],
    ['Initialized', status.initialized],
    ['Sealed', status.sealed],
    ['Total Shares', status.n],
    ['Threshold', status.t],
  ];
  if (status.sealed === true) {
    entries.push(['Unseal Progress', `${String(status.progress ?? 0)}/${String(status.t ?? 0)}`]);
    entries.push(['Unseal Nonce', status.nonce ?? '']);
  }
  if (status.migration === true) entries.push(['Seal Migration in Progress', true]);
  entries.push(['Version', status.version], ['Build Date', status.build_date], ['Storage Type', status.storage_type]);
  if (status.cluster_name && status.cluster_id) entries.push(['Cluster Name', status.cluster_name], ['Cluster ID', status.cluster_id]);
  return entries.filter(([, value]) => value !== undefined);
}

/** Prints a seal-status answer (from seal-status or unseal) and returns the status exit code. */
export function printSealStatus(context: CommandContext, response: VaultResponse | undefined): number {
  const status = isRecord(response) ? response : {};
  context.print(context.format !== 'table' ? formatStructured(status, context.format) : formatKeyValueTable(sealStatusEntries(status)));
  return status.sealed === true ? EXIT_SEALED : 0;
}

/** Registers `status`. */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('Show the seal status (exit code 0: unsealed, 2: sealed, 1: error)')
    .action(
      action(async (context) => {
        try {
          const response = await context.call('checking seal status', () => context.client().read('sys/seal-status'));
          return printSealStatus(context, response);
        } catch (error) {
          // Exit code 2 means "sealed" here, so a failed request must be 1.
          if (error instanceof CliError) throw new CliError(error.message, 1);
          throw error;
        }
      }),
    );
}
