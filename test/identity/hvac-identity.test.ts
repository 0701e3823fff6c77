// Real hvac (Debian's python3-hvac) against a real listener: entities, aliases, groups and lookup
// through `client.secrets.identity.*`, unchanged.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { listen, unsealedVault } from '../helpers/vault';

const run = promisify(execFile);

/** Runs a Python snippet with an hvac `client` bound to the vault; returns what it prints as JSON. */
async function hvac(url: string, token: string, body: string): Promise<any> {
  const script = `import hvac, json, sys\nclient = hvac.Client(url=${JSON.stringify(url)}, token=${JSON.stringify(token)})\nout = {}\n${body}\nprint(json.dumps(out))\n`;
  const { stdout } = await run('/usr/bin/python3', ['-c', script], { timeout: 30_000 });
  return JSON.parse(stdout);
}

describe('identity/ through real hvac', () => {
  let url: string;
  let close: () => Promise<void>;
  let root: string;

  beforeAll(async () => {
    const v = await unsealedVault();
    root = v.rootToken;
    const server = await listen(v.app);
    url = server.url;
    close = server.close;
  });
  afterAll(async () => close());

  it('creates, reads, updates, lists and deletes entities, aliases and groups, and looks entities up', async () => {
    const out = await hvac(
      url,
      root,
      `
client.sys.enable_auth_method('approle')
accessor = client.sys.list_auth_methods()['data']['approle/']['accessor']
out['accessor'] = accessor
created = client.secrets.identity.create_or_update_entity(name='billing', metadata={'owner': 'team-billing'}, policies=['billing-read'])
eid = created['data']['id']
out['created'] = created['data']
out['read'] = client.secrets.identity.read_entity(entity_id=eid)['data']
out['by_name'] = client.secrets.identity.read_entity_by_name(name='billing')['data']['id']
client.secrets.identity.update_entity(entity_id=eid, name='billing', policies=['billing-read', 'extra'])
out['updated_policies'] = client.secrets.identity.read_entity(entity_id=eid)['data']['policies']
client.secrets.identity.create_or_update_entity(name='other')
out['list'] = client.secrets.identity.list_entities()['data']
out['list_by_name'] = client.secrets.identity.list_entities_by_name()['data']['keys']
alias = client.secrets.identity.create_or_update_entity_alias(name='role-id-1', canonical_id=eid, mount_accessor=accessor)
out['alias'] = alias['data']
out['alias_read'] = client.secrets.identity.read_entity_alias(alias_id=alias['data']['id'])['data']
out['alias_list'] = client.secrets.identity.list_entity_aliases()['data']['keys']
try:
    client.secrets.identity.create_or_update_entity_alias(name='x', canonical_id=eid, mount_accessor='auth_nope_00000000')
    out['bad_accessor'] = 'accepted'
except hvac.exceptions.InvalidRequest as e:
    out['bad_accessor'] = str(e)
group = client.secrets.identity.create_or_update_group(name='finance', policies=['finance'], member_entity_ids=[eid], metadata={'team': 'fin'})
gid = group['data']['id']
out['group'] = group['data']
out['group_read'] = client.secrets.identity.read_group(group_id=gid)['data']
out['group_by_name'] = client.secrets.identity.read_group_by_name(name='finance')['data']['id']
out['group_list'] = client.secrets.identity.list_groups()['data']['keys']
out['group_list_by_name'] = client.secrets.identity.list_groups_by_name()['data']['keys']
out['entity_groups'] = client.secrets.identity.read_entity(entity_id=eid)['data']['group_ids']
out['lookup_name'] = client.secrets.identity.lookup_entity(name='billing')['data']['id']
out['lookup_id'] = client.secrets.identity.lookup_entity(entity_id=eid)['data']['name']
out['lookup_alias'] = client.secrets.identity.lookup_entity(alias_name='role-id-1', alias_mount_accessor=accessor)['data']['id']
missing = client.secrets.identity.lookup_entity(name='nobody')
out['lookup_missing'] = missing.status_code if hasattr(missing, 'status_code') else missing
client.secrets.identity.delete_entity_alias(alias_id=alias['data']['id'])
client.secrets.identity.delete_group(group_id=gid)
client.secrets.identity.delete_entity_by_name(name='other')
out['after_delete'] = client.secrets.identity.list_entities_by_name()['data']['keys']
out['mounted'] = 'identity/' in client.sys.list_mounted_secrets_engines()['data']
try:
    client.sys.disable_secrets_engine('identity')
    out['disable'] = 'disabled'
except hvac.exceptions.InvalidRequest as e:
    out['disable'] = str(e)
out['still_mounted'] = 'identity/' in client.sys.list_mounted_secrets_engines()['data']
`,
    );
    expect(out.accessor).toMatch(/^auth_approle_[0-9a-f]{8}$/);
    expect(out.created).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: 'billing', aliases: null });
    const id = out.created.id;
    expect(out.read).toMatchObject({ id, name: 'billing', metadata: { owner: 'team-billing' }, policies: ['billing-read'], disabled: false, aliases: [], namespace_id: 'root' });
    expect(out.by_name).toBe(id);
    expect(out.updated_policies).toEqual(['billing-read', 'extra']);
    expect(out.list.keys).toHaveLength(2);
    expect(out.list.key_info[id]).toMatchObject({ name: 'billing' });
    expect(out.list_by_name).toEqual(['billing', 'other']);
    expect(out.alias).toEqual({ canonical_id: id, id: expect.any(String) });
    expect(out.alias_read).toMatchObject({ name: 'role-id-1', canonical_id: id, mount_accessor: out.accessor, mount_path: 'auth/approle/', mount_type: 'approle' });
    expect(out.alias_list).toEqual([out.alias.id]);
    expect(out.bad_accessor).toContain('invalid mount accessor');
    expect(out.group).toEqual({ id: expect.any(String), name: 'finance' });
    expect(out.group_read).toMatchObject({ name: 'finance', policies: ['finance'], member_entity_ids: [id], metadata: { team: 'fin' }, type: 'internal' });
    expect(out.group_by_name).toBe(out.group.id);
    expect(out.group_list).toEqual([out.group.id]);
    expect(out.group_list_by_name).toEqual(['finance']);
    expect(out.entity_groups).toEqual([out.group.id]);
    expect(out.lookup_name).toBe(id);
    expect(out.lookup_id).toBe('billing');
    expect(out.lookup_alias).toBe(id);
    expect(out.lookup_missing).toBe(204);
    expect(out.after_delete).toEqual(['billing']);
    // Builtin, as in Vault: mounted by default and not disable-able.
    expect(out.mounted).toBe(true);
    expect(out.disable).toContain('cannot unmount');
    expect(out.still_mounted).toBe(true);
  });
});
