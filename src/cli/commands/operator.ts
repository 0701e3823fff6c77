// `operator init|unseal|seal`: bringing a server from uninitialised to unsealed, and back to sealed.
import type { Command } from 'commander';
import { isRecord, type VaultResponse } from '../client';
import { action, CliError, parseIntegerFlag } from '../context';
import { formatStructured } from '../format';
import { readHiddenLine } from '../terminal';
import { registerOperatorAuditCommands } from './operator-audit';
import { registerCeremonyCommands } from './operator-ceremonies';
import { registerSnapshotCommands } from './operator-snapshot';
import { printSealStatus } from './status';

interface InitOptions {
  keyShares: string;
  keyThreshold: string;
  status?: boolean;
}

interface UnsealOptions {
  reset?: boolean;
}

/** The keys and root token from `sys/init`, in the shape `vault operator init -format=json` prints. */
export interface InitResult {
  unseal_keys_b64: string[];
  unseal_keys_hex: string[];
  unseal_shares: number;
  unseal_threshold: number;
  root_token: string;
}

/** Reads `sys/init`'s answer; base64 keys fall back to hex if a server sends only those. */
export function initResultFrom(response: VaultResponse | undefined, shares: number, threshold: number): InitResult {
  const body = isRecord(response) ? response : {};
  const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);
  const hex = strings(body.keys);
  const base64 = strings(body.keys_base64);
  return {
    unseal_keys_b64: base64.length > 0 ? base64 : hex,
    unseal_keys_hex: hex,
    unseal_shares: shares,
    unseal_threshold: threshold,
    root_token: typeof body.root_token === 'string' ? body.root_token : '',
  };
}

/**
 * The text `vault operator init` prints. Showing the keys and the root token is the purpose of
 * this command (they exist nowhere else), so this is the one place the CLI prints a token.
 */
export function formatInitResult(result: InitResult): string {
  const keys = result.unseal_keys_b64.map((key, index) => `Unseal Key ${index + 1}: ${key}`).join('\n');
  const t = result.unseal_threshold;
  return [
    keys,
    '',
    `Initial Root Token: ${result.root_token}`,
    '',
    `Leasehold initialized with ${result.unseal_shares} key shares and a key threshold of ${t}. Please securely`,
    'distribute the key shares printed above. When Leasehold is re-sealed, restarted,',
    `or stopped, you must supply at least ${t} of these keys to unseal it before it`,
    'can start servicing requests.',
    '',
    `Leasehold does not store the generated root key. Without at least ${t} keys to`,
    'reconstruct the root key, Leasehold will remain permanently sealed!',
  ].join('\n');
}

/** Registers the `operator` group. */
export function registerOperatorCommands(program: Command): void {
  const operator = program.command('operator').description('Initialise, unseal and seal the server');
  registerOperatorAuditCommands(operator);
  registerCeremonyCommands(operator);
  registerSnapshotCommands(operator);

  operator
    .command('init')
    .description('Initialise a new server: prints the unseal key shares and the initial root token')
    .option('-n, --key-shares <n>', 'number of unseal key shares to create', '5')
    .option('-t, --key-threshold <t>', 'number of shares needed to unseal', '3')
    .option('--status', 'only report whether the server is initialised (exit code 0: yes, 2: no)')
    .action(
      action(async (context, options: InitOptions) => {
        if (options.status) {
          const response = await context.call('checking initialization status', () => context.client().read('sys/init'));
          const initialized = isRecord(response) && response.initialized === true;
          context.print(initialized ? 'Leasehold is initialized' : 'Leasehold is not initialized');
          return initialized ? 0 : 2;
        }
        const shares = parseIntegerFlag('key-shares', options.keyShares, 1);
        const threshold = parseIntegerFlag('key-threshold', options.keyThreshold, 1);
        if (threshold > shares) throw new CliError('Error: -key-threshold cannot be greater than -key-shares', 1);
        const response = await context.call('initializing', () =>
          context.client().write('sys/init', { secret_shares: shares, secret_threshold: threshold }),
        );
        const result = initResultFrom(response, shares, threshold);
        context.print(context.format !== 'table' ? formatStructured(result, context.format) : formatInitResult(result));
        return 0;
      }),
    );

  operator
    .command('unseal')
    .description('Submit one unseal key share; prompts without echo when KEY is not given')
    .argument('[key]', 'the unseal key share (omit it to keep it out of shell history)')
    .option('--reset', 'discard the shares submitted so far')
    .action(
      action(async (context, keyArgument: string | undefined, options: UnsealOptions) => {
        let body: Record<string, unknown>;
        if (options.reset) {
          body = { reset: true };
        } else {
          const key = (keyArgument ?? (await readHiddenLine('Unseal Key (will be hidden): '))).trim();
          if (key === '') throw new CliError('Error: an unseal key is required', 1);
          body = { key };
        }
        const response = await context.call('unsealing', () => context.client().write('sys/unseal', body));
        printSealStatus(context, response);
        return 0;
      }),
    );

  operator
    .command('seal')
    .description('Seal the server: it forgets its keys until unsealed again')
    .action(
      action(async (context) => {
        await context.call('sealing', () => context.client().write('sys/seal', {}));
        if (context.format === 'table') context.print('Success! Leasehold is sealed.');
        return 0;
      }),
    );
}
