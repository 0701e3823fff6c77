// `login`, `print token` and `version`: the session commands of Vault's CLI. `login TOKEN` (or
// `-` for stdin, or a prompt-free stdin) checks the token with lookup-self and stores it with the
// token helper (~/.vault-token), which later commands read when no token variable is set.
import type { Command } from 'commander';
import { isRecord, VaultClient } from '../client';
import { action, CliError } from '../context';
import { formatStructured, formatKeyValueTable } from '../format';
import { printSecret } from '../output';
import { readHelperToken, storeHelperToken } from '../token-helper';

/** The CLI's version, as `leasehold version` prints it (the package version). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = (require('../../../package.json') as { version: string }).version;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Registers `login`, `print token` and `version`. */
export function registerSessionCommands(program: Command): void {
  program
    .command('login')
    .description('Authenticate with a token (argument, or "-" / stdin) and store it in ~/.vault-token')
    .argument('[token]', 'the token, or - to read it from stdin')
    .option('--no-store', 'do not store the token with the token helper')
    .action(
      action(async (context, given: string | undefined, options: { store: boolean }) => {
        const token = (given === undefined || given === '-' ? await readStdin() : given).trim();
        if (token === '' || token.length > 4096) throw new CliError('Error authenticating: a token is required (leasehold login TOKEN)', 1);
        const client = new VaultClient({ address: context.client().settings.address, token });
        const self = await context.call('authenticating', () => client.read('auth/token/lookup-self'));
        const data = isRecord(self?.data) ? self.data : {};
        if (options.store) storeHelperToken(token);
        if (context.format !== 'table') {
          context.print(formatStructured(self, context.format));
          return 0;
        }
        context.print('Success! You are now authenticated. The token information displayed below is already stored in the token helper. You do NOT need to run "leasehold login" again.\n');
        context.print(
          formatKeyValueTable([
            ['token', token],
            ['token_accessor', data.accessor ?? ''],
            ['token_duration', data.ttl ?? ''],
            ['token_renewable', data.renewable ?? false],
            ['token_policies', data.policies ?? []],
          ]),
        );
        return 0;
      }),
    );

  program
    .command('print')
    .description('Print runtime values: "print token" prints the token in use')
    .argument('<what>', 'token')
    .action(
      action(async (context, what: string) => {
        if (what !== 'token') throw new CliError(`Error: unknown value to print "${what.slice(0, 64)}" (expected: token)`, 1);
        const token = context.client().settings.token ?? readHelperToken();
        if (token !== undefined) context.print(token);
        return 0;
      }),
    );

  program
    .command('unwrap')
    .description('Unwrap a response-wrapping token (default: the current token is the wrapping token)')
    .argument('[token]', 'the wrapping token')
    .option('--field <name>', 'print only this field')
    .action(
      action(async (context, token: string | undefined, options: { field?: string }) => {
        const wrapping = token?.trim();
        const response = await context.call('unwrapping', () => context.client().write('sys/wrapping/unwrap', wrapping ? { token: wrapping } : {}));
        return printSecret(context, response ?? {}, options.field);
      }),
    );

  program
    .command('version')
    .description('Print the CLI version')
    .action(
      action(async (context) => {
        context.print(`Leasehold v${VERSION}`);
        return 0;
      }),
    );
}
