// `operator key-status` and `operator rotate`: the keyring term in use, and a new term for new
// writes (older terms still decrypt), as Vault's commands of the same names.
import type { Command } from 'commander';
import { isRecord } from '../client';
import { action } from '../context';
import { formatStructured, formatKeyValueTable } from '../format';

/** Adds `key-status` and `rotate` to the `operator` group. */
export function registerOperatorKeyCommands(operator: Command): void {
  operator
    .command('key-status')
    .description('Show the active encryption key term and when it was installed')
    .action(
      action(async (context) => {
        const response = await context.call('reading key status', () => context.client().read('sys/key-status'));
        const data = isRecord(response?.data) ? response.data : isRecord(response) ? response : {};
        if (context.format !== 'table') {
          context.print(formatStructured(data, context.format));
          return 0;
        }
        context.print(formatKeyValueTable([['Key Term', data.term ?? ''], ['Install Time', data.install_time ?? '']]));
        return 0;
      }),
    );

  operator
    .command('rotate')
    .description('Install a new encryption key term for new writes (older terms still decrypt)')
    .action(
      action(async (context) => {
        await context.call('rotating key', () => context.client().write('sys/rotate', {}));
        const response = await context.call('reading key status', () => context.client().read('sys/key-status'));
        const data = isRecord(response?.data) ? response.data : isRecord(response) ? response : {};
        if (context.format !== 'table') {
          context.print(formatStructured(data, context.format));
          return 0;
        }
        context.print(`Success! Rotated key\n\n${formatKeyValueTable([['Key Term', data.term ?? ''], ['Install Time', data.install_time ?? '']])}`);
        return 0;
      }),
    );
}
