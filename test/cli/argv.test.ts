// Vault's single-dash flags rewritten for commander.
import { Command } from 'commander';
import { collectLongOptions, normalizeVaultFlags } from '../../src/cli/argv';
import { buildProgram } from '../../src/cli/program';

describe('normalizeVaultFlags', () => {
  const known = collectLongOptions(buildProgram());

  it('rewrites declared single-dash long flags, with "=value" or a separate value', () => {
    expect(normalizeVaultFlags(['kv', 'get', '-mount=secret', '-format', 'json', '-version=2', 'app'], known)).toEqual([
      'kv',
      'get',
      '--mount=secret',
      '--format',
      'json',
      '--version=2',
      'app',
    ]);
  });

  it('maps -flag=true/false on switches to --flag/--no-flag', () => {
    expect(normalizeVaultFlags(['-cas-required=false', '-cas-required=true', '--cas-required=0'], known)).toEqual([
      '--no-cas-required',
      '--cas-required',
      '--no-cas-required',
    ]);
  });

  it('leaves data, "-", short flags, unknown flags and everything after "--" alone', () => {
    const argv = ['kv', 'put', 'secret/x', '-', 'a=-b', '-f', '-unknown', '--', '-mount=x'];
    expect(normalizeVaultFlags(argv, known)).toEqual(argv);
  });

  it('collects names from nested commands and negations', () => {
    const program = new Command('p');
    program.command('a').command('b').option('--deep <v>').option('--no-color');
    const names = collectLongOptions(program);
    expect(names.get('deep')).toBe('value');
    expect(names.get('no-color')).toBe('boolean');
    expect(names.get('color')).toBe('boolean');
  });
});
