// ACL semantics: globs, `+` segments, Vault's precedence, unions, deny, sudo and parameter constraints.
import { Acl, capabilityNames, CAPABILITY_BITS, parsePolicy } from '../../src/core/policy/acl';
import { parseHcl } from '../../src/core/policy/hcl';
import { normalisePolicyName } from '../../src/core/policy/policy-store';
import { BadRequestError } from '../../src/errors';

const acl = (...texts: string[]) => new Acl(texts.map((t, i) => parsePolicy(`p${i}`, t)));
const caps = (a: Acl, path: string) => capabilityNames(a.capabilitiesFor(path));

describe('policy parsing', () => {
  it('parses HCL with comments, several blocks and parameter maps', () => {
    const p = parsePolicy(
      'x',
      `# comment
      path "secret/data/*" {
        capabilities = ["create", "read"] // trailing
      }
      /* block comment */
      path "secret/data/restricted" {
        capabilities = ["update"]
        allowed_parameters = {
          "color" = ["red", "blue*"]
        }
        denied_parameters = { "admin" = [] }
        required_parameters = ["color"]
      }`,
    );
    expect(p.rules).toHaveLength(2);
    expect(p.rules[1]?.allowedParameters).toEqual({ color: ['red', 'blue*'] });
    expect(p.rules[1]?.requiredParameters).toEqual(['color']);
  });

  it('parses the JSON form', () => {
    const p = parsePolicy('x', JSON.stringify({ path: { 'secret/*': { capabilities: ['read'] } } }));
    expect(p.rules[0]).toMatchObject({ pattern: 'secret/*', capabilities: CAPABILITY_BITS.read });
  });

  it.each([
    ['path "a" { capabilities = ["fly"] }', 'invalid capability'],
    ['path "a/*/b" { capabilities = ["read"] }', 'only allowed at the end'],
    ['path "a" { capabilities = ["read"', 'expected'],
    ['path "a" { bogus = 1 }', 'unknown key'],
    ['paths "a" {}', 'unknown key'],
    ['path "a" { capabilities = ["read"] ', 'expected'],
    ['path "a\n" {}', 'unterminated string'],
  ])('refuses %j with a 400 naming the problem', (text, message) => {
    expect(() => parsePolicy('x', text)).toThrow(BadRequestError);
    expect(() => parsePolicy('x', text)).toThrow(message);
  });

  it('never lets __proto__ reach an object', () => {
    expect(() => parseHcl('path "__proto__" { capabilities = ["read"] }')).toThrow(BadRequestError);
    expect(() => parseHcl('{"path": {"__proto__": {"capabilities": ["read"]}}}')).toThrow(BadRequestError);
    expect(({} as Record<string, unknown>).capabilities).toBeUndefined();
    expect(() => parseHcl('__proto__ { polluted = true }')).toThrow(BadRequestError);
  });
});

describe('matching and precedence', () => {
  it('`*` is a trailing glob that also matches inside a segment', () => {
    const a = acl('path "secret/data/app*" { capabilities = ["read"] }');
    expect(caps(a, 'secret/data/app')).toEqual(['read']);
    expect(caps(a, 'secret/data/app-evil/x')).toEqual(['read']);
    expect(caps(a, 'secret/data/ap')).toEqual(['deny']);
  });

  it('`+` matches exactly one non-empty segment', () => {
    const a = acl('path "secret/+/config" { capabilities = ["read"] }');
    expect(caps(a, 'secret/team/config')).toEqual(['read']);
    expect(caps(a, 'secret/a/b/config')).toEqual(['deny']);
    expect(caps(a, 'secret//config')).toEqual(['deny']);
    expect(caps(a, 'secret/team/config/x')).toEqual(['deny']);
    const b = acl('path "secret/+/*" { capabilities = ["list"] }');
    expect(caps(b, 'secret/team/')).toEqual(['list']);
    expect(caps(b, 'secret/team/a/b')).toEqual(['list']);
    expect(caps(b, 'secret/team')).toEqual(['deny']);
  });

  it('an exact path beats any glob', () => {
    const a = acl('path "secret/*" { capabilities = ["read", "update"] }', 'path "secret/x" { capabilities = ["list"] }');
    expect(caps(a, 'secret/x')).toEqual(['list']);
    expect(caps(a, 'secret/y')).toEqual(['read', 'update']);
  });

  it('applies Vault precedence: later first wildcard, then no trailing glob, fewer +, longer, lexically larger', () => {
    // The first wildcard occurs later in secret/data/+ than in secret/+/x.
    const a = acl('path "secret/+/x" { capabilities = ["read"] }', 'path "secret/data/+" { capabilities = ["update"] }');
    expect(caps(a, 'secret/data/x')).toEqual(['update']);
    // Same wildcard position: the one not ending in * wins.
    const b = acl('path "secret/+/*" { capabilities = ["read"] }', 'path "secret/+/x" { capabilities = ["list"] }');
    expect(caps(b, 'secret/a/x')).toEqual(['list']);
    // Longer prefix wins among globs.
    const c = acl('path "secret/*" { capabilities = ["read"] }', 'path "secret/data/*" { capabilities = ["list"] }');
    expect(caps(c, 'secret/data/a')).toEqual(['list']);
    // Fewer + segments win.
    const d = acl('path "s/+/+/x" { capabilities = ["read"] }', 'path "s/+/b/x" { capabilities = ["list"] }');
    expect(caps(d, 's/a/b/x')).toEqual(['list']);
  });

  it('unions the same pattern across policies, and deny in any of them wins', () => {
    const a = acl('path "secret/*" { capabilities = ["read"] }', 'path "secret/*" { capabilities = ["list"] }');
    expect(caps(a, 'secret/k')).toEqual(['list', 'read']);
    const b = acl('path "secret/*" { capabilities = ["read", "sudo"] }', 'path "secret/*" { capabilities = ["deny"] }');
    expect(caps(b, 'secret/k')).toEqual(['deny']);
    expect(b.allowOperation('secret/k', 'read', {}, false)).toBe(false);
  });

  it('deny beats sudo on the same pattern', () => {
    const a = acl('path "sys/rotate" { capabilities = ["update", "sudo", "deny"] }');
    expect(a.allowOperation('sys/rotate', 'update', {}, true)).toBe(false);
  });

  it('LIST on a parent is allowed while a deny below it still denies reads', () => {
    const a = acl('path "secret/metadata/*" { capabilities = ["list", "read"] }', 'path "secret/metadata/private/*" { capabilities = ["deny"] }');
    expect(a.allowOperation('secret/metadata/', 'list', {}, false)).toBe(true);
    expect(a.allowOperation('secret/metadata/private/', 'list', {}, false)).toBe(false);
    expect(a.allowOperation('secret/metadata/private/db', 'read', {}, false)).toBe(false);
    expect(a.allowOperation('secret/metadata/public/db', 'read', {}, false)).toBe(true);
  });

  it('requires sudo only where the path demands it', () => {
    const a = acl('path "sys/audit/*" { capabilities = ["update"] }', 'path "sys/mounts/*" { capabilities = ["update", "sudo"] }');
    expect(a.allowOperation('sys/audit/file', 'update', {}, true)).toBe(false);
    expect(a.allowOperation('sys/mounts/x', 'update', {}, true)).toBe(true);
  });
});

describe('parameter constraints', () => {
  const a = acl(`path "secret/p" {
    capabilities = ["create", "update", "read"]
    allowed_parameters = { "color" = ["red", "blue-*"], "size" = [] }
    denied_parameters = { "size" = ["huge"] }
    required_parameters = ["color"]
  }`);

  it('allows listed parameters and values, with globs and "any value"', () => {
    expect(a.allowOperation('secret/p', 'update', { color: 'red' }, false)).toBe(true);
    expect(a.allowOperation('secret/p', 'update', { color: 'blue-ish', size: 'small' }, false)).toBe(true);
  });

  it('refuses unlisted parameters or values, denied values, and missing required ones', () => {
    expect(a.allowOperation('secret/p', 'update', { color: 'green' }, false)).toBe(false);
    expect(a.allowOperation('secret/p', 'update', { color: 'red', shape: 'x' }, false)).toBe(false);
    expect(a.allowOperation('secret/p', 'update', { color: 'red', size: 'huge' }, false)).toBe(false);
    expect(a.allowOperation('secret/p', 'update', { size: 'small' }, false)).toBe(false);
  });

  it('applies to reads too, as current Vault does (issue 15 item 7)', () => {
    expect(a.allowOperation('secret/p', 'read', { anything: 'x' }, false)).toBe(false);
    expect(a.allowOperation('secret/p', 'read', { color: 'red' }, false)).toBe(true);
  });
});

describe('policy names', () => {
  it.each([' root', 'ROOT', 'Root ', '\troot'])('normalises %j to root (and so never to a writable policy)', (name) => {
    expect(normalisePolicyName(name)).toBe('root');
  });
  it.each(['rооt' /* Cyrillic o */, 'ro ot', 'root\u200b', '', 'a/b', '../x'])('refuses %j', (name) => {
    expect(() => normalisePolicyName(name)).toThrow(BadRequestError);
  });
});

/** A deliberately naive reference: evaluate every pattern by brute force and pick by Vault's documented rules. */
function referenceCapabilities(rules: { pattern: string; caps: string[] }[], path: string): string[] {
  const matches = (pattern: string) => {
    const re = new RegExp(
      '^' +
        pattern
          .split('/')
          .map((seg, i, all) => {
            const last = i === all.length - 1;
            if (seg === '+') return '[^/]+';
            const esc = seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
            return last && seg.endsWith('*') ? esc.slice(0, -2) + '.*' : esc;
          })
          .join('/') +
        '$',
    );
    return re.test(path);
  };
  const merged = new Map<string, Set<string>>();
  for (const r of rules) if (matches(r.pattern)) merged.set(r.pattern, new Set([...(merged.get(r.pattern) ?? []), ...r.caps]));
  if (merged.size === 0) return ['deny'];
  const first = (p: string) => {
    const ps = [p.indexOf('+'), p.endsWith('*') ? p.length - 1 : -1].filter((x) => x >= 0);
    return ps.length ? Math.min(...ps) : Infinity;
  };
  const plus = (p: string) => p.split('/').filter((s) => s === '+').length;
  const sorted = [...merged.keys()].sort((x, y) => {
    if (first(x) !== first(y)) return first(y) - first(x);
    if (x.endsWith('*') !== y.endsWith('*')) return x.endsWith('*') ? 1 : -1;
    if (plus(x) !== plus(y)) return plus(x) - plus(y);
    if (x.length !== y.length) return y.length - x.length;
    return x < y ? 1 : -1;
  });
  const best = merged.get(sorted[0] as string) as Set<string>;
  if (best.has('deny') || best.size === 0) return ['deny'];
  return [...best].sort();
}

describe('property: the compiled ACL agrees with a brute-force reference', () => {
  // A seeded generator, so a failure reproduces.
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const segs = ['a', 'b', 'ab', 'c'];
  const capsPool = ['read', 'list', 'update', 'deny', 'create'];
  const randomPattern = () => {
    const n = 1 + rand(3);
    const parts: string[] = [];
    for (let i = 0; i < n; i++) parts.push(rand(4) === 0 ? '+' : (segs[rand(segs.length)] as string));
    let p = parts.join('/');
    if (rand(3) === 0) p += rand(2) === 0 ? '/*' : '*';
    return p;
  };
  const randomPath = () => {
    const n = 1 + rand(4);
    const parts: string[] = [];
    for (let i = 0; i < n; i++) parts.push(segs[rand(segs.length)] as string);
    return parts.join('/') + (rand(4) === 0 ? '/' : '');
  };

  it('on 300 random policy sets and 20 paths each', () => {
    for (let round = 0; round < 300; round++) {
      const rules = Array.from({ length: 1 + rand(5) }, () => ({ pattern: randomPattern(), caps: [capsPool[rand(capsPool.length)] as string] }));
      const policies = rules.map((r, i) => parsePolicy(`p${i}`, `path "${r.pattern}" { capabilities = ${JSON.stringify(r.caps)} }`));
      const compiled = new Acl(policies);
      for (let i = 0; i < 20; i++) {
        const path = randomPath();
        expect({ rules, path, caps: capabilityNames(compiled.capabilitiesFor(path)) }).toEqual({ rules, path, caps: referenceCapabilities(rules, path) });
      }
    }
  });
});
