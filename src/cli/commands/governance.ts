// `governance ledger|verify|offboard|blast-radius|runs`: read the governance ledger (sys/governance/ledger),
// prove its chain (sys/governance/ledger/verify), offboard (sys/governance/offboard), show a blast
// radius (sys/governance/blast-radius) and list, show and revoke CI runs (sys/governance/runs), in
// table or JSON form.
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

interface OffboardOptions {
  entityId?: string;
  owner?: string;
  mountAccessor?: string;
  roleName?: string;
  reason?: string;
  dryRun?: boolean;
}

/** The body `governance offboard` sends: exactly one selector, a reason, and dry_run. */
export function offboardBody(options: OffboardOptions): Record<string, unknown> {
  const given = [options.entityId !== undefined, options.owner !== undefined, options.mountAccessor !== undefined || options.roleName !== undefined].filter(Boolean).length;
  if (given !== 1) throw new CliError('exactly one of -entity-id, -owner, or -mount-accessor with -role-name must be given', 1);
  if ((options.mountAccessor === undefined) !== (options.roleName === undefined)) throw new CliError('-mount-accessor and -role-name must be given together', 1);
  const reason = options.reason?.trim();
  if (!reason) throw new CliError('-reason is required', 1);
  const body: Record<string, unknown> = { reason, dry_run: options.dryRun === true };
  if (options.entityId !== undefined) body.entity_id = options.entityId;
  if (options.owner !== undefined) body.owner = options.owner;
  if (options.mountAccessor !== undefined) body.mount_accessor = options.mountAccessor;
  if (options.roleName !== undefined) body.role_name = options.roleName;
  return body;
}

const LEDGER_HEADER = ['Seq', 'At', 'Event', 'Entity', 'Owner', 'Actor', 'Lease/Accessor', 'Path', 'Reason'] as const;

const RUN_KEY = /^[A-Za-z0-9_-]{24}$/;

/** A run key argument, checked before it becomes part of a path. */
function runKeyArgument(key: string): string {
  if (!RUN_KEY.test(key)) throw new CliError('RUN_KEY must be a run key as `governance runs list` prints it', 1);
  return key;
}

/** A run's claims as one table cell: `name=value` pairs, sorted. */
function claimsCell(claims: unknown): string {
  if (!isRecord(claims)) return '-';
  const pairs = Object.keys(claims)
    .sort()
    .map((k) => `${k}=${String(claims[k])}`);
  return pairs.length === 0 ? '-' : tableCell(pairs.join(' '));
}

const cell = (v: unknown) => (v === null || v === undefined || v === '' ? '-' : tableCell(v));

/** `governance runs [list|show|revoke]`: CI runs bound to JWT logins (roles with run_claims). */
function registerRunCommands(governance: Command): void {
  const runs = governance.command('runs').description('List, show and revoke the CI runs tokens and leases are bound to (JWT roles with run_claims)');

  runs
    .command('list', { isDefault: true })
    .description('List the CI runs seen at login, newest first, with their claims and what they still hold')
    .action(
      action(async (context) => {
        const response = await context.call('listing CI runs', () => context.client().list('sys/governance/runs'));
        const data = isRecord(response?.data) ? response.data : { keys: [], key_info: {} };
        if (context.format !== 'table') {
          context.print(formatStructured(data, context.format));
          return 0;
        }
        const keys = Array.isArray(data.keys) ? (data.keys as unknown[]).map(String) : [];
        if (keys.length === 0) {
          context.warn('No CI runs.');
          return 0;
        }
        const info = isRecord(data.key_info) ? data.key_info : {};
        const rows = keys.map((key) => {
          const run = isRecord(info[key]) ? (info[key] as Record<string, unknown>) : {};
          return [key, claimsCell(run.claims), cell(run.tokens), cell(run.leases), cell(run.created_time), cell(run.revoked_time)];
        });
        context.print(formatTable(['Run key', 'Claims', 'Tokens', 'Leases', 'Created', 'Revoked'], rows));
        return 0;
      }),
    );

  runs
    .command('show')
    .description('Show one CI run: its claims, its tokens by accessor and its leases')
    .argument('<run_key>', 'the run key')
    .action(
      action(async (context, key: string) => {
        const runKey = runKeyArgument(key);
        const response = await context.call('reading the CI run', () => context.client().read(`sys/governance/runs/${runKey}`));
        if (!isRecord(response?.data)) throw new CliError(`No CI run with key ${runKey}`, 2);
        const data = response.data;
        if (context.format !== 'table') {
          context.print(formatStructured(data, context.format));
          return 0;
        }
        context.print(
          formatKeyValueTable([
            ['run_key', runKey],
            ['claims', claimsCell(data.claims)],
            ['mount_accessor', cell(data.mount_accessor)],
            ['created_time', cell(data.created_time)],
            ['last_login_time', cell(data.last_login_time)],
            ['revoked_time', cell(data.revoked_time)],
          ]),
        );
        const tokens = Array.isArray(data.tokens) ? (data.tokens as Record<string, unknown>[]) : [];
        const leases = Array.isArray(data.leases) ? (data.leases as Record<string, unknown>[]) : [];
        if (tokens.length + leases.length > 0) {
          const rows = [...tokens.map((t) => ['token', t.accessor, 'active', t.expire_time]), ...leases.map((l) => ['lease', l.lease_id, l.state, l.expire_time])].map((row) => row.map(cell));
          context.print('');
          context.print(formatTable(['Kind', 'Accessor/Lease', 'State', 'Expires'], rows));
        }
        return 0;
      }),
    );

  runs
    .command('revoke')
    .description('Revoke every token and lease of a CI run (database roles dropped) and refuse its later logins')
    .argument('<run_key>', 'the run key')
    .option('--reason <text>', 'why (recorded in the ledger)')
    .action(
      action(async (context, key: string, options: { reason?: string }) => {
        const runKey = runKeyArgument(key);
        const body: Record<string, unknown> = {};
        if (options.reason !== undefined && options.reason.trim() !== '') body.reason = options.reason.trim();
        const response = await context.call('revoking the CI run', () => context.client().write(`sys/governance/runs/${runKey}/revoke`, body));
        const data = isRecord(response?.data) ? response.data : {};
        context.print(context.format !== 'table' ? formatStructured(data, context.format) : formatKeyValueTable(Object.entries(data)));
        if (typeof data.leases_pending === 'number' && data.leases_pending > 0) context.warn(`${data.leases_pending} lease(s) could not be revoked yet and stay queued for retry.`);
        return 0;
      }),
    );
}

/** Registers the `governance` group. */
export function registerGovernanceCommands(program: Command): void {
  const governance = program.command('governance').description('Offboard, show blast radius, list and revoke CI runs, and read and verify the governance ledger');
  registerRunCommands(governance);

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

  governance
    .command('offboard')
    .description('Revoke every token and lease of an entity, an owner, or an auth role, and disable the entities')
    .option('--entity-id <id>', 'offboard this entity')
    .option('--owner <owner>', 'offboard every token, lease and entity of this owner')
    .option('--mount-accessor <accessor>', 'with -role-name: offboard what this auth mount\'s role issued')
    .option('--role-name <name>', 'with -mount-accessor: the role')
    .option('--reason <text>', 'why (required; recorded in the ledger)')
    .option('--dry-run', 'only report what would be revoked')
    .action(
      action(async (context, options: OffboardOptions) => {
        const body = offboardBody(options);
        const response = await context.call('offboarding', () => context.client().write('sys/governance/offboard', body));
        const data = isRecord(response?.data) ? response.data : {};
        if (context.format !== 'table') {
          context.print(formatStructured(data, context.format));
          return 0;
        }
        const scalar = Object.entries(data).filter(([, v]) => !Array.isArray(v));
        const lists = Object.entries(data).filter(([, v]) => Array.isArray(v)).map(([k, v]) => [k, (v as unknown[]).length === 0 ? '-' : (v as unknown[]).map(String).join(', ')] as [string, string]);
        context.print(formatKeyValueTable([...scalar, ...lists]));
        if (data.dry_run === true) context.warn('Dry run: nothing was revoked.');
        return 0;
      }),
    );

  governance
    .command('blast-radius')
    .description('What an entity (or, with -accessor, a token) can reach now and what it holds')
    .argument('[entity_id]', 'the entity')
    .option('--accessor <accessor>', 'a token accessor instead of an entity')
    .action(
      action(async (context, entityId: string | undefined, options: { accessor?: string }) => {
        if ((entityId === undefined) === (options.accessor === undefined)) throw new CliError('give exactly one of ENTITY_ID or -accessor', 1);
        const response = await context.call('reading the blast radius', () =>
          entityId !== undefined
            ? context.client().read(`sys/governance/blast-radius/${encodeURIComponent(entityId)}`)
            : context.client().read('sys/governance/blast-radius', { accessor: options.accessor as string }),
        );
        const data = isRecord(response?.data) ? response.data : {};
        if (context.format !== 'table') {
          context.print(formatStructured(data, context.format));
          return 0;
        }
        const entity = isRecord(data.entity) ? data.entity : {};
        const summary = isRecord(data.summary) ? data.summary : {};
        const policies = Array.isArray(data.policies) ? (data.policies as unknown[]).map(String) : [];
        context.print(
          formatKeyValueTable([
            ['entity_id', entity.id === '' || entity.id === undefined ? '-' : entity.id],
            ['name', entity.name ?? '-'],
            ['owner', entity.owner === '' || entity.owner === undefined ? '-' : entity.owner],
            ['disabled', entity.disabled ?? false],
            ['policies', policies.length === 0 ? '-' : policies.join(', ')],
            ...Object.entries(summary),
          ]),
        );
        const reach = Array.isArray(data.reach) ? (data.reach as Record<string, unknown>[]) : [];
        if (reach.length > 0) {
          const rows = reach.map((r) => {
            const targets = isRecord(r.targets) ? r.targets : {};
            return [r.mount, r.type, r.path, Array.isArray(r.capabilities) ? r.capabilities.join(',') : '', targets.count].map((v) => (v === null || v === undefined ? '-' : tableCell(v)));
          });
          context.print('');
          context.print(formatTable(['Mount', 'Type', 'Path', 'Capabilities', 'Targets'], rows));
        }
        const holds = isRecord(data.holds) ? data.holds : {};
        const tokens = Array.isArray(holds.tokens) ? (holds.tokens as Record<string, unknown>[]) : [];
        const leases = Array.isArray(holds.leases) ? (holds.leases as Record<string, unknown>[]) : [];
        if (tokens.length + leases.length > 0) {
          const rows = [
            ...tokens.map((t) => ['token', t.accessor, t.expire_time]),
            ...leases.map((l) => ['lease', l.lease_id, l.expire_time]),
          ].map((row) => row.map((v) => (v === null || v === undefined ? '-' : tableCell(v))));
          context.print('');
          context.print(formatTable(['Holds', 'Accessor/Lease', 'Expires'], rows));
        }
        return 0;
      }),
    );
}
