// `auth enable|disable|list`: managing auth method mounts through sys/auth.
import type { Command } from 'commander';
import { action } from '../context';
import { printWriteResult } from '../output';
import { enablePath, type MountFlags, mountFlagsBody, mountPathWithSlash, printMountTable, withMountFlags } from './secrets';

/** Registers the `auth` group. */
export function registerAuthCommands(program: Command): void {
  const auth = program.command('auth').description('Enable, disable and list auth methods');

  withMountFlags(auth.command('enable'))
    .description('Enable an auth method (TYPE: approle, jwt, ...) at a path (default: its type)')
    .argument('<type>', 'auth method type')
    .action(
      action(async (context, type: string, options: MountFlags) => {
        const path = enablePath(type, options);
        const body = mountFlagsBody(type, options);
        await context.call(`enabling ${type} auth`, () => context.client().write(`sys/auth/${path}`, body, 'POST'));
        if (context.format === 'table') context.print(`Success! Enabled ${type} auth method at: ${path}`);
        return 0;
      }),
    );

  auth
    .command('disable')
    .description('Disable the auth method at a path, revoking the tokens it issued')
    .argument('<path>', 'mount path, e.g. approle')
    .action(
      action(async (context, rawPath: string) => {
        const path = mountPathWithSlash(rawPath);
        const response = await context.call(`disabling auth method at ${path}`, () => context.client().delete(`sys/auth/${path}`));
        return printWriteResult(context, response, `Success! Disabled the auth method (if it existed) at: ${path}`);
      }),
    );

  auth
    .command('list')
    .description('List the enabled auth methods')
    .action(
      action(async (context) => {
        const response = await context.call('listing enabled auth methods', () => context.client().read('sys/auth'));
        return printMountTable(context, response);
      }),
    );
}
