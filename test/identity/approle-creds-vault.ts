// The set-up the holder and offboarding tests share: a vault with AppRole at approle/, the test
// lease engine at creds/, and a `creds` policy that reads it.
import request from 'supertest';
import { leaseEngine } from '../helpers/lease-engine';
import { unsealedVault } from '../helpers/vault';

/** A vault ready for AppRole logins that mint leases from `creds/`. */
export async function approleCredsVault() {
  const engine = leaseEngine();
  const v = await unsealedVault({ registry: { leases: engine.factory } });
  const root = { 'X-Vault-Token': v.rootToken };
  await request(v.app).post('/v1/sys/auth/approle').set(root).send({ type: 'approle' });
  await request(v.app).post('/v1/sys/mounts/creds').set(root).send({ type: 'leases' });
  await request(v.app).put('/v1/sys/policy/creds').set(root).send({ policy: 'path "creds/*" { capabilities = ["read"] }' });
  return { ...v, engine, root };
}
