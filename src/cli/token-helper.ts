// Vault's default token helper: the token `login` stores in ~/.vault-token, which the CLI reads
// when no token variable is set. The file is written owner-only; its content is never printed
// except by `print token`, which exists to print it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where the token helper keeps the token: `$HOME/.vault-token`, as Vault's CLI does. */
export function tokenHelperPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.HOME?.trim() || os.homedir(), '.vault-token');
}

/** The stored token, or undefined when there is none (a missing or empty file is not an error). */
export function readHelperToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  try {
    const token = fs.readFileSync(tokenHelperPath(env), 'utf8').trim();
    return token === '' || token.length > 4096 ? undefined : token;
  } catch {
    return undefined;
  }
}

/** Stores `token` for later commands, readable by the owner only. */
export function storeHelperToken(token: string, env: NodeJS.ProcessEnv = process.env): void {
  const file = tokenHelperPath(env);
  fs.writeFileSync(file, token, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}
