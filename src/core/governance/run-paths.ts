// sys/governance/runs (CI runs and their revocation) and sys/governance/webhooks (run-end webhook
// receivers), declared like every other sys path.
import { z } from 'zod';
import { BadRequestError } from '../../errors';
import { str } from '../fields';
import type { BackendRequest, PathDefinition } from '../framework';
import { RUN_KEY_PATTERN, type RunRegistry } from './runs';
import { type WebhookReceivers, webhookPaths } from './webhooks';

const runKey = () => z.string().regex(RUN_KEY_PATTERN, 'must be a run key as LIST sys/governance/runs shows it');

/** Run and webhook paths relative to sys/. */
export function runPaths(deps: { runs: () => RunRegistry; webhooks: () => WebhookReceivers }): PathDefinition[] {
  return [
    {
      pattern: 'governance/runs/?',
      fields: z.object({}),
      sudo: true,
      operations: { list: () => ({ data: deps.runs().list() }) },
      description: 'Lists the CI runs seen at JWT login (run key, claims, what each still holds), newest first.',
    },
    {
      pattern: 'governance/runs/(?<run_key>[^/]+)',
      fields: z.object({ run_key: runKey() }),
      sudo: true,
      operations: { read: (req: BackendRequest<{ run_key: string }>) => ({ data: deps.runs().show(req.fields.run_key) }) },
      description: 'One CI run: its claims, its tokens by accessor and its leases.',
    },
    {
      pattern: 'governance/runs/(?<run_key>[^/]+)/revoke',
      fields: z.object({ run_key: runKey(), reason: str(1024).optional().describe('Why (recorded in the ledger)') }),
      sudo: true,
      operations: {
        update: async (req: BackendRequest<{ run_key: string; reason?: string }>) => {
          const reason = req.fields.reason?.trim() || 'revoked through sys/governance/runs';
          if (reason.length > 1024) throw new BadRequestError('reason is too long');
          const result = await deps.runs().revoke({ runKey: req.fields.run_key, actor: req.identity?.entityId ?? req.identity?.accessor ?? 'unknown', reason, requestId: req.requestId });
          return { data: { ...result } };
        },
      },
      description: 'Revokes every token and lease of a CI run (through the backends) and refuses its later logins.',
    },
    ...webhookPaths(deps.webhooks),
  ];
}
