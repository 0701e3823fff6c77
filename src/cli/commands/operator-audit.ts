// `operator audit disable --data DIR PATH`: removes an audit device from a stopped server's data
// directory, the way out when a device that fails every write keeps the vault from serving.
import type { Command } from 'commander';
import { disableAuditDeviceOffline } from '../../core/audit/offline';
import { createLogger } from '../../logger';
import { action, CliError } from '../context';
import { readAllStdin, readHiddenLine } from '../terminal';

interface OfflineDisableOptions {
  data?: string;
}

/** Unseal keys from stdin: one per line when piped; prompted without echo on a terminal (empty line ends). */
async function readUnsealKeys(): Promise<string[]> {
  if (!process.stdin.isTTY) {
    return (await readAllStdin(process.stdin)).split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  }
  const keys: string[] = [];
  for (let i = 1; i <= 255; i += 1) {
    const key = (await readHiddenLine(`Unseal Key ${i} (will be hidden; empty line when done): `)).trim();
    if (key === '') break;
    keys.push(key);
  }
  return keys;
}

/** Registers `operator audit disable` under the `operator` group. */
export function registerOperatorAuditCommands(operator: Command): void {
  const audit = operator.command('audit').description('Audit device recovery on a stopped server');
  audit
    .command('disable')
    .description('Disable an audit device in a stopped server\'s data directory; reads the unseal keys from stdin')
    .argument('<path>', 'the audit device path, e.g. file/')
    .option('--data <dir>', 'the stopped server\'s data directory')
    .action(
      action(async (context, devicePath: string, options: OfflineDisableOptions) => {
        if (!options.data) throw new CliError('Error: --data DIR is required (the stopped server\'s data directory)', 1);
        const keys = await readUnsealKeys();
        if (keys.length === 0) throw new CliError('Error: unseal keys are required on stdin, one per line', 1);
        try {
          const result = await disableAuditDeviceOffline(options.data, devicePath, keys, createLogger({ level: 'warn' }));
          context.print(result.removed ? `Success! Disabled audit device at: ${devicePath}` : `No audit device at: ${devicePath} (nothing changed)`);
          return 0;
        } catch (error) {
          throw new CliError(`Error disabling audit device: ${(error as Error).message}`, 2);
        }
      }),
    );
}
