// `operator rekey` and `operator generate-root`: Vault's key ceremonies from the command line, with
// Vault's flags (-init, -cancel, -status, -nonce, -key-shares, -key-threshold, -otp, -decode).
import type { Command } from 'commander';
import { decodeToken } from '../../core/generate-root';
import { isRecord, type VaultResponse } from '../client';
import { action, CliError, type CommandContext, parseIntegerFlag } from '../context';
import { formatStructured, formatKeyValueTable } from '../format';
import { readHiddenLine } from '../terminal';

interface RekeyOptions {
  init?: boolean;
  cancel?: boolean;
  status?: boolean;
  nonce?: string;
  keyShares: string;
  keyThreshold: string;
}

interface GenerateRootOptions {
  init?: boolean;
  cancel?: boolean;
  status?: boolean;
  nonce?: string;
  otp?: string;
  decode?: string;
}

const body = (response: VaultResponse | undefined): Record<string, unknown> => (isRecord(response) ? response : {});

function printStatus(context: CommandContext, status: Record<string, unknown>, rows: Array<[string, unknown]>): void {
  context.print(context.format !== 'table' ? formatStructured(status, context.format) : formatKeyValueTable(rows));
}

/** One share, from the argument or typed without echo (first line of stdin when piped). */
async function readShare(argument: string | undefined): Promise<string> {
  const key = (argument ?? (await readHiddenLine('Unseal Key (will be hidden): '))).trim();
  if (key === '') throw new CliError('Error: an unseal key is required', 1);
  return key;
}

/** The nonce of the ceremony in progress when -nonce is not given (as Vault's CLI does). */
async function currentNonce(context: CommandContext, statusPath: string, given: string | undefined): Promise<string> {
  if (given) return given;
  const status = body(await context.call('reading the ceremony status', () => context.client().read(statusPath)));
  if (status.started !== true || typeof status.nonce !== 'string') throw new CliError('Error: no ceremony in progress; start one with -init', 2);
  return status.nonce;
}

/** Registers `operator rekey` and `operator generate-root` under `operator`. */
export function registerCeremonyCommands(operator: Command): void {
  operator
    .command('rekey')
    .description('Replace the unseal key shares: -init, then a threshold of current shares; prints the new shares once')
    .argument('[key]', 'one current unseal key share (omit it to be prompted without echo)')
    .option('--init', 'start a rekey')
    .option('--cancel', 'cancel the rekey in progress')
    .option('--status', 'show the rekey progress')
    .option('--nonce <nonce>', 'the rekey nonce (read from the server when omitted)')
    .option('--key-shares <n>', 'number of new key shares (with -init)', '5')
    .option('--key-threshold <t>', 'number of new shares needed to unseal (with -init)', '3')
    .action(
      action(async (context, keyArgument: string | undefined, options: RekeyOptions) => {
        const client = () => context.client();
        const rows = (s: Record<string, unknown>): Array<[string, unknown]> => [
          ['Nonce', s.nonce],
          ['Started', s.started],
          ['Rekey Progress', `${String(s.progress)}/${String(s.required)}`],
          ['New Shares', s.n],
          ['New Threshold', s.t],
        ];
        if (options.cancel) {
          await context.call('canceling rekey', () => client().delete('sys/rekey/init'));
          if (context.format === 'table') context.print('Success! Canceled rekeying (if it was started)');
          return 0;
        }
        if (options.status) {
          const status = body(await context.call('reading rekey status', () => client().read('sys/rekey/init')));
          printStatus(context, status, rows(status));
          return 0;
        }
        if (options.init) {
          const shares = parseIntegerFlag('key-shares', options.keyShares, 1);
          const threshold = parseIntegerFlag('key-threshold', options.keyThreshold, 1);
          const status = body(await context.call('initializing rekey', () => client().write('sys/rekey/init', { secret_shares: shares, secret_threshold: threshold })));
          printStatus(context, status, rows(status));
          return 0;
        }
        const nonce = await currentNonce(context, 'sys/rekey/init', options.nonce);
        const key = await readShare(keyArgument);
        const status = body(await context.call('rekeying', () => client().write('sys/rekey/update', { key, nonce })));
        if (status.complete !== true) {
          printStatus(context, status, rows(status));
          return 0;
        }
        const keys = Array.isArray(status.keys_base64) ? (status.keys_base64 as string[]) : [];
        if (context.format !== 'table') {
          context.print(formatStructured(status, context.format));
          return 0;
        }
        context.print(
          [
            ...keys.map((k, i) => `Key ${i + 1}: ${k}`),
            '',
            `Operation nonce: ${nonce}`,
            '',
            `Leasehold unseal keys rekeyed with ${keys.length} key shares.`,
            'Please securely distribute the key shares printed above. The old shares no longer unseal.',
            'These shares are shown this once: they exist nowhere else.',
          ].join('\n'),
        );
        return 0;
      }),
    );

  operator
    .command('generate-root')
    .description('Generate a new root token from a threshold of unseal key shares (-init, shares, then -decode)')
    .argument('[key]', 'one unseal key share (omit it to be prompted without echo)')
    .option('--init', 'start a root token generation (prints the OTP unless -otp is given)')
    .option('--cancel', 'cancel the generation in progress')
    .option('--status', 'show the generation progress')
    .option('--nonce <nonce>', 'the generation nonce (read from the server when omitted)')
    .option('--otp <otp>', 'the one-time password (with -init or -decode)')
    .option('--decode <encoded>', 'decode an encoded token with -otp (no server needed)')
    .action(
      action(async (context, keyArgument: string | undefined, options: GenerateRootOptions) => {
        const client = () => context.client();
        const rows = (s: Record<string, unknown>): Array<[string, unknown]> => [
          ['Nonce', s.nonce],
          ['Started', s.started],
          ['Progress', `${String(s.progress)}/${String(s.required)}`],
          ['Complete', s.complete],
          ['OTP Length', s.otp_length],
        ];
        if (options.decode !== undefined) {
          if (!options.otp) throw new CliError('Error: -decode needs -otp', 1);
          const token = decodeToken(options.decode, options.otp);
          context.print(context.format !== 'table' ? formatStructured({ token }, context.format) : token);
          return 0;
        }
        if (options.cancel) {
          await context.call('canceling root generation', () => client().delete('sys/generate-root/attempt'));
          if (context.format === 'table') context.print('Success! Root token generation canceled (if it was started)');
          return 0;
        }
        if (options.status) {
          const status = body(await context.call('reading root generation status', () => client().read('sys/generate-root/attempt')));
          printStatus(context, status, rows(status));
          return 0;
        }
        if (options.init) {
          const status = body(await context.call('initializing root generation', () => client().write('sys/generate-root/attempt', options.otp ? { otp: options.otp } : {})));
          printStatus(context, status, [...rows(status), ...(status.otp ? ([['OTP', status.otp]] as Array<[string, unknown]>) : [])]);
          return 0;
        }
        const nonce = await currentNonce(context, 'sys/generate-root/attempt', options.nonce);
        const key = await readShare(keyArgument);
        const status = body(await context.call('generating root', () => client().write('sys/generate-root/update', { key, nonce })));
        printStatus(context, status, [...rows(status), ...(status.complete === true ? ([['Encoded Token', status.encoded_token]] as Array<[string, unknown]>) : [])]);
        return 0;
      }),
    );
}
