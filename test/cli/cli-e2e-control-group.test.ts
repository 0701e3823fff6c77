// End to end: a justification from -header or LEASEHOLD_JUSTIFICATION, and `control-group
// pending|request|authorize|deny` against a dev server, with entity-bound AppRole tokens.
import { startCliHarness, type CliHarness } from './cli-harness';

let h: CliHarness;
beforeAll(async () => {
  h = await startCliHarness();
});
afterAll(async () => {
  await h?.close();
});

/** A plain HTTP call for the setup (the CLI is what is under test). */
async function api(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${h.url}/v1/${path}`, { method, headers: { 'X-Vault-Token': token, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function login(role: string, policies: string[]) {
  await api('POST', `auth/approle/role/${role}`, 'root', { token_policies: policies });
  const roleId = (await api('GET', `auth/approle/role/${role}/role-id`, 'root')).body.data.role_id;
  const secretId = (await api('POST', `auth/approle/role/${role}/secret-id`, 'root')).body.data.secret_id;
  const res = await fetch(`${h.url}/v1/auth/approle/login`, { method: 'POST', body: JSON.stringify({ role_id: roleId, secret_id: secretId }) });
  const auth = ((await res.json()) as { auth: { client_token: string; entity_id: string } }).auth;
  return { token: auth.client_token, entityId: auth.entity_id };
}

describe('leasehold control-group and -header', () => {
  it('asks with a justification, lists, authorizes and denies', async () => {
    expect((await api('POST', 'sys/auth/approle', 'root', { type: 'approle' })).status).toBe(204);
    await api('POST', 'secret/data/cg-cli', 'root', { data: { password: 'released-value' } });
    const governed = `path "secret/data/cg-cli" {
      capabilities = ["read"]
      justification { required = true, pattern = "^INC-[0-9]+" }
      control_group = { factor "leads" { identity { group_names = ["cli-leads"], approvals = 2 } } }
    }`;
    expect((await api('PUT', 'sys/policies/acl/cg-cli', 'root', { policy: governed })).status).toBe(204);
    const approver = `path "sys/control-group/*" { capabilities = ["update", "list"] }`;
    expect((await api('PUT', 'sys/policies/acl/cg-approver', 'root', { policy: approver })).status).toBe(204);
    const dev = await login('dev', ['cg-cli']);
    const alice = await login('alice', ['cg-approver']);
    const bob = await login('bob', ['cg-approver']);
    expect((await api('POST', 'identity/group', 'root', { name: 'cli-leads', member_entity_ids: [alice.entityId, bob.entityId] })).status).toBe(200);

    const refused = await h.cli(['read', 'secret/data/cg-cli'], { token: dev.token });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('X-Leasehold-Justification');
    expect((await h.cli(['read', '-header=X-Vault-Token=other', 'secret/data/cg-cli'], { token: dev.token })).code).toBe(1);

    const asked = await h.cli(['read', '-format=json', '-header=X-Leasehold-Justification=INC-12 from the CLI', 'secret/data/cg-cli'], { token: dev.token });
    expect(asked.code).toBe(0);
    const wrap = JSON.parse(asked.stdout).wrap_info as { token: string; accessor: string };
    expect(JSON.parse(asked.stdout).data).toBeNull();

    const pending = await h.cli(['control-group', 'pending', '-format=json'], { token: alice.token });
    expect(pending.code).toBe(0);
    expect(JSON.parse(pending.stdout).keys).toEqual([wrap.accessor]);
    const pendingTable = await h.cli(['control-group', 'pending'], { token: alice.token });
    expect(pendingTable.stdout).toMatch(/INC-12 from the CLI/);

    const first = await h.cli(['control-group', 'authorize', '-format=json', wrap.accessor], { token: alice.token });
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ approved: false });
    expect((await h.cli(['control-group', 'authorize', wrap.accessor], { token: dev.token })).code).toBe(2);
    const second = await h.cli(['control-group', 'authorize', wrap.accessor], { token: bob.token });
    expect(second.stdout).toMatch(/approved\s+true/);
    const status = await h.cli(['control-group', 'request', wrap.accessor], { token: alice.token });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/justification\s+INC-12 from the CLI/);
    expect(status.stdout).toMatch(/approved\s+true/);

    const unwrapped = await h.cli(['unwrap', '-format=json', wrap.token], { token: dev.token });
    expect(unwrapped.code).toBe(0);
    expect(JSON.parse(unwrapped.stdout).data.data).toEqual({ password: 'released-value' });

    // LEASEHOLD_JUSTIFICATION gives the reason on any command; deny ends that request.
    const again = await h.cli(['read', '-format=json', 'secret/data/cg-cli'], { token: dev.token, env: { LEASEHOLD_JUSTIFICATION: 'INC-13 env' } });
    expect(again.code).toBe(0);
    const accessor = JSON.parse(again.stdout).wrap_info.accessor as string;
    expect((await h.cli(['control-group', 'deny', accessor], { token: bob.token })).code).toBe(1);
    const denied = await h.cli(['control-group', 'deny', accessor, '-reason=not today'], { token: bob.token });
    expect(denied.code).toBe(0);
    const after = await h.cli(['control-group', 'request', '-format=json', accessor], { token: bob.token });
    expect(JSON.parse(after.stdout)).toMatchObject({ approved: false, state: 'denied', justification: 'INC-13 env' });
  }, 120_000);
});
