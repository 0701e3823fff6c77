// Output formatting shared by all commands: Vault's aligned tables, its Go-style values, and JSON.
import { formatDurationGo } from '../util/duration';
import { isRecord, type VaultResponse } from './client';

/** The output formats: `table` (Vault's default), `json` and `yaml` (the raw response). */
export type OutputFormat = 'table' | 'json' | 'yaml';

/** Validates `--format`; Vault also has pretty, which we do not offer. */
export function parseOutputFormat(value: string): OutputFormat {
  const normalized = value.trim().toLowerCase();
  if (normalized === 'table' || normalized === 'json' || normalized === 'yaml') return normalized;
  throw new Error(`invalid format ${JSON.stringify(value)}: expected "table", "json" or "yaml"`);
}

/** A structured value (the raw response) as JSON or YAML, for the non-table formats. */
export function formatStructured(value: unknown, format: OutputFormat): string {
  return format === 'yaml' ? formatYaml(value) : formatJson(value);
}

/** Whether a string can be written as a plain YAML scalar without changing its meaning. */
function yamlPlainSafe(text: string): boolean {
  if (text === '' || text.trim() !== text) return false;
  if (/^(?:~|null|true|false|yes|no|on|off|y|n)$/i.test(text)) return false;
  if (/^[-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/.test(text) || /^[-+]?\.(?:inf|nan)$/i.test(text) || /^0[xob]/i.test(text)) return false;
  if (/^[-?:,\[\]{}#&*!|>'"%@`]/.test(text)) return false;
  if (/[\u0000-\u001f\u007f]/.test(text) || text.includes(': ') || text.includes(' #') || text.endsWith(':')) return false;
  return true;
}

function yamlScalar(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return yamlPlainSafe(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

function yamlLines(value: unknown, indent: string): string[] {
  if (Array.isArray(value)) {
    return value.flatMap((item) => {
      if (isRecord(item) && Object.keys(item).length > 0) {
        const [first, ...rest] = yamlLines(item, `${indent}  `);
        return [`${indent}- ${(first as string).slice(indent.length + 2)}`, ...rest];
      }
      if (Array.isArray(item) && item.length > 0) return [`${indent}-`, ...yamlLines(item, `${indent}  `)];
      return [`${indent}- ${yamlInline(item)}`];
    });
  }
  if (isRecord(value)) {
    return Object.keys(value)
      .sort()
      .filter((key) => value[key] !== undefined)
      .flatMap((key) => {
        const item = value[key];
        const name = yamlScalar(key);
        if (isRecord(item) && Object.keys(item).length > 0) return [`${indent}${name}:`, ...yamlLines(item, `${indent}  `)];
        // Go's yaml.v2 writes a list under a key at the key's own indentation.
        if (Array.isArray(item) && item.length > 0) return [`${indent}${name}:`, ...yamlLines(item, indent)];
        return [`${indent}${name}: ${yamlInline(item)}`];
      });
  }
  return [`${indent}${yamlScalar(value)}`];
}

function yamlInline(value: unknown): string {
  if (Array.isArray(value) && value.length === 0) return '[]';
  if (isRecord(value) && Object.keys(value).length === 0) return '{}';
  return yamlScalar(value);
}

/** YAML output as Vault prints it (Go's yaml of the JSON value): sorted keys, two-space indentation. */
export function formatYaml(value: unknown): string {
  if ((Array.isArray(value) || isRecord(value)) && Object.keys(value).length > 0) return yamlLines(value, '').join('\n');
  return yamlInline(value);
}

/** JSON output as Vault prints it: two-space indentation. */
export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/**
 * A value as Go's `%v` prints it, which is what Vault's tables show: `<nil>`, `[a b]`,
 * `map[k:v]` with sorted keys. Scripts wanting structure use `--format json`.
 */
export function formatGoValue(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `[${value.map(formatGoValue).join(' ')}]`;
  if (isRecord(value)) {
    return `map[${Object.keys(value)
      .sort()
      .map((key) => `${key}:${formatGoValue(value[key])}`)
      .join(' ')}]`;
  }
  return String(value);
}

/** Vault's humanDuration: Go's duration string without the zero minutes and seconds ("768h", "1h30m"). */
export function humanDuration(seconds: number): string {
  let text = formatDurationGo(Math.max(0, Math.floor(seconds)));
  if (text.endsWith('m0s')) text = text.slice(0, -2);
  const zeroMinutes = text.indexOf('h0m');
  if (zeroMinutes > 0) text = text.slice(0, zeroMinutes + 1) + text.slice(zeroMinutes + 3);
  return text;
}

/** Keys Vault prints as durations in tables (its looksLikeDuration). */
function looksLikeDuration(key: string): boolean {
  return key === 'period' || key.endsWith('_period') || key === 'ttl' || key.endsWith('_ttl') || key.endsWith('_timeout');
}

/** Aligns rows into columns separated by four spaces, as Vault's columnize does. */
export function formatColumns(rows: ReadonlyArray<readonly string[]>): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, column) => (widths[column] = Math.max(widths[column] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('    ')
        .trimEnd(),
    )
    .join('\n');
}

/** A table with a header row underlined by dashes ("Key", "---"). */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  return formatColumns([header, header.map((title) => '-'.repeat(title.length)), ...rows]);
}

/** A cell of a list table (`secrets list`, `audit list`): the value, or "n/a" when it is empty, as Vault's columnize shows it. */
export function tableCell(value: unknown): string {
  const text = value === undefined || value === null ? '' : formatGoValue(value);
  return text === '' ? 'n/a' : text;
}

/** The Key/Value table most commands print. */
export function formatKeyValueTable(entries: ReadonlyArray<readonly [string, unknown]>): string {
  return formatTable(
    ['Key', 'Value'],
    entries.map(([key, value]) => [key, formatGoValue(value)]),
  );
}

/** A data map as Key/Value rows with sorted keys and durations humanised, as `vault read` shows it. */
export function dataEntries(data: Record<string, unknown>): Array<[string, unknown]> {
  return Object.keys(data)
    .sort()
    .map((key) => {
      const value = data[key];
      return [key, looksLikeDuration(key) && typeof value === 'number' ? humanDuration(value) : value];
    });
}

/** The "Keys" table of list commands. */
export function formatKeysTable(keys: readonly unknown[]): string {
  return formatTable(
    ['Keys'],
    keys.map((key) => [formatGoValue(key)]),
  );
}

/**
 * The rows `vault read` prints for a response: lease (or refresh interval), auth, wrap info,
 * then the data. The token rows are the point of a login or token-create response, so they
 * are shown, as Vault shows them.
 */
export function secretEntries(response: VaultResponse): Array<[string, unknown]> {
  const entries: Array<[string, unknown]> = [];
  const leaseSeconds = response.lease_duration ?? 0;
  if (leaseSeconds > 0) {
    if (response.lease_id) {
      entries.push(['lease_id', response.lease_id], ['lease_duration', humanDuration(leaseSeconds)], ['lease_renewable', response.renewable ?? false]);
    } else {
      entries.push(['refresh_interval', humanDuration(leaseSeconds)]);
    }
  }
  const auth = response.auth;
  if (isRecord(auth)) {
    const authSeconds = typeof auth.lease_duration === 'number' ? auth.lease_duration : 0;
    entries.push(
      ['token', auth.client_token],
      ['token_accessor', auth.accessor],
      ['token_duration', authSeconds === 0 ? '∞' : humanDuration(authSeconds)],
      ['token_renewable', auth.renewable ?? false],
      ['token_policies', formatGoQuotedList(auth.token_policies)],
      ['identity_policies', formatGoQuotedList(auth.identity_policies)],
      ['policies', formatGoQuotedList(auth.policies)],
    );
    if (isRecord(auth.metadata)) {
      for (const key of Object.keys(auth.metadata).sort()) entries.push([`token_meta_${key}`, auth.metadata[key]]);
    }
  }
  const wrap = response.wrap_info;
  if (isRecord(wrap)) {
    entries.push(
      ['wrapping_token:', wrap.token],
      ['wrapping_accessor:', wrap.accessor],
      ['wrapping_token_ttl:', typeof wrap.ttl === 'number' ? humanDuration(wrap.ttl) : wrap.ttl],
      ['wrapping_token_creation_time:', wrap.creation_time],
      ['wrapping_token_creation_path:', wrap.creation_path],
    );
    if (wrap.wrapped_accessor) entries.push(['wrapped_accessor:', wrap.wrapped_accessor]);
  }
  if (isRecord(response.data)) entries.push(...dataEntries(response.data));
  return entries;
}

/** Go's `%q` of a string slice: `["default" "root"]`. */
function formatGoQuotedList(value: unknown): string {
  const items = Array.isArray(value) ? value : [];
  return `[${items.map((item) => JSON.stringify(String(item))).join(' ')}]`;
}

/**
 * A section header centred in equal signs ("=== Data ==="), with Vault's arithmetic so that
 * `kv get` output lines up the way Vault users expect.
 */
export function padEqualSigns(header: string, totalLength: number): string {
  let equalSigns = totalLength - (header.length + 2);
  if (equalSigns <= 0) equalSigns = 4;
  if (equalSigns % 2 !== 0) equalSigns += 1;
  const side = '='.repeat(equalSigns / 2);
  return `${side} ${header} ${side}`;
}

/** The header above a Key/Value table of `keys`: as wide as the key column plus "    Value". */
export function headerForKeys(header: string, keys: readonly string[]): string {
  const longestKey = keys.reduce((longest, key) => Math.max(longest, key.length), 0);
  return padEqualSigns(header, longestKey + 4 + 5);
}

/**
 * The value of one field for `-field`: the data first, then the auth and lease fields Vault
 * also accepts (`-field=token` after a login).
 */
export function lookupField(response: VaultResponse, field: string): unknown {
  if (isRecord(response.data) && Object.hasOwn(response.data, field)) return response.data[field];
  const auth = isRecord(response.auth) ? response.auth : undefined;
  const wrap = isRecord(response.wrap_info) ? response.wrap_info : undefined;
  const special: Record<string, unknown> = {
    token: auth?.client_token ?? wrap?.token,
    token_accessor: auth?.accessor ?? wrap?.accessor,
    token_duration: auth?.lease_duration,
    token_renewable: auth?.renewable,
    token_policies: auth?.token_policies,
    identity_policies: auth?.identity_policies,
    policies: auth?.policies,
    lease_id: response.lease_id,
    lease_duration: response.lease_duration,
    lease_renewable: response.renewable,
    refresh_interval: response.lease_duration,
  };
  return Object.hasOwn(special, field) ? special[field] : undefined;
}

/** A field printed by `-field`: raw strings, Go-style values in table mode, JSON otherwise. */
export function formatFieldValue(value: unknown, format: OutputFormat): string {
  // With -format=json Vault prints the field as JSON, strings included ("s3cret", quoted).
  if (format !== 'table') return formatStructured(value, format);
  if (typeof value === 'string') return value;
  return formatGoValue(value);
}
