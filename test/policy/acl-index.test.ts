// Issue 15 item 12: wildcard rules are found through an index over path segments, not by scanning
// every rule. The index must pick exactly the rule the old linear scan picked (kept below as the
// reference), and a lookup's work must not grow with the number of rules.
import { Acl, CAPABILITY_BITS, capabilityNames, parsePolicy, type Policy } from '../../src/core/policy/acl';

/** The linear algorithm the ACL used before the index, kept verbatim as the reference. */
interface RefRule {
  pattern: string;
  kind: 'exact' | 'prefix' | 'segment';
  prefix: string;
  segments: string[];
  firstWildcard: number;
  plusCount: number;
}

function refRule(pattern: string): RefRule {
  const star = pattern.endsWith('*');
  const plus = pattern.split('/').filter((s) => s === '+').length;
  const positions = [pattern.indexOf('+'), star ? pattern.length - 1 : -1].filter((p) => p >= 0);
  return {
    pattern,
    kind: plus > 0 ? 'segment' : star ? 'prefix' : 'exact',
    prefix: star ? pattern.slice(0, -1) : pattern,
    segments: pattern.split('/'),
    firstWildcard: positions.length > 0 ? Math.min(...positions) : Number.MAX_SAFE_INTEGER,
    plusCount: plus,
  };
}

function refLowerPriority(a: RefRule, b: RefRule): boolean {
  if (a.firstWildcard !== b.firstWildcard) return a.firstWildcard < b.firstWildcard;
  const aStar = a.pattern.endsWith('*');
  const bStar = b.pattern.endsWith('*');
  if (aStar !== bStar) return aStar;
  if (a.plusCount !== b.plusCount) return a.plusCount > b.plusCount;
  if (a.pattern.length !== b.pattern.length) return a.pattern.length < b.pattern.length;
  return a.pattern < b.pattern;
}

function refMatchesSegments(rule: RefRule, path: string): boolean {
  const pathSegments = path.split('/');
  const ruleSegments = rule.segments;
  const glob = rule.pattern.endsWith('*');
  for (let i = 0; i < ruleSegments.length; i++) {
    const r = ruleSegments[i] as string;
    const last = i === ruleSegments.length - 1;
    if (i >= pathSegments.length) return false;
    if (last && glob) {
      const rest = pathSegments.slice(i).join('/');
      return rest.startsWith(r.slice(0, -1));
    }
    const p = pathSegments[i];
    if (p === undefined) return false;
    if (r === '+') {
      if (p === '') return false;
      continue;
    }
    if (r !== p) return false;
  }
  return pathSegments.length === ruleSegments.length;
}

/** The governing pattern by the old scan: exact first, else the highest-priority wildcard. */
function refGoverningPattern(patterns: Iterable<string>, path: string): string | undefined {
  const rules = [...new Set(patterns)].map(refRule);
  const exact = rules.find((r) => r.kind === 'exact' && r.pattern === path);
  if (exact) return exact.pattern;
  let best: RefRule | undefined;
  for (const rule of rules) {
    if (rule.kind === 'exact') continue;
    const matches = rule.kind === 'prefix' ? path.startsWith(rule.prefix) : refMatchesSegments(rule, path);
    if (matches && (!best || refLowerPriority(best, rule))) best = rule;
  }
  return best?.pattern;
}

// A seeded generator, so a failure reproduces. Segments include a literal `+` inside a name, empty
// segments and prefixes of one another, so globs, `+` and literals collide often.
function generator(seed: number) {
  let state = seed;
  const rand = (n: number) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
  const segs = ['a', 'b', 'ab', 'abc', 'a+', 'c', ''];
  const pattern = () => {
    const n = 1 + rand(4);
    const parts: string[] = [];
    for (let i = 0; i < n; i++) parts.push(rand(4) === 0 ? '+' : (segs[rand(segs.length)] as string));
    let p = parts.join('/');
    const tail = rand(4);
    if (tail === 0) p += '/*';
    else if (tail === 1) p += '*';
    return p.length === 0 ? '*' : p;
  };
  const path = () => {
    const n = 1 + rand(5);
    const parts: string[] = [];
    for (let i = 0; i < n; i++) parts.push(rand(8) === 0 ? '+' : (segs[rand(segs.length)] as string));
    return parts.join('/');
  };
  return { rand, pattern, path };
}

const policyOf = (name: string, patterns: string[], caps = '["read"]'): Policy =>
  parsePolicy(name, patterns.map((p) => `path ${JSON.stringify(p)} { capabilities = ${caps} }`).join('\n'));

describe('ACL wildcard index', () => {
  it('picks the same rule as the old linear scan on 500 random rule sets x 40 paths', () => {
    const g = generator(1234);
    for (let round = 0; round < 500; round++) {
      // Spread the rules over up to three policies, with repeats, as merged ACLs see them.
      const patterns = Array.from({ length: 1 + g.rand(30) }, () => g.pattern());
      const policies = [0, 1, 2].map((p) => policyOf(`p${p}`, patterns.filter((_, i) => i % 3 === p)));
      const compiled = new Acl(policies.filter((p) => p.rules.length > 0));
      for (let i = 0; i < 40; i++) {
        const path = g.path();
        expect({ patterns, path, governing: compiled.governingPattern(path) }).toEqual({ patterns, path, governing: refGoverningPattern(patterns, path) });
      }
    }
  });

  it('agrees with the old scan on large policies too (2,000 rules, 2,000 paths)', () => {
    const g = generator(99);
    const patterns = Array.from({ length: 2000 }, () => g.pattern());
    const compiled = new Acl([policyOf('big', patterns)]);
    for (let i = 0; i < 2000; i++) {
      const path = g.path();
      expect({ path, governing: compiled.governingPattern(path) }).toEqual({ path, governing: refGoverningPattern(patterns, path) });
    }
  });

  it.each([
    // [patterns, path, governing pattern]
    [['secret/*', 'secret/x'], 'secret/x', 'secret/x'], // exact beats any glob
    [['secret/*', 'secret/data/*', 'secret/data/ap*'], 'secret/data/app/x', 'secret/data/ap*'], // longest prefix glob
    [['secret/+/x', 'secret/data/+'], 'secret/data/x', 'secret/data/+'], // later first wildcard wins
    [['secret/+/*', 'secret/+/x'], 'secret/a/x', 'secret/+/x'], // same position: no trailing glob wins
    [['s/+/+/x', 's/+/b/x'], 's/a/b/x', 's/+/b/x'], // fewer `+` wins
    [['s/+/b*', 's/+/bc*'], 's/a/bcd', 's/+/bc*'], // longer wins
    [['s/+/b', 's/a/*'], 's/a/b', 's/a/*'], // the glob's wildcard comes later than the `+`
    [['s/*', 's/+/b'], 's/a/b', 's/+/b'], // both at position 2: the one without a trailing glob
    [['s/+', 's/*'], 's/', 's/*'], // `+` never matches an empty segment
    [['s/+/*'], 's/a', undefined], // `s/+/*` needs a third segment
    [['s/+/*'], 's/a/', 's/+/*'],
    [['*', 'a*'], 'ab', 'a*'],
    [['*'], '', '*'],
  ] as [string[], string, string | undefined][])('precedence: %j governs %j by %j', (patterns, path, expected) => {
    const compiled = new Acl([policyOf('p', patterns)]);
    expect(compiled.governingPattern(path)).toBe(expected);
    expect(refGoverningPattern(patterns, path)).toBe(expected);
  });

  it('the matched rule keeps every property of the merged rules (unions across policies, parameters, wrapping TTLs)', () => {
    const filler = Array.from({ length: 500 }, (_, i) => `path "kv/team-${i}/*" { capabilities = ["read"] }`).join('\n');
    const a = parsePolicy('a', `${filler}\npath "kv/+/db" { capabilities = ["update"] allowed_parameters = { "color" = ["red"] } min_wrapping_ttl = "1m" }`);
    const b = parsePolicy('b', 'path "kv/+/db" { capabilities = ["read"] allowed_parameters = { "color" = ["blue"] } max_wrapping_ttl = "1h" }');
    const compiled = new Acl([a, b]);
    expect(capabilityNames(compiled.capabilitiesFor('kv/x/db'))).toEqual(['read', 'update']);
    expect(compiled.allowOperation('kv/x/db', 'update', { color: 'blue' }, false, 120)).toBe(true);
    expect(compiled.allowOperation('kv/x/db', 'update', { color: 'green' }, false, 120)).toBe(false);
    expect(compiled.allowOperation('kv/x/db', 'update', { color: 'red' }, false, 30)).toBe(false); // under min_wrapping_ttl
    expect(compiled.allowOperation('kv/x/db', 'update', { color: 'red' }, false, 7200)).toBe(false); // over max_wrapping_ttl
    // `kv/team-7/*` is the longer literal prefix before its glob than `kv/+/db`'s `+`: it governs there.
    expect(compiled.governingPattern('kv/team-7/db')).toBe('kv/team-7/*');
    expect(compiled.capabilitiesFor('kv/team-7/db') & CAPABILITY_BITS.update).toBe(0);
  });

  it("a lookup's work does not grow with the number of wildcard rules", () => {
    // Counts the string operations a lookup performs: the old scan did one or more per wildcard rule.
    const small = ['secret/data/bench/*', 'secret/+/shared/config', 'sys/*'];
    const big = [...small];
    for (let i = 0; i < 9000; i++) big.push(i % 2 === 0 ? `secret/data/team-${i}/*` : `secret/+/team-${i}/config`);
    const work = (acl: Acl, path: string) => {
      const spies = [jest.spyOn(String.prototype, 'startsWith'), jest.spyOn(String.prototype, 'split'), jest.spyOn(String.prototype, 'slice')];
      try {
        acl.capabilitiesFor(path);
        return spies.reduce((sum, s) => sum + s.mock.calls.length, 0);
      } finally {
        for (const s of spies) s.mockRestore();
      }
    };
    const smallAcl = new Acl([policyOf('small', small)]);
    const bigAcl = new Acl([policyOf('big', big)]);
    for (const path of ['secret/data/bench/app', 'secret/x/shared/config', 'nothing/here']) {
      expect(bigAcl.governingPattern(path)).toBe(refGoverningPattern(big, path));
      expect({ path, work: work(bigAcl, path) }).toEqual({ path, work: work(smallAcl, path) });
    }
    // A path under one of the 9,000 rules costs a step more, not thousands.
    expect(bigAcl.governingPattern('secret/data/team-4/x')).toBe('secret/data/team-4/*');
    expect(work(bigAcl, 'secret/data/team-4/x')).toBeLessThan(work(smallAcl, 'secret/data/bench/app') + 5);
  });
});
