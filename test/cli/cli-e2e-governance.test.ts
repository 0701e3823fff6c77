// End to end: `governance ledger` and `governance verify` against a dev server, in table and JSON form.
import { useCliHarness } from './cli-harness';

const { cli } = useCliHarness();

describe('leasehold governance commands against a dev server', () => {
  it('ledger lists a token.created event with its owner; filters and -limit reach the API', async () => {
    const created = await cli(['write', '-format=json', 'auth/token/create', 'owner=team-cli', 'policies=default']);
    expect(created.code).toBe(0);
    const accessor = JSON.parse(created.stdout).auth.accessor as string;

    const json = await cli(['governance', 'ledger', '-format=json', '-owner=team-cli', '-event=token.created']);
    expect(json.code).toBe(0);
    const data = JSON.parse(json.stdout) as { events: Array<{ event: string; owner: string; accessor: string }>; next: string | null };
    expect(data.events).toEqual([expect.objectContaining({ event: 'token.created', owner: 'team-cli', accessor })]);
    expect(data.next).toBeNull();

    const table = await cli(['governance', 'ledger', '-owner=team-cli']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^Seq\s+At\s+Event\s+Entity\s+Owner\s+Actor\s+Lease\/Accessor\s+Path\s+Reason$/);
    expect(table.stdout).toContain(accessor);

    const paged = await cli(['governance', 'ledger', '-limit=1']);
    expect(paged.code).toBe(0);
    expect(paged.stderr).toMatch(/More events: continue with -after=\S+/);
    const cursor = /-after=(\S+)/.exec(paged.stderr)?.[1] as string;
    expect((await cli(['governance', 'ledger', `-after=${cursor}`, '-format=json'])).code).toBe(0);

    const tooMany = await cli(['governance', 'ledger', '-limit=5000']);
    expect(tooMany.code).toBe(1);
  });

  it('verify prints verified and the event count, exit 0', async () => {
    const json = await cli(['governance', 'verify', '-format=json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ verified: true, events: expect.any(Number) });
    const table = await cli(['governance', 'verify']);
    expect(table.stdout).toMatch(/verified\s+true/);
  });

  it('offboard -dry-run reports and changes nothing; offboard for real revokes; blast-radius shows policies', async () => {
    const policy = await cli(['policy', 'write', 'gov-reader', '-'], { input: 'path "secret/*" { capabilities = ["read"] }\n' });
    expect(policy.code).toBe(0);
    const created = await cli(['write', '-format=json', 'identity/entity', 'name=gov-cli', 'metadata=owner=team-gov', 'policies=gov-reader']);
    expect(created.code).toBe(0);
    const entityId = JSON.parse(created.stdout).data.id as string;

    const radius = await cli(['governance', 'blast-radius', '-format=json', entityId]);
    expect(radius.code).toBe(0);
    const blast = JSON.parse(radius.stdout) as { entity: { id: string; owner: string }; policies: string[] };
    expect(blast.entity).toEqual(expect.objectContaining({ id: entityId, owner: 'team-gov' }));
    expect(blast.policies).toContain('gov-reader');
    const radiusTable = await cli(['governance', 'blast-radius', entityId]);
    expect(radiusTable.code).toBe(0);
    expect(radiusTable.stdout).toMatch(/policies\s+.*gov-reader/);
    expect(radiusTable.stdout).toMatch(/owner\s+team-gov/);

    expect((await cli(['governance', 'blast-radius'])).code).toBe(1);
    expect((await cli(['governance', 'offboard', `-entity-id=${entityId}`])).code).toBe(1);
    expect((await cli(['governance', 'offboard', `-entity-id=${entityId}`, '-owner=team-gov', '-reason=x'])).code).toBe(1);
    expect((await cli(['governance', 'offboard', '-role-name=r', '-reason=x'])).code).toBe(1);

    const dry = await cli(['governance', 'offboard', '-format=json', `-entity-id=${entityId}`, '-reason=left the team', '-dry-run']);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toEqual(expect.objectContaining({ dry_run: true, entities: 1, entities_disabled: 1 }));
    const still = await cli(['read', '-format=json', `identity/entity/id/${entityId}`]);
    expect(JSON.parse(still.stdout).data.disabled).toBe(false);

    const real = await cli(['governance', 'offboard', `-entity-id=${entityId}`, '-reason=left the team']);
    expect(real.code).toBe(0);
    expect(real.stdout).toMatch(/entities_disabled\s+1/);
    expect(real.stdout).toMatch(/dry_run\s+false/);
    const after = await cli(['read', '-format=json', `identity/entity/id/${entityId}`]);
    expect(JSON.parse(after.stdout).data.disabled).toBe(true);

    const ledger = await cli(['governance', 'ledger', '-format=json', `-entity-id=${entityId}`]);
    const events = (JSON.parse(ledger.stdout) as { events: Array<{ event: string }> }).events.map((e) => e.event);
    expect(events).toEqual(expect.arrayContaining(['entity.disabled']));
  });

  it('blast-radius -accessor shows a token\'s policies', async () => {
    const created = await cli(['write', '-format=json', 'auth/token/create', 'owner=team-acc', 'policies=default']);
    const accessor = JSON.parse(created.stdout).auth.accessor as string;
    const radius = await cli(['governance', 'blast-radius', '-format=json', `-accessor=${accessor}`]);
    expect(radius.code).toBe(0);
    const blast = JSON.parse(radius.stdout) as { entity: { owner: string }; policies: string[]; holds: { tokens: Array<{ accessor: string }> } };
    expect(blast.policies).toContain('default');
    expect(blast.entity.owner).toBe('team-acc');
    expect(blast.holds.tokens).toEqual([expect.objectContaining({ accessor })]);
  });
});

describe('leasehold write identity/entity metadata, as vault write takes it', () => {
  it('keeps commas in a metadata value and merges repeated metadata=key=value arguments', async () => {
    const single = await cli(['write', '-format=json', 'identity/entity', 'name=meta-one', 'metadata=desc=a,b']);
    expect(single.code).toBe(0);
    const one = await cli(['read', '-format=json', `identity/entity/id/${JSON.parse(single.stdout).data.id as string}`]);
    expect(JSON.parse(one.stdout).data.metadata).toEqual({ desc: 'a,b' });

    const repeated = await cli(['write', '-format=json', 'identity/entity', 'name=meta-two', 'metadata=owner=team-x', 'metadata=desc=a,b=c']);
    expect(repeated.code).toBe(0);
    const two = await cli(['read', '-format=json', `identity/entity/id/${JSON.parse(repeated.stdout).data.id as string}`]);
    expect(JSON.parse(two.stdout).data.metadata).toEqual({ owner: 'team-x', desc: 'a,b=c' });

    // Not key=value: refused, nothing created.
    const bad = await cli(['write', 'identity/entity', 'name=meta-bad', 'metadata=novalue']);
    expect(bad.code).not.toBe(0);
    expect((await cli(['read', '-format=json', 'identity/entity/name/meta-bad'])).code).not.toBe(0);
  });
});
