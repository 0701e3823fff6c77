// `audit enable|disable|list`: managing audit devices through sys/audit.
import type { Command } from 'commander';
import { isRecord } from '../client';
import { action } from '../context';
import { formatGoValue, tableCell } from '../format';
import { parseKeyValueArgs, processSources } from '../key-value-args';
import { listingData, printListing, printWriteResult } from '../output';
import { dataToQuery } from './generic';
import { enablePath, mountPathWithSlash } from './secrets';

interface EnableOptions {
  path?: string;
  description?: string;
  local?: boolean;
}

interface ListOptions {
  detailed?: boolean;
}

/** The body of `PUT sys/audit/<path>`: the device type, its description and its options as strings. */
export function auditEnableBody(type: string, options: Record<string, unknown>, flags: EnableOptions): Record<string, unknown> {
  return { type, description: flags.description ?? '', options: dataToQuery(options), local: flags.local ?? false };
}

/** The header and rows of `vault audit list`, sorted by path; `-detailed` adds replication and options. */
export function auditTable(devices: Record<string, unknown>, detailed: boolean): { header: string[]; rows: string[][] } {
  const rows = Object.keys(devices)
    .filter((path) => isRecord(devices[path]))
    .sort()
    .map((path) => {
      const device = devices[path] as Record<string, unknown>;
      const row = [tableCell(device.path ?? path), tableCell(device.type), tableCell(device.description)];
      if (!detailed) return row;
      const options = isRecord(device.options) ? device.options : {};
      const pairs = Object.keys(options)
        .sort()
        .map((key) => `${key}=${formatGoValue(options[key])}`);
      return [...row, device.local === true ? 'local' : 'replicated', tableCell(pairs.join(' '))];
    });
  const header = ['Path', 'Type', 'Description', ...(detailed ? ['Replication', 'Options'] : [])];
  return { header, rows };
}

/** Registers the `audit` group. */
export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('Enable, disable and list audit devices');

  audit
    .command('enable')
    .description('Enable an audit device (TYPE: file) at a path (default: its type); options follow as k=v')
    .argument('<type>', 'audit device type, e.g. file')
    .argument('[options...]', 'device options as k=v, e.g. file_path=/var/log/leasehold/audit.log')
    .option('--path <path>', 'path of the device (default: the type)')
    .option('--description <text>', 'human-readable description of the device')
    .option('--local', 'mark the device local-only')
    .action(
      action(async (context, type: string, args: string[], flags: EnableOptions) => {
        const path = enablePath(type, flags);
        const body = auditEnableBody(type, await parseKeyValueArgs(args, processSources), flags);
        await context.call('enabling audit device', () => context.client().write(`sys/audit/${path}`, body));
        if (context.format === 'table') context.print(`Success! Enabled the ${type} audit device at: ${path}`);
        return 0;
      }),
    );

  audit
    .command('disable')
    .description('Disable the audit device at a path')
    .argument('<path>', 'path of the device, e.g. file')
    .action(
      action(async (context, rawPath: string) => {
        const path = mountPathWithSlash(rawPath);
        const response = await context.call('disabling audit device', () => context.client().delete(`sys/audit/${path}`));
        return printWriteResult(context, response, `Success! Disabled audit device (if it was enabled) at: ${path}`);
      }),
    );

  audit
    .command('list')
    .description('List the enabled audit devices')
    .option('--detailed', 'also show replication and options')
    .action(
      action(async (context, options: ListOptions) => {
        const response = await context.call('listing audits', () => context.client().read('sys/audit'));
        const devices = listingData(response);
        const { header, rows } = auditTable(devices, options.detailed ?? false);
        if (context.format === 'table' && rows.length === 0) {
          context.print('No audit devices are enabled.');
          return 0;
        }
        return printListing(context, devices, header, rows);
      }),
    );
}
