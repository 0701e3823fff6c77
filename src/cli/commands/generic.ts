// `read`, `write`, `list`, `delete`: the generic path commands, for any engine or sys/ endpoint.
import type { Command } from 'commander';
import { isRecord, sanitizePath } from '../client';
import { action, CliError } from '../context';
import { formatStructured } from '../format';
import { parseKeyValueArgs, processSources } from '../key-value-args';
import { EXIT_NOT_FOUND, printKeys, printSecret, printWriteResult } from '../output';

interface FieldOptions {
  field?: string;
}

interface WriteOptions extends FieldOptions {
  force?: boolean;
}

/** Query parameters from `k=v` data: `vault read` and `vault delete` send data that way. */
export function dataToQuery(data: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(data).map(([key, value]) => [key, typeof value === 'string' ? value : Array.isArray(value) ? value.map(String).join(',') : JSON.stringify(value)]),
  );
}

async function queryFromArgs(args: readonly string[]): Promise<Record<string, string> | undefined> {
  const data = await parseKeyValueArgs(args, processSources);
  return Object.keys(data).length > 0 ? dataToQuery(data) : undefined;
}

/** Registers the generic path commands on the program. */
export function registerGenericCommands(program: Command): void {
  program
    .command('path-help')
    .description("Show the server's help for a path: what it does and its parameters")
    .argument('<path>', 'path, e.g. secret/data/foo or sys/mounts')
    .action(
      action(async (context, rawPath: string) => {
        const path = sanitizePath(rawPath);
        const response = await context.call('retrieving help', () => context.client().request('GET', path, { query: { help: '1' }, noWrap: true }));
        const help = isRecord(response) && typeof response.help === 'string' ? response.help : undefined;
        if (help === undefined) throw new CliError(`Error retrieving help: no help for ${path}`, 2);
        context.print(context.format !== 'table' ? formatStructured(response, context.format) : help);
        return 0;
      }),
    );

  program
    .command('read')
    .description('Read data from any path; extra k=v pairs become query parameters')
    .argument('<path>', 'path to read, e.g. secret/foo or sys/mounts')
    .argument('[data...]', 'k=v query parameters')
    .option('--field <name>', 'print only this field, without a trailing newline')
    .action(
      action(async (context, rawPath: string, args: string[], options: FieldOptions) => {
        const path = sanitizePath(rawPath);
        const query = await queryFromArgs(args);
        const response = await context.call(`reading ${path}`, () => context.client().read(path, query));
        if (response === undefined) {
          context.warn(`No value found at ${path}`);
          return EXIT_NOT_FOUND;
        }
        return printSecret(context, response, options.field);
      }),
    );

  program
    .command('write')
    .description('Write k=v data (or JSON from "-" or @file) to any path')
    .argument('<path>', 'path to write, e.g. secret/foo')
    .argument('[data...]', 'k=v pairs, k=@file, k=-, @file.json or - (JSON on stdin)')
    .option('-f, --force', 'allow a write without data')
    .option('--field <name>', 'print only this field of the response')
    .action(
      action(async (context, rawPath: string, args: string[], options: WriteOptions) => {
        const path = sanitizePath(rawPath);
        if (args.length === 0 && !options.force) throw new CliError('Must supply data or use -force', 1);
        const data = await parseKeyValueArgs(args, processSources);
        const response = await context.call(`writing data to ${path}`, () => context.client().write(path, data));
        if (options.field !== undefined && response !== undefined) return printSecret(context, response, options.field);
        return printWriteResult(context, response, `Success! Data written to: ${path}`);
      }),
    );

  program
    .command('list')
    .description('List the keys below a path')
    .argument('<path>', 'path to list, e.g. secret/ or auth/token/accessors')
    .action(
      action(async (context, rawPath: string) => {
        const path = sanitizePath(rawPath);
        const response = await context.call(`listing ${path}`, () => context.client().list(path));
        return printKeys(context, response, path);
      }),
    );

  program
    .command('delete')
    .description('Delete the data at a path; extra k=v pairs become query parameters')
    .argument('<path>', 'path to delete, e.g. secret/foo')
    .argument('[data...]', 'k=v query parameters')
    .action(
      action(async (context, rawPath: string, args: string[]) => {
        const path = sanitizePath(rawPath);
        const query = await queryFromArgs(args);
        const response = await context.call(`deleting ${path}`, () => context.client().delete(path, query));
        return printWriteResult(context, response, `Success! Data deleted (if it existed) at: ${path}`);
      }),
    );
}
