// The KV secrets engine: the mount option `version` picks Vault's unversioned (v1) or versioned (v2) store.
import type { BackendFactory } from '../../core/framework';
import { kvV1Backend } from './kv-v1';
import { kvV2Backend } from './kv-v2';

/** Mounts KV as Vault does: `version: "2"` is the versioned store, anything else (or nothing) is v1. */
export const kvBackendFactory: BackendFactory = (ctx) => (ctx.options.version === '2' ? kvV2Backend(ctx) : kvV1Backend(ctx));
