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
});
