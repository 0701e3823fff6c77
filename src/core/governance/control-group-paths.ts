// sys/control-group/*: Vault Enterprise's request and authorize, with Leasehold's deny and pending.
// The caller's identity is its token's entity, as the pipeline authenticated it; nothing a caller
// sends (headers, body) can name an approver.
import { z } from 'zod';
import { BadRequestError, NotFoundError, PermissionDeniedError } from '../../errors';
import { str } from '../fields';
import type { BackendRequest, PathDefinition } from '../framework';
import type { ControlGroupCaller, ControlGroups } from './control-groups';

const accessorFields = z.object({ accessor: str(128).describe('The accessor of the control group wrapping token') });
type AccessorFields = z.infer<typeof accessorFields>;

const denyFields = z.object({
  accessor: str(128).describe('The accessor of the control group wrapping token'),
  reason: str(1024).optional().describe('Why the request is denied (recorded in the ledger)'),
});
type DenyFields = z.infer<typeof denyFields>;

function callerOf(req: BackendRequest<unknown>): ControlGroupCaller {
  if (!req.identity) throw new PermissionDeniedError();
  return { accessor: req.identity.accessor, entityId: req.identity.entityId };
}

function accessorOf(fields: { accessor?: string }): string {
  const accessor = fields.accessor?.trim();
  if (!accessor) throw new BadRequestError('missing "accessor"');
  return accessor;
}

/** The sys/control-group/* paths, relative to sys/. */
export function controlGroupPaths(groups: () => ControlGroups): PathDefinition[] {
  return [
    {
      pattern: 'control-group/request',
      fields: accessorFields,
      operations: { update: (req: BackendRequest<AccessorFields>) => ({ data: groups().status(accessorOf(req.fields)) }) },
      description: 'The state of a control group request: path, requester, approvals so far, justification and expiry.',
    },
    {
      pattern: 'control-group/authorize',
      fields: accessorFields,
      operations: { update: (req: BackendRequest<AccessorFields>) => ({ data: groups().authorize(accessorOf(req.fields), callerOf(req)) }) },
      description: "Adds the caller's entity's approval to a control group request.",
    },
    {
      pattern: 'control-group/deny',
      fields: denyFields,
      operations: {
        update: (req: BackendRequest<DenyFields>) => {
          const reason = req.fields.reason?.trim();
          if (!reason) throw new BadRequestError('missing "reason"');
          groups().deny(accessorOf(req.fields), callerOf(req), reason);
          return { data: { denied: true } };
        },
      },
      description: 'Ends a control group request: its wrapping token can no longer run it.',
    },
    {
      pattern: 'control-group/pending/?',
      operations: {
        list: (req) => {
          const pending = groups().pending(callerOf(req));
          // As every Vault LIST: nothing to show is a 404.
          if (pending.keys.length === 0) throw new NotFoundError();
          return { data: pending };
        },
      },
      description: 'The pending control group requests the caller may approve.',
    },
  ];
}
