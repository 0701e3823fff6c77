// `secrets tune PATH`: a mount's TTLs and description through sys/mounts/PATH/tune, as Vault's command.
import type { Command } from 'commander';
import { action, parseDurationFlag } from '../context';
import { printWriteResult } from '../output';
import { mountPathWithSlash } from './secrets';

interface TuneOptions {
  defaultLeaseTtl?: string;
  maxLeaseTtl?: string;
  description?: string;
}

/** Adds `tune` to the `secrets` group. */
export function registerSecretsTuneCommand(secrets: Command): void {
  secrets
    .command('tune')
    .description('Tune a secrets engine: its default and maximum lease TTLs, its description')
    .argument('<path>', 'mount path')
    .option('--default-lease-ttl <duration>', 'default lease TTL, e.g. 1h')
    .option('--max-lease-ttl <duration>', 'maximum lease TTL, e.g. 24h')
    .option('--description <text>', 'human-friendly description')
    .action(
      action(async (context, rawPath: string, options: TuneOptions) => {
        const path = mountPathWithSlash(rawPath);
        const body: Record<string, unknown> = {};
        if (options.defaultLeaseTtl !== undefined) body.default_lease_ttl = parseDurationFlag('default-lease-ttl', options.defaultLeaseTtl);
        if (options.maxLeaseTtl !== undefined) body.max_lease_ttl = parseDurationFlag('max-lease-ttl', options.maxLeaseTtl);
        if (options.description !== undefined) body.description = options.description;
        const response = await context.call(`tuning secrets engine ${path}`, () => context.client().write(`sys/mounts/${path}tune`, body, 'POST'));
        return printWriteResult(context, response, `Success! Tuned the secrets engine at: ${path}`);
      }),
    );
}
