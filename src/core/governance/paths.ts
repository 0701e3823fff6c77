// sys/governance/*: offboarding (and, next, blast radius), declared like every other sys path.
import { z } from 'zod';
import { BadRequestError } from '../../errors';
import { bool, str } from '../fields';
import type { BackendRequest, PathDefinition } from '../framework';
import type { BlastRadius } from './blast-radius';
import type { OffboardSelector, Offboarder } from './offboard';

const opt = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === null || v === '' ? undefined : v), schema.optional());

const offboardFields = z.object({
  entity_id: opt(str(64).describe('Offboard this entity')),
  owner: opt(str(256).describe('Offboard every token, lease and entity of this owner')),
  mount_accessor: opt(str(128).describe('With role_name: offboard what this auth mount\'s role issued')),
  role_name: opt(str(128).describe('With mount_accessor: the role')),
  reason: opt(str(1024).describe('Why (required; recorded in the ledger)')),
  dry_run: opt(bool().describe('Only report what would be revoked')),
});
type OffboardFields = z.infer<typeof offboardFields>;

/** Exactly one selector, or a 400 before anything changes. */
function selectorOf(f: OffboardFields): OffboardSelector {
  const given = [f.entity_id !== undefined, f.owner !== undefined, f.mount_accessor !== undefined || f.role_name !== undefined].filter(Boolean).length;
  if (given !== 1) throw new BadRequestError('exactly one of entity_id, owner, or mount_accessor with role_name must be given');
  if (f.entity_id !== undefined) return { entity_id: f.entity_id };
  if (f.owner !== undefined) return { owner: f.owner };
  if (f.mount_accessor === undefined || f.role_name === undefined) throw new BadRequestError('mount_accessor and role_name must be given together');
  return { mount_accessor: f.mount_accessor, role_name: f.role_name };
}

/** Governance paths relative to sys/. */
export function governancePaths(deps: { offboarder: () => Offboarder; blastRadius: () => BlastRadius }): PathDefinition[] {
  return [
    {
      pattern: 'governance/blast-radius/(?<entity_id>[^/]+)',
      fields: z.object({ entity_id: str(64) }),
      operations: { read: (req: BackendRequest<{ entity_id: string }>) => ({ data: deps.blastRadius().forEntity(req.fields.entity_id) }) },
      description: 'What an entity can reach now (mounts, rules, KV keys, mintable roles) and what it holds.',
    },
    {
      pattern: 'governance/blast-radius',
      fields: z.object({ accessor: str(128).describe('A token accessor (for a token without an entity)') }),
      operations: { read: (req: BackendRequest<{ accessor: string }>) => ({ data: deps.blastRadius().forAccessor(req.fields.accessor) }) },
      description: 'What a token can reach now and what it holds, by accessor.',
    },
    {
      pattern: 'governance/offboard',
      fields: offboardFields,
      sudo: true,
      operations: {
        update: async (req: BackendRequest<OffboardFields>) => {
          const selector = selectorOf(req.fields);
          const reason = req.fields.reason?.trim();
          if (!reason) throw new BadRequestError('missing reason');
          const result = await deps.offboarder().offboard({
            selector,
            reason,
            dryRun: req.fields.dry_run ?? false,
            actor: req.identity?.entityId ?? req.identity?.accessor ?? 'unknown',
            requestId: req.requestId,
          });
          return { data: { ...result, dry_run: req.fields.dry_run ?? false } };
        },
      },
      description: 'Revokes every token and lease of an entity, an owner, or an auth role, and disables the entities.',
    },
  ];
}
