// `control-group request|authorize|deny|pending`: Vault Enterprise's sys/control-group/request and
// authorize, and Leasehold's deny and pending list, by the wrapping token's accessor.
import type { Command } from 'commander';
import { isRecord } from '../client';
import { action, CliError } from '../context';
import { formatKeyValueTable, formatStructured, formatTable, tableCell } from '../format';

function accessorArg(accessor: string): string {
  const trimmed = accessor.trim();
  if (trimmed === '') throw new CliError('Error: ACCESSOR must not be empty', 1);
  return trimmed;
}

const show = (value: unknown): string => (value === null || value === undefined || value === '' ? '-' : tableCell(value));

/** Registers the `control-group` group. */
export function registerControlGroupCommands(program: Command): void {
  const group = program.command('control-group').description('Check, approve, deny and list control group requests (by wrapping token accessor)');

  group
    .command('request')
    .description('Show a control group request: path, requester, approvals so far, justification and expiry')
    .argument('<accessor>', 'the accessor of the control group wrapping token')
    .action(
      action(async (context, accessor: string) => {
        const response = await context.call('reading the control group request', () => context.client().write('sys/control-group/request', { accessor: accessorArg(accessor) }));
        const data = isRecord(response?.data) ? response.data : {};
        if (context.format !== 'table') {
          context.print(formatStructured(data, context.format));
          return 0;
        }
        const entity = isRecord(data.request_entity) ? data.request_entity : {};
        const authorizations = Array.isArray(data.authorizations) ? (data.authorizations as Record<string, unknown>[]) : [];
        context.print(
          formatKeyValueTable([
            ['approved', data.approved ?? false],
            ['state', show(data.state)],
            ['request_path', show(data.request_path)],
            ['request_entity', entity.name ? `${String(entity.name)} (${String(entity.id)})` : show(entity.id)],
            ['justification', show(data.justification)],
            ['expire_time', show(data.expire_time)],
            ['authorizations', authorizations.length === 0 ? '-' : authorizations.map((a) => `${String(a.entity_name || a.entity_id)}`).join(', ')],
          ]),
        );
        return 0;
      }),
    );

  group
    .command('authorize')
    .description("Add your entity's approval to a control group request")
    .argument('<accessor>', 'the accessor of the control group wrapping token')
    .action(
      action(async (context, accessor: string) => {
        const response = await context.call('authorizing the control group request', () => context.client().write('sys/control-group/authorize', { accessor: accessorArg(accessor) }));
        const data = isRecord(response?.data) ? response.data : {};
        context.print(context.format !== 'table' ? formatStructured(data, context.format) : formatKeyValueTable([['approved', data.approved ?? false]]));
        return 0;
      }),
    );

  group
    .command('deny')
    .description('End a control group request; its wrapping token can no longer run it')
    .argument('<accessor>', 'the accessor of the control group wrapping token')
    .option('--reason <text>', 'why (required; recorded in the ledger)')
    .action(
      action(async (context, accessor: string, options: { reason?: string }) => {
        const reason = options.reason?.trim();
        if (!reason) throw new CliError('Error: -reason is required', 1);
        await context.call('denying the control group request', () => context.client().write('sys/control-group/deny', { accessor: accessorArg(accessor), reason }));
        context.print(`Success! Denied the control group request ${accessorArg(accessor)}`);
        return 0;
      }),
    );

  group
    .command('pending')
    .description('List the pending control group requests you may approve')
    .action(
      action(async (context) => {
        const response = await context.call('listing pending control group requests', () => context.client().list('sys/control-group/pending'));
        const data = isRecord(response?.data) ? response.data : { keys: [], key_info: {} };
        if (context.format !== 'table') {
          context.print(formatStructured(data, context.format));
          return 0;
        }
        const keys = Array.isArray(data.keys) ? (data.keys as string[]) : [];
        if (keys.length === 0) {
          context.warn('No pending control group requests you may approve.');
          return 0;
        }
        const info = isRecord(data.key_info) ? data.key_info : {};
        const rows = keys.map((key) => {
          const entry = isRecord(info[key]) ? (info[key] as Record<string, unknown>) : {};
          const entity = isRecord(entry.request_entity) ? entry.request_entity : {};
          const approvals = Array.isArray(entry.approvals) ? entry.approvals.length : 0;
          return [key, show(entry.request_path), show(entity.name || entity.id), show(entry.justification), String(approvals), show(entry.expire_time)];
        });
        context.print(formatTable(['Accessor', 'Path', 'Requester', 'Justification', 'Approvals', 'Expires'], rows));
        return 0;
      }),
    );
}
