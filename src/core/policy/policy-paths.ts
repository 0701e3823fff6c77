// sys/ paths for ACL policies (sys/policies/acl, legacy sys/policy) and capability queries.
import { z } from 'zod';
import { BadRequestError, NotFoundError } from '../../errors';
import { str, stringList } from '../fields';
import type { BackendRequest, PathDefinition } from '../framework';
import type { TokenStore } from '../tokens';
import { capabilityNames } from './acl';
import type { PolicyStore } from './policy-store';

/** Deps for the policy endpoints. */
export interface PolicyPathDeps {
  policies: PolicyStore;
  tokens: Pick<TokenStore, 'lookup' | 'lookupByAccessor'>;
}

const POLICY_TEXT_MAX = 512 * 1024;

const capabilitiesFields = z.object({
  token: str(512).optional(),
  accessor: str(128).optional(),
  path: str(2048).optional(),
  paths: stringList(256, 2048).optional(),
});

/** The policy and capability paths, relative to the sys/ mount. */
export function policyPaths(deps: PolicyPathDeps): PathDefinition[] {
  const { policies } = deps;

  const capabilities = (policyNames: string[], req: BackendRequest) => {
    const f = req.fields as z.infer<typeof capabilitiesFields>;
    const paths = f.paths ?? (f.path !== undefined ? [f.path] : []);
    if (paths.length === 0) throw new BadRequestError('missing field "paths"');
    const acl = policies.acl(policyNames);
    const data: Record<string, unknown> = {};
    for (const p of paths) data[p] = capabilityNames(acl.capabilitiesFor(p.replace(/^\/+/, '')), acl.isRoot);
    if (paths.length === 1) data.capabilities = data[paths[0] as string];
    return { data, topLevelData: true };
  };

  const readPolicy = (legacy: boolean) => (req: BackendRequest) => {
    const policy = policies.get(String(req.fields.name));
    if (!policy) throw new NotFoundError();
    return legacy ? { data: { name: policy.name, rules: policy.raw }, topLevelData: true } : { data: { name: policy.name, policy: policy.raw } };
  };

  const writePolicy = (req: BackendRequest) => {
    const text = (req.fields.policy ?? req.fields.rules) as string | undefined;
    if (text === undefined) throw new BadRequestError("'policy' parameter not supplied or empty");
    policies.put(String(req.fields.name), text);
    return undefined;
  };

  const deletePolicy = (req: BackendRequest) => {
    policies.delete(String(req.fields.name));
    return undefined;
  };

  const nameFields = z.object({ name: str(256), policy: str(POLICY_TEXT_MAX).optional(), rules: str(POLICY_TEXT_MAX).optional() });

  return [
    {
      pattern: 'policies/acl/?',
      description: 'List ACL policies.',
      operations: { list: () => ({ data: { keys: policies.list() } }) },
    },
    {
      pattern: 'policies/acl/(?<name>[^/]+)',
      description: 'Read, write or delete an ACL policy (HCL or JSON).',
      fields: nameFields,
      operations: { read: readPolicy(false), update: writePolicy, delete: deletePolicy },
    },
    {
      pattern: 'policy/?',
      description: 'List ACL policies (legacy path).',
      operations: {
        read: () => ({ data: { policies: policies.list(), keys: policies.list() }, topLevelData: true }),
        list: () => ({ data: { policies: policies.list(), keys: policies.list() }, topLevelData: true }),
      },
    },
    {
      pattern: 'policy/(?<name>[^/]+)',
      description: 'Read, write or delete an ACL policy (legacy path; accepts `rules` or `policy`).',
      fields: nameFields,
      operations: { read: readPolicy(true), update: writePolicy, delete: deletePolicy },
    },
    {
      pattern: 'capabilities',
      description: "A token's capabilities on one or more paths.",
      fields: capabilitiesFields,
      operations: {
        update: (req) => {
          const token = req.fields.token as string | undefined;
          if (!token) throw new BadRequestError('missing field "token"');
          const record = deps.tokens.lookup(token);
          if (!record) throw new BadRequestError('invalid token');
          return capabilities(record.entry.policies, req);
        },
      },
    },
    {
      pattern: 'capabilities-self',
      description: "The calling token's capabilities on one or more paths.",
      fields: capabilitiesFields,
      operations: { update: (req) => capabilities(req.identity?.policies ?? [], req) },
    },
    {
      pattern: 'capabilities-accessor',
      description: 'The capabilities of the token with this accessor on one or more paths.',
      fields: capabilitiesFields,
      operations: {
        update: (req) => {
          const accessor = req.fields.accessor as string | undefined;
          if (!accessor) throw new BadRequestError('missing field "accessor"');
          const record = deps.tokens.lookupByAccessor(accessor);
          if (!record) throw new BadRequestError('invalid accessor');
          return capabilities(record.entry.policies, req);
        },
      },
    },
  ];
}
