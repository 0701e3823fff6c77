// Builds the `leasehold` command tree and runs it on an argv, accepting Vault's `-flag` spelling.
import { Command } from 'commander';
import { collectLongOptions, normalizeVaultFlags } from './argv';
import { registerAuditCommands } from './commands/audit';
import { registerAuthCommands } from './commands/auth';
import { registerControlGroupCommands } from './commands/control-group';
import { collectValues } from './context';
import { registerGenericCommands } from './commands/generic';
import { registerGovernanceCommands } from './commands/governance';
import { registerKvCommands } from './commands/kv';
import { registerLeaseCommands } from './commands/lease';
import { registerOperatorCommands } from './commands/operator';
import { registerOperatorKeyCommands } from './commands/operator-keys';
import { registerPolicyCommands } from './commands/policy';
import { registerSecretsCommands } from './commands/secrets';
import { registerSecretsTuneCommand } from './commands/secrets-tune';
import { registerServerCommand } from './commands/server';
import { registerSessionCommands } from './commands/session';
import { registerStatusCommand } from './commands/status';
import { registerTokenCommands } from './commands/token';

/** The whole command tree; global options may come before or after the subcommand, as in Vault. */
export function buildProgram(): Command {
  const program = new Command('leasehold')
    .description('Leasehold: a secrets vault that speaks HashiCorp Vault\'s HTTP API')
    .option('--address <url>', 'server address (default: $LEASEHOLD_ADDR, $VAULT_ADDR, http://127.0.0.1:8200)')
    .option('--format <format>', 'output format: table, json or yaml', 'table')
    .option('--wrap-ttl <duration>', 'wrap the response in a single-use token with this TTL (default: $VAULT_WRAP_TTL)')
    .option('--header <key=value>', 'an HTTP header for every request, repeatable (X-Leasehold-Justification from $LEASEHOLD_JUSTIFICATION)', collectValues, [] as string[])
    .showHelpAfterError()
    .showSuggestionAfterError();
  registerServerCommand(program);
  registerOperatorCommands(program);
  registerStatusCommand(program);
  registerKvCommands(program);
  registerGenericCommands(program);
  registerSecretsCommands(program);
  registerAuthCommands(program);
  registerAuditCommands(program);
  registerPolicyCommands(program);
  registerTokenCommands(program);
  registerLeaseCommands(program);
  registerGovernanceCommands(program);
  registerControlGroupCommands(program);
  registerSessionCommands(program);
  const operator = program.commands.find((command) => command.name() === 'operator');
  if (operator) registerOperatorKeyCommands(operator);
  const secrets = program.commands.find((command) => command.name() === 'secrets');
  if (secrets) registerSecretsTuneCommand(secrets);
  // Set after the subcommands copied the full-help setting: only the root's own errors (an unknown
  // command) get one line and a hint instead of the whole help, as `vault` does.
  program.showHelpAfterError('Run "leasehold -help" to see the commands.');
  return program;
}

/** Commander names options as it parsed them (`--field`); errors name them as the user typed them (`-field`). */
function reportFlagsAsTyped(program: Command, typed: readonly string[], normalized: readonly string[]): void {
  const typedName = new Map<string, string>();
  if (typed.length === normalized.length) {
    typed.forEach((arg, i) => {
      const parsed = normalized[i] as string;
      if (parsed === arg) return;
      typedName.set(parsed, arg);
      typedName.set(parsed.split('=')[0] as string, arg.split('=')[0] as string);
    });
  }
  const rewrite = (text: string) => text.replace(/'(--[^'\s]+)'/g, (whole, name: string) => (typedName.has(name) ? `'${typedName.get(name)}'` : whole));
  const visit = (command: Command): void => {
    command.configureOutput({ outputError: (text, write) => write(rewrite(text)) });
    command.commands.forEach(visit);
  };
  visit(program);
}

/** Parses `argv` (without node and script) and runs the chosen command; the exit code is left in process.exitCode. */
export async function runCli(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  const normalized = normalizeVaultFlags(argv, collectLongOptions(program));
  reportFlagsAsTyped(program, argv, normalized);
  await program.parseAsync(normalized, { from: 'user' });
}
