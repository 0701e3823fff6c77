// `operator snapshot save FILE` and `operator snapshot restore FILE`: Vault's snapshot commands over
// sys/storage/snapshot and sys/storage/snapshot-restore. Both check the file format locally too, so
// a torn download is never saved and a damaged file is refused before it is sent.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { decodeSnapshot, SnapshotFormatError } from '../../storage/snapshot-format';
import { isRecord } from '../client';
import { action, CliError } from '../context';
import { formatStructured } from '../format';

/** Writes `bytes` to `file` whole or not at all: a temporary file beside it (0600), fsynced, then renamed. */
function writeFileAtomically(file: string, bytes: Buffer): void {
  const temp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
  const fd = fs.openSync(temp, 'w', 0o600);
  try {
    fs.writeSync(fd, bytes);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, file);
}

function checked(bytes: Buffer, what: string): ReturnType<typeof decodeSnapshot>['header'] {
  try {
    return decodeSnapshot(bytes).header;
  } catch (error) {
    if (error instanceof SnapshotFormatError) throw new CliError(`Error: ${what}: ${error.message}`, 2);
    throw error;
  }
}

/** Registers `operator snapshot` under `operator`. */
export function registerSnapshotCommands(operator: Command): void {
  const snapshot = operator.command('snapshot').description('Save the encrypted store to a file, or restore it from one');
  snapshot
    .command('save')
    .description('Save a consistent copy of the encrypted store (taken while the server keeps serving) to FILE')
    .argument('<file>', 'where to write the snapshot')
    .action(
      action(async (context, file: string) => {
        const { bytes } = await context.call('taking a snapshot', () => context.client().requestBytes('GET', 'sys/storage/snapshot'));
        if (!bytes) throw new CliError('Error taking a snapshot: the server did not answer with a snapshot file', 2);
        checked(bytes, 'the snapshot received is damaged (not saved)');
        try {
          writeFileAtomically(file, bytes);
        } catch (error) {
          throw new CliError(`Error writing ${JSON.stringify(file)}: ${(error as NodeJS.ErrnoException).code ?? 'failed'}`, 1);
        }
        return 0;
      }),
    );
  snapshot
    .command('restore')
    .description('Replace the whole store with the snapshot in FILE; the server seals and must be unsealed with the keys valid when the snapshot was taken')
    .argument('<file>', 'a file written by `operator snapshot save`')
    .action(
      action(async (context, file: string) => {
        let bytes: Buffer;
        try {
          bytes = fs.readFileSync(file);
        } catch (error) {
          throw new CliError(`Error reading ${JSON.stringify(file)}: ${(error as NodeJS.ErrnoException).code ?? 'failed'}`, 1);
        }
        checked(bytes, `${file} cannot be restored`);
        const { response } = await context.call('restoring the snapshot', () => context.client().requestBytes('POST', 'sys/storage/snapshot-restore', bytes));
        const data = isRecord(response?.data) ? response.data : {};
        if (context.format !== 'table') {
          context.print(formatStructured(data, context.format));
          return 0;
        }
        const expired = typeof data.expired_leases === 'number' ? data.expired_leases : 0;
        context.print(
          [
            `Success! The store was restored from the snapshot taken at ${String(data.snapshot_created_at ?? 'an unknown time')}.`,
            'Leasehold is now sealed: unseal it with the unseal keys that were valid when the snapshot was taken.',
            `${expired} lease${expired === 1 ? '' : 's'} in the snapshot ${expired === 1 ? 'is' : 'are'} past expiry and will be revoked after unseal.`,
          ].join('\n'),
        );
        return 0;
      }),
    );
}
