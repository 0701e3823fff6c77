// `governance ledger|verify`: read the governance ledger (sys/governance/ledger) and prove its chain
// (sys/governance/ledger/verify), in table or JSON form.
import type { Command } from 'commander';
import { isRecord } from '../client';
import { action, CliError, parseIntegerFlag } from '../context';
import { formatStructured, formatKeyValueTable, formatTable, tableCell } from '../format';

interface LedgerOptions {
  entityId?: string;
  owner?: string;
  leaseId?: string;
  mount?: string;
  event?: string;
  since?: string;
  until?: string;
  after?: string;
  limit?: string;
}

/** The query `governance ledger` sends: only the filters given, under the API's names. */
export function ledgerQuery(options: LedgerOptions): Record<string, string> {
  const query: Record<string, string> = {};
  const pairs: Array<[string, string | undefined]> = [
    ['entity_id', options.entityId],
    ['owner', options.owner],
    ['lease_id', options.leaseId],
    ['mount', options.mount],
    ['event', options.event],
    ['since', options.since],
    ['until', options.until],
    ['after', options.after],
  ];
  for (const [key, value] of pairs) if (value !== undefined && value !== '') query[key] = value;
  if (options.limit !== undefined) {
    const limit = parseIntegerFlag('limit', options.limit, 1);
    if (limit > 1000) throw new CliError('-limit must be at most 1000', 1);
    query.limit = String(limit);
  }
  return query;
}

const LEDGER_HEADER = ['Seq', 'At', 'Event', 'Entity', 'Owner', 'Actor', 'Lease/Accessor', 'Path', 'Reason'] as const;

/** Registers the `governance` group. */
export function registerGovernanceCommands(program: Command): void {
  const governance = program.command('governance').description('Read and verify the governance ledger');

  governance
    .command('ledger')
    .description('List ledger events, oldest first; -after continues from the cursor a previous page printed')
    .option('--entity-id <id>', 'only events of this holder entity')
    .option('--owner <owner>', 'only events of this accountable owner')
    .option('--lease-id <id>', 'only events of this lease')
    .option('--mount <path>', 'only events on this mount, e.g. database/')
    .option('--event <kind>', 'only events of this kind, e.g. lease.issued')
    .option('--since <time>', 'only events at or after this RFC 3339 time')
    .option('--until <time>', 'only events at or before this RFC 3339 time')
    .option('--after <cursor>', 'the cursor of the previous page')
    .option('--limit <n>', 'events per page (at most 1000)')
    .action(
      action(async (context, options: LedgerOptions) => {
        const query = ledgerQuery(options);
        const response = await context.call('reading the ledger', () => context.client().read('sys/governance/ledger', query));
        const data = isRecord(response?.data) ? response.data : { events: [], next: null };
        if (context.format !== 'table') {
          context.print(formatStructured(data, context.format));
          return 0;
        }
        const events = Array.isArray(data.events) ? (data.events as Record<string, unknown>[]) : [];
        if (events.length === 0) {
          context.warn('No ledger events match.');
          return 0;
        }
        const rows = events.map((e) => [e.seq, e.at, e.event, e.entity_id, e.owner, e.actor, e.lease_id ?? e.accessor, e.path, e.reason].map((v) => (v === null || v === undefined ? '-' : tableCell(v))));
        context.print(formatTable(LEDGER_HEADER, rows));
        if (typeof data.next === 'string') context.warn(`More events: continue with -after=${data.next}`);
        return 0;
      }),
    );

  governance
    .command('verify')
    .description('Walk the ledger\'s HMAC chain; exits 2 and names the first bad event if it does not verify')
    .action(
      action(async (context) => {
        const response = await context.call('verifying the ledger', () => context.client().read('sys/governance/ledger/verify'));
        const data = isRecord(response?.data) ? response.data : {};
        context.print(context.format !== 'table' ? formatStructured(data, context.format) : formatKeyValueTable(Object.entries(data)));
        if (data.verified === true) return 0;
        context.warn(`The ledger does not verify: the first bad event is seq ${String(data.first_bad_seq ?? 'unknown')}`);
        return 2;
      }),
    );
}
