// sys/storage/snapshot and sys/storage/snapshot-restore: an online copy of the encrypted store, and
// putting one back. Both are root-protected (sudo), as Vault's raft snapshot endpoints are.
import { BadRequestError } from '../errors';
import { removeDatabaseFiles, SnapshotFormatError, stageRestore, takeSnapshot } from '../storage/snapshot';
import type { PathDefinition } from './framework';
import type { Vault } from './vault';

/** The snapshot endpoints relative to sys/. */
export function snapshotPaths(vault: Vault): PathDefinition[] {
  return [
    {
      pattern: 'storage/snapshot',
      description: 'Download a consistent copy of the encrypted store (a Leasehold snapshot file), taken while the vault keeps serving.',
      sudo: true,
      operations: {
        read: async () => {
          const bytes = await takeSnapshot(vault.deps.db, { dir: vault.deps.storage?.dataDir, clusterId: vault.clusterId, now: new Date(vault.deps.clock.nowMs()) });
          return { raw: { statusCode: 200, body: bytes } };
        },
      },
    },
    {
      pattern: 'storage/snapshot-restore',
      description:
        'Replace the whole store with a snapshot file (the request body, application/octet-stream). The vault then seals and must be unsealed with the shares valid when the snapshot was taken.',
      sudo: true,
      operations: {
        update: (req) => {
          const storage = vault.deps.storage;
          if (!storage?.dataDir || !storage.replaceDatabase) {
            throw new BadRequestError('snapshot restore needs a server on a data directory: an in-memory (dev) server cannot restore');
          }
          const body = req.rawBody;
          if (!body || body.length === 0) throw new BadRequestError('the request body must be a snapshot file (Content-Type: application/octet-stream)');
          let staged;
          try {
            staged = stageRestore(body, storage.dataDir, vault.deps.clock.nowMs());
          } catch (error) {
            if (error instanceof SnapshotFormatError) throw new BadRequestError(`snapshot refused, nothing changed: ${error.message}`);
            throw error;
          }
          const replace = storage.replaceDatabase;
          // The swap seals this vault and closes its database, so it runs once this request is answered and audited.
          vault.afterAnswer(req.requestId, () => replace(staged), () => removeDatabaseFiles(staged.file));
          const n = staged.expiredLeases;
          const warnings = n > 0 ? [`${n} lease${n === 1 ? '' : 's'} in the snapshot ${n === 1 ? 'is' : 'are'} past expiry: revoked after unseal`] : undefined;
          return {
            data: {
              snapshot_created_at: staged.header.created_at,
              snapshot_cluster_id: staged.header.cluster_id ?? null,
              expired_leases: staged.expiredLeases,
              pending_revocations: staged.pendingRevocations,
              sealed: true,
            },
            warnings,
          };
        },
      },
    },
  ];
}
