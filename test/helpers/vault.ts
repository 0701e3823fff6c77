// Builds a real vault for HTTP tests: in-memory SQLite, the real barrier and router, a manual or system clock.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { ExpirationConfig } from '../../src/core/expiration';
import type { BackendRegistry } from '../../src/core/mounts';
import { Vault } from '../../src/core/vault';
import { builtinRegistry } from '../../src/engines/registry';
import type { Express } from 'express';
import { createApp } from '../../src/http/app';
import { messageClassesFor } from '../../src/http/message-classes';
import { createVaultHttpServer } from '../../src/http/list-method';
import { createLogger } from '../../src/logger';
import { openDatabase } from '../../src/storage/database';
import { type Clock, systemClock } from '../../src/util/clock';

/** Knobs for test vaults: the clock, extra engines, and whether background jobs run (off by default). */
export interface VaultOptions {
  clock?: Clock;
  file?: string;
  registry?: BackendRegistry;
  scheduler?: boolean;
  expiration?: Partial<ExpirationConfig>;
  /** sys/metrics settings (the config file's telemetry). */
  telemetry?: { disabled?: boolean; unauthenticatedMetricsAccess?: boolean };
  wrapping?: { maxPendingPerToken?: number; maxWrappedBytes?: number };
}

/** A fresh, uninitialised vault with its Express app. */
export function newVault(options: VaultOptions = {}) {
  const logger = createLogger({ level: 'silent' });
  const db = openDatabase(options.file ?? ':memory:');
  const vault = new Vault({
    db,
    clock: options.clock ?? systemClock,
    logger,
    registry: { ...builtinRegistry(), ...options.registry },
    scheduler: options.scheduler ?? false,
    expiration: options.expiration,
    telemetry: options.telemetry,
    wrapping: options.wrapping,
  });
  const app = createApp({ vault, logger });
  return { vault, app, db, logger };
}

/** An initialised, unsealed vault with a root token, like `server --dev` but without a listener. */
export async function unsealedVault(options: VaultOptions = {}) {
  const built = newVault(options);
  const { keys, rootToken } = await built.vault.initialize(1, 1);
  await built.vault.seal.submitShare(Buffer.from(keys[0] as Uint8Array).toString('hex'));
  return { ...built, rootToken };
}

/** Listens on 127.0.0.1 with the LIST-capable server; returns the base URL and a closer. */
export async function listen(app: Express): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createVaultHttpServer(app, messageClassesFor(app));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
