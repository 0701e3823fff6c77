// sys/rekey/* and sys/generate-root/*: Vault's key ceremonies, authorised by the unseal key shares
// themselves (unauthenticated paths, as in Vault), answered while unsealed, and audited.
import { z } from 'zod';
import { BadRequestError } from '../errors';
import { bool, int, str } from './fields';
import type { PathDefinition } from './framework';
import { GenerateRootCeremony } from './generate-root';
import { RekeyCeremony } from './rekey';
import type { Vault } from './vault';

const raw = (body: unknown) => ({ raw: { statusCode: 200, body } });

const updateFields = z.object({
  key: str(1024).optional().describe('One current unseal key share (hex or base64).'),
  nonce: str(64).optional().describe("The ceremony's nonce, from its init/attempt answer."),
});

function keyAndNonce(fields: Record<string, unknown>): { key: string; nonce: string } {
  const key = typeof fields.key === 'string' ? fields.key : '';
  const nonce = typeof fields.nonce === 'string' ? fields.nonce : '';
  if (!key) throw new BadRequestError("'key' must be specified");
  if (!nonce) throw new BadRequestError("'nonce' must be specified");
  return { key, nonce };
}

/** The ceremony endpoints relative to sys/. Progress lives in memory and is dropped on seal. */
export function keyCeremonyPaths(vault: Vault): PathDefinition[] {
  const rekey = new RekeyCeremony(vault.seal);
  const generateRoot = new GenerateRootCeremony(vault.seal, () => vault.createRootToken());
  vault.seal.onSeal(() => {
    rekey.cancel();
    generateRoot.cancel();
  });
  return [
    {
      pattern: 'rekey/init',
      description: 'Start, read or cancel a rekey: new unseal key shares after a threshold of the current ones.',
      unauthenticated: true,
      fields: z.object({
        secret_shares: int(1, 255).optional().describe('Number of new key shares.'),
        secret_threshold: int(1, 255).optional().describe('Number of new shares needed to unseal.'),
        pgp_keys: z.array(str(16384)).max(255).nullish().describe('Not supported: refused when given.'),
        backup: bool().optional().describe('Not supported: refused when true.'),
        require_verification: bool().optional().describe('Not supported: refused when true.'),
      }),
      operations: {
        read: () => raw(rekey.status()),
        update: (req) => {
          const f = req.fields as { secret_shares?: number; secret_threshold?: number; pgp_keys?: string[] | null; backup?: boolean; require_verification?: boolean };
          if (f.pgp_keys?.length) throw new BadRequestError('PGP-encrypted key shares (pgp_keys) are not supported by Leasehold');
          if (f.backup) throw new BadRequestError('backup of PGP-encrypted shares is not supported by Leasehold');
          if (f.require_verification) throw new BadRequestError('rekey verification is not supported by Leasehold');
          if (f.secret_shares === undefined || f.secret_threshold === undefined) throw new BadRequestError('secret_shares and secret_threshold are required');
          return raw(rekey.start(f.secret_shares, f.secret_threshold));
        },
        delete: () => {
          rekey.cancel();
          return undefined;
        },
      },
    },
    {
      pattern: 'rekey/update',
      description: 'Submit one current unseal key share to the rekey in progress.',
      unauthenticated: true,
      fields: updateFields,
      operations: {
        update: async (req) => {
          const { key, nonce } = keyAndNonce(req.fields);
          return raw(await rekey.update(key, nonce));
        },
      },
    },
    {
      pattern: 'generate-root/attempt',
      description: 'Start, read or cancel a root token generation.',
      unauthenticated: true,
      fields: z.object({
        otp: str(128).optional().describe('A base62 one-time password of otp_length characters; generated and returned when absent.'),
        pgp_key: str(16384).nullish().describe('Not supported: refused when given.'),
      }),
      operations: {
        read: () => raw(generateRoot.status()),
        update: (req) => {
          const f = req.fields as { otp?: string; pgp_key?: string | null };
          if (f.pgp_key) throw new BadRequestError('PGP-encrypted root tokens (pgp_key) are not supported by Leasehold');
          return raw(generateRoot.start(f.otp));
        },
        delete: () => {
          generateRoot.cancel();
          return undefined;
        },
      },
    },
    {
      pattern: 'generate-root/update',
      description: 'Submit one unseal key share to the root token generation in progress.',
      unauthenticated: true,
      fields: updateFields,
      operations: {
        update: async (req) => {
          const { key, nonce } = keyAndNonce(req.fields);
          return raw(await generateRoot.update(key, nonce));
        },
      },
    },
  ];
}
