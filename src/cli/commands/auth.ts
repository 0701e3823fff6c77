// `auth enable|disable|list`: managing auth method mounts through sys/auth.
import type { Command } from 'commander';
import { action } from '../context';
import { enablePath, type MountFlags, mountFlagsBody, registerMountTableCommands, withMountFlags } from './secrets';

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

  registerMountTableCommands(auth, {
    api: 'sys/auth',
    noun: 'auth method',
    disableEffect: 'revoking the tokens it issued',
    listing: 'auth methods',
  });
}
