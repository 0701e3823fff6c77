// Dynamic PostgreSQL credentials driven by the real Python client (Debian's python3-hvac) against a
// real listener and a real PostgreSQL: the role hvac's generate_credentials gets logs in, and
// hvac's revoke_lease drops it.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createScratch, connect, tryLogin, type Scratch } from '../pg/cluster';
import { CREATE_ROLE_SQL } from '../engines/database/setup';
import { SYSTEM_PYTHON } from '../helpers/python';
import { listen, unsealedVault } from '../helpers/vault';

describe('python3-hvac: database credentials', () => {
  it('configures, creates a role, generates a credential that logs in, renews and revokes it (role dropped)', async () => {
    const scratch: Scratch = await createScratch();
    const v = await unsealedVault();
    const server = await listen(v.app);
    try {
      const child = spawn(SYSTEM_PYTHON, [path.join(__dirname, 'hvac', 'database.py')], {
        env: {
          PATH: '/usr/bin:/bin',
          HOME: process.env.HOME ?? '/tmp',
          VAULT_ADDR: server.url,
          VAULT_TOKEN: v.rootToken,
          PG_CONNECTION_URL: scratch.connectionUrl,
          PG_USERNAME: scratch.vaultUser,
          PG_PASSWORD: scratch.vaultPassword,
          CREATION_SQL: CREATE_ROLE_SQL,
        },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const lines: string[] = [];
      let pending = '';
      const nextLine = () =>
        new Promise<string>((resolve, reject) => {
          const poll = () => {
            const line = lines.shift();
            if (line !== undefined) return resolve(line);
            if (child.exitCode !== null) return reject(new Error(`hvac script exited ${child.exitCode}: ${stderr}`));
            setTimeout(poll, 20);
          };
          poll();
        });
      child.stdout.on('data', (d: Buffer) => {
        pending += d.toString();
        const parts = pending.split('\n');
        pending = parts.pop() ?? '';
        lines.push(...parts.filter((p) => p !== ''));
      });
      const issued = JSON.parse(await nextLine()) as { username: string; password: string; lease_id: string };
      expect(issued.lease_id).toMatch(/^database\/creds\/app\//);
      expect(await scratch.roleExists(issued.username)).toBe(true);
      const session = await connect(scratch.login(issued.username, issued.password));
      expect((await session.query('SELECT current_user AS u')).rows[0].u).toBe(issued.username);
      await session.end().catch(() => undefined);

      child.stdin.write('REVOKE\n');
      expect(JSON.parse(await nextLine())).toEqual({ revoked: true });
      await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
      expect({ code: child.exitCode, stderr: stderr.split('\n').filter((l) => l.startsWith('check failed')) }).toEqual({ code: 0, stderr: [] });
      expect(await scratch.roleExists(issued.username)).toBe(false);
      expect((await tryLogin(scratch.login(issued.username, issued.password))).ok).toBe(false);
    } finally {
      await server.close();
    }
  }, 60_000);
});
