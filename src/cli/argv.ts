// Rewrites the vault CLI's single-dash long flags (`-mount=secret`, `-format json`) into commander's `--` form.
import type { Command } from 'commander';

/** What a long option needs to be rewritten: whether it takes a value (`-x=v`) or is a switch (`-x=true`). */
export type LongOptionKind = 'value' | 'boolean';

const SINGLE_DASH_LONG = /^-([A-Za-z][A-Za-z0-9_-]+)(=.*)?$/;

/**
 * Vault users type `-mount=secret` and `-cas-required=true`; commander only knows `--mount` and
 * `--cas-required`/`--no-cas-required`. Only names the program declares are rewritten, so a stray
 * `-xyz` still reaches commander as an unknown option; nothing after `--` is touched.
 */
export function normalizeVaultFlags(argv: readonly string[], known: ReadonlyMap<string, LongOptionKind>): string[] {
  const result: string[] = [];
  let passthrough = false;
  for (const arg of argv) {
    if (passthrough || arg === '--') {
      passthrough = true;
      result.push(arg);
      continue;
    }
    const single = SINGLE_DASH_LONG.exec(arg);
    const name = single ? (single[1] as string) : arg.startsWith('--') ? arg.slice(2).split('=')[0] ?? '' : '';
    const inline = single ? single[2] : arg.startsWith('--') && arg.includes('=') ? arg.slice(arg.indexOf('=')) : undefined;
    const kind = known.get(name);
    if (kind === undefined) {
      result.push(arg);
    } else if (kind === 'boolean' && inline !== undefined && /^=(true|false|1|0)$/i.test(inline)) {
      // Go's flag package accepts `-flag=false`; commander spells that `--no-flag`.
      result.push(/^=(true|1)$/i.test(inline) ? `--${name}` : `--no-${name}`);
    } else {
      result.push(`--${name}${inline ?? ''}`);
    }
  }
  return result;
}

/** Collects every long option declared anywhere in the program, for normalizeVaultFlags. */
export function collectLongOptions(program: Command): Map<string, LongOptionKind> {
  const known = new Map<string, LongOptionKind>([['help', 'boolean']]);
  const visit = (command: Command): void => {
    for (const option of command.options) {
      if (!option.long) continue;
      const kind: LongOptionKind = option.required || option.optional ? 'value' : 'boolean';
      const names = [option.long.slice(2)];
      // `--no-x` also makes `-x=false` meaningful.
      if (option.negate) names.push(option.long.slice('--no-'.length));
      // A name that takes a value anywhere is never rewritten as a switch.
      for (const name of names) if (known.get(name) !== 'value') known.set(name, kind);
    }
    command.commands.forEach(visit);
  };
  visit(program);
  return known;
}
