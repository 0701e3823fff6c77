// `policy write|read|list|delete`: managing ACL policies through sys/policies/acl.
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { isRecord } from '../client';
import { action, CliError } from '../context';
import { formatStructured } from '../format';
import { fileErrorMessage, type KeyValueSources, processSources } from '../key-value-args';
import { EXIT_NOT_FOUND, printWriteResult } from '../output';
import { formatPolicy } from '../policy-fmt';

/** Policy names are case-insensitive: Vault's CLI trims and lower-cases them before every request. */
export function policyName(name: string): string {
  return name.trim().toLowerCase();
}

/** The policy text of `policy write`: all of stdin for "-", else the named file. */
export async function readPolicySource(source: string, sources: KeyValueSources = processSources): Promise<string> {
  if (source === '-') return sources.readStdin();
  try {
    return await sources.readFile(source);
  } catch (error) {
    throw new CliError(`Error opening policy file: ${fileErrorMessage(source, error)}`, 2);
  }
}

/** Registers the `policy` group. */
export function registerPolicyCommands(program: Command): void {
  const policy = program.command('policy').description('Write, read, list and delete ACL policies');

  policy
    .command('write')
    .description('Upload an ACL policy (HCL or JSON) from a file, or from stdin with "-"')
    .argument('<name>', 'policy name')
    .argument('<file>', 'policy file, or - to read it from stdin')
    .action(
      action(async (context, rawName: string, source: string) => {
        const name = policyName(rawName);
        const text = await readPolicySource(source);
        // Vault refuses an empty policy rather than storing one that grants nothing by accident (`policy write NAME /dev/null`).
        if (text.trim() === '') throw new CliError(`Error uploading policy: 'policy' parameter not supplied or empty`, 2);
        await context.call('uploading policy', () => context.client().write(`sys/policies/acl/${name}`, { policy: text }));
        if (context.format === 'table') context.print(`Success! Uploaded policy: ${name}`);
        return 0;
      }),
    );

  policy
    .command('read')
    .description('Print the text of an ACL policy')
    .argument('<name>', 'policy name')
    .action(
      action(async (context, rawName: string) => {
        const name = policyName(rawName);
        const response = await context.call(`reading policy named ${name}`, () => context.client().read(`sys/policies/acl/${name}`));
        const text = isRecord(response?.data) && typeof response.data.policy === 'string' ? response.data.policy : '';
        if (text === '') {
          context.warn(`No policy named: ${name}`);
          return EXIT_NOT_FOUND;
        }
        context.print(context.format !== 'table' ? formatStructured({ policy: text }, context.format) : text.trim());
        return 0;
      }),
    );

  policy
    .command('list')
    .description('List the names of the ACL policies')
    .action(
      action(async (context) => {
        const response = await context.call('listing policies', () => context.client().list('sys/policies/acl'));
        const keys = isRecord(response?.data) && Array.isArray(response.data.keys) ? response.data.keys.map(String) : [];
        context.print(context.format !== 'table' ? formatStructured(keys, context.format) : keys.join('\n'));
        return 0;
      }),
    );

  policy
    .command('fmt')
    .description('Format an ACL policy file in place (refusing an invalid one)')
    .argument('<file>', 'policy file')
    .action(
      action(async (context, file: string) => {
        if (file === '-') throw new CliError('Error: policy fmt formats a file in place; stdin is not supported', 1);
        const text = await readPolicySource(file);
        let formatted: string;
        try {
          formatted = formatPolicy(text);
        } catch (error) {
          throw new CliError(`Error parsing policy: ${(error as Error).message}`, 1);
        }
        try {
          await writeFile(file, formatted);
        } catch (error) {
          throw new CliError(`Error writing result: ${fileErrorMessage(file, error)}`, 1);
        }
        if (context.format === 'table') context.print(`Success! Formatted policy: ${file}`);
        return 0;
      }),
    );

  policy
    .command('delete')
    .description('Delete an ACL policy; tokens holding it lose its permissions')
    .argument('<name>', 'policy name')
    .action(
      action(async (context, rawName: string) => {
        const name = policyName(rawName);
        const response = await context.call(`deleting ${name}`, () => context.client().delete(`sys/policies/acl/${name}`));
        return printWriteResult(context, response, `Success! Deleted policy: ${name}`);
      }),
    );
}
