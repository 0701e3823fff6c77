// Scenario `blast`: in-process, one entity holding 10k live leases and a token, against 1k KV keys and
// a policy with `*`, `+` and `deny` rules: how long GET sys/governance/blast-radius/:id takes to answer.
import { Vault } from '../../src/core/vault';
import { builtinRegistry } from '../../src/engines/registry';
import { createLogger } from '../../src/logger';
import { openDatabase } from '../../src/storage/database';
import { systemClock } from '../../src/util/clock';
import { INSTANT_SECRET_TYPE, instantRevokeEngine } from './instant-engine';
import type { Scenario } from './scenario';
import { formatMs, median } from './table';

const LEASES = 10_000;
const KV_KEYS = 1_000;
const RUNS = 7;

const POLICY = `
path "kv/*" { capabilities = ["read"] }
path "kv/+/admin" { capabilities = ["deny"] }
path "kv/+/db" { capabilities = ["read", "list"] }
path "instant/creds/*" { capabilities = ["read"] }
`;

export const blastRadiusScenario: Scenario = {
  name: 'blast',
  summary: `blast radius of an entity with ${LEASES / 1000}k live leases over ${KV_KEYS / 1000}k KV keys (in-process, median of ${RUNS})`,
  async run() {
    const vault = new Vault({ db: openDatabase(':memory:'), clock: systemClock, logger: createLogger({ level: 'silent' }), registry: { ...builtinRegistry(), instant: instantRevokeEngine }, scheduler: false });
    const { keys } = await vault.initialize(1, 1);
    await vault.seal.submitShare(Buffer.from(keys[0] as Uint8Array).toString('hex'));
    const root = vault.createRootToken();
    const call = (operation: 'write' | 'read', path: string, data: Record<string, unknown> = {}) => vault.handle({ operation, path, data, token: root, clientAddress: '127.0.0.1' });
    await call('write', 'sys/mounts/kv', { type: 'kv' });
    await call('write', 'sys/mounts/instant', { type: 'instant' });
    await call('write', 'sys/policy/reach', { policy: POLICY });
    for (let i = 0; i < KV_KEYS; i++) await call('write', `kv/team-${i % 50}/${i % 3 === 0 ? 'admin' : `key-${i}`}`, { v: '1' });
    const entity = vault.identity.createEntity({ name: 'bench', policies: ['reach'], metadata: { owner: 'team-bench' } });
    const mount = vault.mounts.get('instant/');
    if (!mount) throw new Error('instant mount missing');
    vault.tokens.create({ policies: ['default'], meta: {}, displayName: 'bench', authPath: 'auth/token/', parentAccessor: null, ttlSeconds: 3600, explicitMaxTtlSeconds: 0, periodSeconds: 0, numUses: 0, renewable: true, orphan: true, type: 'service', entityId: entity.id });
    const db = vault.deps.db;
    for (let issued = 0; issued < LEASES; issued += 1000) {
      await Promise.all(
        db.transaction(() =>
          Array.from({ length: 1000 }, (_, i) =>
            vault.expiration.register({
              mountUuid: mount.entry.uuid,
              requestPath: 'creds/bench',
              secret: { type: INSTANT_SECRET_TYPE, internalData: { username: `bench-${issued + i}` }, ttlSeconds: 3600, maxTtlSeconds: 3600, renewable: false },
              requester: { entityId: entity.id, owner: 'team-bench' },
            }),
          ),
        )(),
      );
    }
    const timings: number[] = [];
    let answer: { summary?: Record<string, unknown> } | undefined;
    for (let run = 0; run < RUNS; run++) {
      const startedAt = performance.now();
      const res = await call('read', `sys/governance/blast-radius/${entity.id}`);
      timings.push(performance.now() - startedAt);
      answer = (res.body as { data: typeof answer }).data;
    }
    const summary = answer?.summary ?? {};
    return [
      {
        scenario: 'blast',
        measurement: `GET sys/governance/blast-radius (${LEASES} leases, ${KV_KEYS} KV keys)`,
        p50Ms: median(timings),
        note: `median ${formatMs(median(timings))}, worst ${formatMs(Math.max(...timings))}; paths_reachable ${String(summary.paths_reachable)}, live_credentials ${String(summary.live_credentials)}`,
      },
    ];
  },
};
