// The release-control rule properties: justification and control_group, in HCL and JSON, merged
// across policies, and patterns refused at policy write when invalid or prone to catastrophic backtracking.
import request from 'supertest';
import { Acl, parsePolicy } from '../../src/core/policy/acl';
import { assertSafePattern, checkJustification } from '../../src/core/policy/release-rules';
import { BadRequestError } from '../../src/errors';
import { unsealedVault } from '../helpers/vault';

const acl = (...texts: string[]) => new Acl(texts.map((t, i) => parsePolicy(`p${i}`, t)));

describe('release-control rules in policies', () => {
  it('parses justification and control_group in HCL (block and attribute forms) and JSON alike', () => {
    const hcl = parsePolicy(
      'x',
      `path "database/creds/prod-*" {
        capabilities = ["read"]
        justification {
          required = true
          pattern  = "^(INC|CHG)-[0-9]+"
        }
        control_group = {
          ttl = "4h"
          factor "leads" {
            identity {
              group_names = ["db-leads"]
              approvals   = 2
            }
          }
          factor "sec" {
            identity { group_names = ["security", "sre"] }
          }
        }
      }`,
    );
    const expected = {
      justification: { required: true, patterns: ['^(INC|CHG)-[0-9]+'] },
      controlGroup: {
        ttlSeconds: 4 * 3600,
        factors: [
          { name: 'leads', groupNames: ['db-leads'], approvals: 2 },
          { name: 'sec', groupNames: ['security', 'sre'], approvals: 1 },
        ],
      },
    };
    expect(hcl.rules[0]).toMatchObject(expected);
    const json = parsePolicy(
      'y',
      JSON.stringify({
        path: {
          'database/creds/prod-*': {
            capabilities: ['read'],
            justification: { required: true, pattern: '^(INC|CHG)-[0-9]+' },
            control_group: { ttl: '4h', factor: { leads: { identity: { group_names: ['db-leads'], approvals: 2 } }, sec: { identity: { group_names: ['security', 'sre'] } } } },
          },
        },
      }),
    );
    expect(json.rules[0]).toMatchObject(expected);
    expect(acl(hcl.raw).releaseRulesFor('database/creds/prod-admin')).toMatchObject(expected);
    expect(acl(hcl.raw).releaseRulesFor('database/creds/dev')).toEqual({});
  });

  it('merges rules for the same path across policies: every requirement applies', () => {
    const a = acl(
      'path "db/creds/x" { capabilities = ["read"]\n justification { required = false\n pattern = "^INC" } }',
      'path "db/creds/x" { capabilities = ["read"]\n justification { required = true\n pattern = "[0-9]$" }\n control_group = { ttl = "1h"\n factor "a" { identity { group_names = ["g"] } } } }',
    );
    const rules = a.releaseRulesFor('db/creds/x');
    expect(rules.justification).toEqual({ required: true, patterns: ['^INC', '[0-9]$'] });
    expect(rules.controlGroup?.ttlSeconds).toBe(3600);
    expect(() => checkJustification(rules.justification, 'INC-a')).toThrow(BadRequestError);
    expect(() => checkJustification(rules.justification, 'INC-1')).not.toThrow();
    expect(() => checkJustification(rules.justification, undefined)).toThrow(/X-Leasehold-Justification/);
    // Root is never governed.
    expect(new Acl([], true).releaseRulesFor('db/creds/x')).toEqual({});
  });

  it.each([
    ['(a+)+$', 'nests'],
    ['^(a|aa)*$', 'nests'],
    ['((ab)*c)*', 'nests'],
    ['(\\d+)*x', 'nests'],
    ['(.*){2,}', 'nests'],
    ['(a)\\1', 'back-reference'],
    ['(?<n>a)\\k<n>', 'back-reference'],
    ['(?=a)a', 'lookaround'],
    ['a*a*a*a*b', 'repetitions'],
    ['[unclosed', 'not a valid'],
    ['x'.repeat(300), 'longer than'],
  ])('refuses the pattern %s', (pattern, why) => {
    expect(() => assertSafePattern(pattern, 'path "x"')).toThrow(why);
    expect(() => parsePolicy('x', JSON.stringify({ path: { x: { capabilities: ['read'], justification: { required: true, pattern } } } }))).toThrow(BadRequestError);
  });

  it.each(['^(INC|CHG)-[0-9]+', '^[A-Z]{2,10}-\\d+\\b', '(?:ticket|TICKET)#\\d{1,8}', '^(?<kind>INC)-[0-9]+ .*$', 'a+?b'])('accepts the pattern %s', (pattern) => {
    expect(() => assertSafePattern(pattern, 'path "x"')).not.toThrow();
  });

  it.each([
    ['control_group = { ttl = "4h" }', 'at least one factor'],
    ['control_group = { factor "a" { identity { approvals = 2 } } }', 'group_names'],
    ['control_group = { factor "a" { identity { group_names = ["g"]\n approvals = 0 } } }', 'approvals'],
    ['control_group = { ttl = "forever"\n factor "a" { identity { group_names = ["g"] } } }', 'invalid ttl'],
    ['control_group = { factor "a" { identity { group_names = ["g"] }\n mfa = true } }', 'unknown key'],
    ['justification { required = "yes" }', 'boolean'],
    ['justification { pattern = 5 }', 'string'],
    ['justification { reason = "x" }', 'unknown key'],
  ])('refuses %s', (body, why) => {
    expect(() => parsePolicy('x', `path "a" {\n capabilities = ["read"]\n ${body}\n}`)).toThrow(why);
  });

  it('refuses an unsafe pattern at policy write over HTTP, and stores nothing', async () => {
    const { app, rootToken } = await unsealedVault();
    const root = { 'X-Vault-Token': rootToken };
    const res = await request(app)
      .put('/v1/sys/policies/acl/unsafe')
      .set(root)
      .send({ policy: 'path "a" {\n capabilities = ["read"]\n justification {\n required = true\n pattern = "(a+)+$"\n }\n}' });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toContain('catastrophic backtracking');
    expect((await request(app).get('/v1/sys/policies/acl/unsafe').set(root)).status).toBe(404);
  });
});
