// `-header K=V` and LEASEHOLD_JUSTIFICATION: the headers the CLI adds to every request, and the ones it refuses.
import { extraHeaders } from '../../src/cli/context';

describe('extra CLI headers', () => {
  it('takes the justification from LEASEHOLD_JUSTIFICATION; a -header for it wins, case-insensitively', () => {
    expect(extraHeaders([], { LEASEHOLD_JUSTIFICATION: ' INC-1 ' })).toEqual({ 'X-Leasehold-Justification': 'INC-1' });
    expect(extraHeaders(['x-leasehold-justification=CHG-2', 'X-Trace=a=b'], { LEASEHOLD_JUSTIFICATION: 'INC-1' })).toEqual({ 'x-leasehold-justification': 'CHG-2', 'X-Trace': 'a=b' });
    expect(extraHeaders(undefined, {})).toEqual({});
  });

  it.each([['novalue'], ['=v'], ['bad name=v'], ['X-Vault-Token=t'], ['x-vault-wrap-ttl=5m'], ['X-A=line\nbreak']])('refuses %j', (flag) => {
    expect(() => extraHeaders([flag], {})).toThrow(/-header/);
  });
});
