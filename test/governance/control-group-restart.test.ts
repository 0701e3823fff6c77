// A control-group request survives a restart: a vault on a data file is sealed and closed between
// the first and the second approval, reopened and unsealed; the pending request is still pending
// (unwrap refused, nothing issued), then completes into a working PostgreSQL credential. The stored
// request is barrier-encrypted: its justification and path are not in the entries table in plaintext.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createScratch, type Scratch, tryLogin } from '../pg/cluster';
import { CREATE_ROLE_SQL } from '../engines/database/setup';
import { newVault } from '../helpers/vault';
import { APPROVER_POLICY, releaseHelpers } from './release-setup';

const POLICY = `
path "database/creds/cgrestart" {
  capabilities = ["read"]
  control_group = {
    ttl = "1h"
    factor "leads" { identity { group_names = ["leads"], approvals = 2 } }
  }
}
`;

describe('control groups across a restart', () => {
  let dir: string;
  let scratch: Scratch;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-cg-'));
    scratch = await createScratch();
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('loses nothing: the pending request, its approval and its token outlive the process', async () => {
    const file = path.join(dir, 'vault.db');
    const first = newVault({ file });
    const { keys, rootToken } = await first.vault.initialize(1, 1);
    const key = Buffer.from(keys[0] as Uint8Array).toString('hex');
    await first.vault.seal.submitShare(key);
    const root = { 'X-Vault-Token': rootToken };
    expect((await request(first.app).post('/v1/sys/mounts/database').set(root).send({ type: 'database' })).status).toBe(204);
    const configured = await request(first.app).post('/v1/database/config/pg').set(root).send({
      plugin_name: 'postgresql-database-plugin',
      connection_url: scratch.connectionUrl,
      username: scratch.vaultUser,
      password: scratch.vaultPassword,
      allowed_roles: '*',
    });
    expect(configured.status).toBe(204);
    expect((await request(first.app).post('/v1/database/roles/cgrestart').set(root).send({ db_name: 'pg', creation_statements: [CREATE_ROLE_SQL], default_ttl: '1h' })).status).toBe(204);
    const h = releaseHelpers(first.app, root);
    await h.policy('cg', POLICY);
    await h.policy('approver', APPROVER_POLICY);
    const dev = await h.login('dev', ['cg']);
    const alice = await h.login('alice', ['approver']);
    const bob = await h.login('bob', ['approver']);
    await h.group('leads', [alice.entityId, bob.entityId]);
    const reason = `CHG-${Math.floor(Math.random() * 1e9)} restart-proof`;
    const asked = await request(first.app).get('/v1/database/creds/cgrestart').set(dev.headers).set('X-Leasehold-Justification', reason);
    expect(asked.status).toBe(200);
    const { token, accessor } = asked.body.wrap_info as { token: string; accessor: string };
    expect((await request(first.app).post('/v1/sys/control-group/authorize').set(alice.headers).send({ accessor })).body.data).toEqual({ approved: false });

    // Stored through the barrier: the entries table has the key, never the request in plaintext.
    const stored = first.db.prepare('SELECT value FROM entries WHERE path LIKE ?').all('%control-group/%') as { value: Buffer }[];
    expect(stored).toHaveLength(1);
    expect(Buffer.from(stored[0]!.value).toString('latin1')).not.toContain(reason);
    expect(Buffer.from(stored[0]!.value).toString('latin1')).not.toContain('cgrestart');

    await first.vault.seal.seal();
    first.db.close();

    const second = newVault({ file });
    await second.vault.seal.submitShare(key);
    const status = await request(second.app).post('/v1/sys/control-group/request').set(alice.headers).send({ accessor });
    expect(status.status).toBe(200);
    expect(status.body.data).toMatchObject({ approved: false, justification: reason, authorizations: [{ entity_id: alice.entityId }] });
    expect((await request(second.app).post('/v1/sys/wrapping/unwrap').set('X-Vault-Token', token).send({})).status).toBe(400);
    expect(second.db.prepare("SELECT count(*) AS n FROM leases WHERE request_path = 'creds/cgrestart'").get()).toEqual({ n: 0 });
    expect((await request(second.app).post('/v1/sys/control-group/authorize').set(bob.headers).send({ accessor })).body.data).toEqual({ approved: true });
    const released = await request(second.app).post('/v1/sys/wrapping/unwrap').set('X-Vault-Token', token).send({});
    expect(released.status).toBe(200);
    expect((await tryLogin(scratch.login(released.body.data.username, released.body.data.password))).ok).toBe(true);
    const lookup = await request(second.app).put('/v1/sys/leases/lookup').set(root).send({ lease_id: released.body.lease_id });
    expect(lookup.body.data.approvers.map((a: { entity_id: string }) => a.entity_id).sort()).toEqual([alice.entityId, bob.entityId].sort());
    await second.vault.seal.seal();
    second.db.close();
  });
});
