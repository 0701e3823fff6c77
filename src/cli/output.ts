// Printing a response in the chosen format: the shared endings of read, list and write commands.
import { isRecord, type VaultResponse } from './client';
import { type CommandContext } from './context';
import { formatFieldValue, formatStructured, formatKeysTable, formatKeyValueTable, formatTable, lookupField, secretEntries } from './format';

/** Vault's exit code for "nothing there" and for failed requests. */
export const EXIT_NOT_FOUND = 2;

/** The body of a sys/ listing (mounts, auth methods, audit devices): its `data`, or the bare object a server may answer instead. */
export function listingData(response: VaultResponse | undefined): Record<string, unknown> {
  if (isRecord(response?.data)) return response.data;
  return isRecord(response) ? response : {};
}

/** A sys/ listing as `vault secrets list` prints it: the data as JSON, or the table of `rows` under `header`. */
export function printListing(context: CommandContext, data: Record<string, unknown>, header: readonly string[], rows: ReadonlyArray<readonly string[]>): number {
  context.print(context.format !== 'table' ? formatStructured(data, context.format) : formatTable(header, rows));
  return 0;
}

/** Table mode prints the server's warnings (to stderr, so stdout stays the table alone). */
export function printWarnings(context: CommandContext, response: VaultResponse | undefined): void {
  const warnings = response?.warnings;
  if (context.format !== 'table' || !Array.isArray(warnings) || warnings.length === 0) return;
  context.warn(`WARNING! The following warnings were returned from Leasehold:\n\n${warnings.map((warning) => `  * ${warning}`).join('\n')}\n`);
}

/** Prints one field for `-field` (no trailing newline, for piping), or fails if it is absent. */
export function printField(context: CommandContext, response: VaultResponse, field: string): number {
  const value = lookupField(response, field);
  if (value === undefined) {
    context.warn(`Field "${field}" not present in secret`);
    return 1;
  }
  context.printRaw(formatFieldValue(value, context.format));
  return 0;
}

/** `vault read`'s output: the whole response as JSON, one field, or the Key/Value table. */
export function printSecret(context: CommandContext, response: VaultResponse, field?: string): number {
  if (field !== undefined) return printField(context, response, field);
  if (context.format !== 'table') {
    context.print(formatStructured(response, context.format));
    return 0;
  }
  printWarnings(context, response);
  const entries = secretEntries(response);
  if (entries.length > 0) context.print(formatKeyValueTable(entries));
  return 0;
}

/** A list's keys as the "Keys" table or a JSON array; "No value found" (exit 2) when there are none. */
export function printKeys(context: CommandContext, response: VaultResponse | undefined, path: string): number {
  const keys = isRecord(response?.data) && Array.isArray(response.data.keys) ? response.data.keys : undefined;
  if (keys === undefined) {
    context.warn(`No value found at ${path}`);
    return EXIT_NOT_FOUND;
  }
  printWarnings(context, response);
  context.print(context.format !== 'table' ? formatStructured(keys, context.format) : formatKeysTable(keys));
  return 0;
}

/**
 * After a write or delete: a response with content is printed like a read; an empty one gives
 * Vault's "Success! ..." line in table mode and nothing in JSON mode.
 */
export function printWriteResult(context: CommandContext, response: VaultResponse | undefined, successMessage: string): number {
  const hasContent = response !== undefined && (isRecord(response.data) || isRecord(response.auth) || isRecord(response.wrap_info));
  if (!hasContent) {
    printWarnings(context, response);
    if (context.format === 'table') context.print(successMessage);
    return 0;
  }
  return printSecret(context, response);
}
