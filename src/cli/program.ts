// Builds the `leasehold` command tree and runs it on an argv, accepting Vault's `-flag` spelling.
import { Command } from 'commander';
import { collectLongOptions, normalizeVaultFlags } from './argv';
import { registerAuditCommands } from './commands/audit';
import { registerAuthCommands } from './commands/auth';
import { registerGenericCommands } from './commands/generic';
import { registerGovernanceCommands } from './commands/governance';
import { registerKvCommands } from './commands/kv';
import { registerLeaseCommands } from './commands/lease';
import { registerOperatorCommands } from './commands/operator';
import { registerPolicyCommands } from './commands/policy';
import { registerSecretsCommands } from './commands/secrets';
import { registerServerCommand } from './commands/server';
import { registerStatusCommand } from './commands/status';
import { registerTokenCommands } from './commands/token';

/** The whole command tree; global options may come before or after the subcommand, as in Vault. */
export function buildProgram(): Command {
  const program = new Command('leasehold')
    .description('Leasehold: a secrets vault that speaks HashiCorp Vault\'s HTTP API')
    .option('--address <url>', 'server address (default: $LEASEHOLD_ADDR, $VAULT_ADDR, http://127.0.0.1:8200)')
    .option('--format <format>', 'output format: table or json', 'table')
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
  return program;
}

/** Parses `argv` (without node and script) and runs the chosen command; the exit code is left in process.exitCode. */
export async function runCli(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  await program.parseAsync(normalizeVaultFlags(argv, collectLongOptions(program)), { from: 'user' });
}
