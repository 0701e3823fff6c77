// Control groups driven by the real Python client (Debian's python3-hvac): hvac's read, adapter
// posts to sys/control-group/*, and client.sys.unwrap before and after approval, against a real
// listener; the credential unwrapped logs in to a real PostgreSQL.
import path from 'node:path';
import { tryLogin } from '../pg/cluster';
import { databaseVault } from '../engines/database/setup';
import { APPROVER_POLICY, releaseHelpers } from '../governance/release-setup';
import { runPython } from '../helpers/python';
import { listen } from '../helpers/vault';

describe('python3-hvac: control groups', () => {
  it('reads a governed path, approves through the adapter and unwraps a working credential', async () => {
    const s = await databaseVault();
    const server = await listen(s.app);
    try {
      await s.role('cghvac');
      const h = releaseHelpers(s.app, s.root);
      await h.policy(
        'cghvac',
        `path "database/creds/cghvac" {
          capabilities = ["read"]
          control_group = { factor "leads" { identity { group_names = ["hvac-leads"], approvals = 2 } } }
        }
        path "sys/control-group/request" { capabilities = ["update"] }`,
      );
      await h.policy('approver', APPROVER_POLICY);
      const dev = await h.login('dev', ['cghvac']);
      const alice = await h.login('alice', ['approver']);
      const bob = await h.login('bob', ['approver']);
      await h.group('hvac-leads', [alice.entityId, bob.entityId]);
      const run = await runPython(path.join(__dirname, 'hvac', 'control_group.py'), { VAULT_ADDR: server.url, REQUESTER_TOKEN: dev.token, ALICE_TOKEN: alice.token, BOB_TOKEN: bob.token });
      expect(run.code === 0 ? 'ok' : run.stderr).toBe('ok');
      const out = JSON.parse(run.stdout) as { username: string; password: string; lease_id: string };
      expect(out.lease_id).toMatch(/^database\/creds\/cghvac\//);
      expect((await tryLogin(s.scratch.login(out.username, out.password))).ok).toBe(true);
    } finally {
      await server.close();
      await s.close();
    }
  }, 60_000);
});
