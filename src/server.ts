// Starts a Leasehold server: dev mode (in-memory, unsealed, root token printed) or a real one on a data directory.
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { BackendRegistry } from './core/mounts';
import { Vault } from './core/vault';
import { builtinRegistry } from './engines/registry';
import { createApp } from './http/app';
import { messageClassesFor } from './http/message-classes';
import { createVaultHttpServer, createVaultHttpsServer } from './http/list-method';
import { httpsServerOptions, type ListenerTlsConfig, refuseUnverifiedClientCert, secureContextOptions } from './http/tls';
import { createLogger, type Logger } from './logger';
import { parseListenAddress } from './listen-address';
import type { ExpirationConfig } from './core/expiration';
import { openDatabase } from './storage/database';
import { removeLeftoverStaging, swapInStaged, removeDatabaseFiles, type StagedRestore } from './storage/snapshot';
import { BadRequestError } from './errors';
import { DEFAULT_SYSTEM_LEASE_TTL, type SystemLeaseTtl } from './core/system-backend';
import { type DataDirLock, lockDataDir } from './storage/data-dir-lock';
import { systemClock } from './util/clock';

/** How to run the server (CLI flags map onto this). */
export interface ServerOptions {
  dev?: boolean;
  devRootTokenId?: string;
  /** HOST:PORT; port 0 picks a free one. Default 127.0.0.1:8200. */
  listen?: string;
  /** Directory for the SQLite file (required unless dev). */
  dataDir?: string;
  /** Log level; `silent` for embedded use in tests. */
  logLevel?: string;
  /** Serve HTTPS with these files (Vault's listener tls_* settings); reloaded on SIGHUP. */
  tls?: ListenerTlsConfig;
  /** Vault's `tls_disable`: plain HTTP on purpose (no warning). */
  tlsDisable?: boolean;
  /** Serve sys/metrics without a token (the listener's telemetry `unauthenticated_metrics_access`). */
  unauthenticatedMetricsAccess?: boolean;
  /** Serve the web console at /ui/ (the config file's `ui`; on unless false). */
  ui?: boolean;
  /** No metrics at all: nothing counted, sys/metrics refuses (telemetry `prometheus_retention_time = 0`). */
  metricsDisabled?: boolean;
  /** Extra engine or auth method types for embedders (added to the built-in catalogue). */
  registry?: BackendRegistry;
  /** Revocation retries: failed attempts before a lease is irrevocable (default 6). */
  revokeMaxAttempts?: number;
  /** Revocation retries: the first backoff, doubling per attempt (default 1 s). */
  revokeBackoffBaseMs?: number;
  /** Revocation retries: the longest wait between attempts, irrevocable ones included (default 1 min). */
  revokeBackoffMaxMs?: number;
  /** The system default lease TTL (config `default_lease_ttl`; 768h if unset): for mounts and tokens without their own. */
  defaultLeaseTtlSeconds?: number;
  /** The system max lease TTL (config `max_lease_ttl`; 768h if unset): the ceiling of every mount tune. */
  maxLeaseTtlSeconds?: number;
  /** Largest snapshot file `sys/storage/snapshot-restore` accepts (default 1 GiB). */
  snapshotMaxBytes?: number;
  /** How long a credential's creation may take before its unfinished issuance is revoked (default 1 min). */
  pendingLeaseGraceMs?: number;
  /** Response wrapping: unexpired wraps one token may have pending (default 1000). */
  maxPendingWrapsPerToken?: number;
}

/** A running server. `rootToken` and `unsealKey` are only set in dev mode. */
export interface RunningServer {
  url: string;
  /** The current vault: a snapshot restore replaces it with one opened on the restored store (sealed). */
  readonly vault: Vault;
  rootToken?: string;
  unsealKey?: string;
  close(): Promise<void>;
}

/** Name of the database file inside the data directory. */
export const DATABASE_FILE = 'leasehold.db';

/** The operator's revocation retry settings, as expiration-manager tunables (unset ones keep the defaults). */
function revocationConfig(options: ServerOptions): Partial<ExpirationConfig> {
  const config: Partial<ExpirationConfig> = {};
  if (options.revokeMaxAttempts !== undefined) config.maxRevokeAttempts = options.revokeMaxAttempts;
  if (options.revokeBackoffBaseMs !== undefined) config.baseBackoffMs = options.revokeBackoffBaseMs;
  if (options.revokeBackoffMaxMs !== undefined) {
    config.maxBackoffMs = options.revokeBackoffMaxMs;
    config.irrevocableRetryMs = options.revokeBackoffMaxMs;
  }
  if (options.pendingLeaseGraceMs !== undefined) config.pendingLeaseGraceMs = options.pendingLeaseGraceMs;
  return config;
}

/** The system lease TTLs from the options (768h each when unset, as Vault's). */
export function systemLeaseTtlOf(options: Pick<ServerOptions, 'defaultLeaseTtlSeconds' | 'maxLeaseTtlSeconds'>): SystemLeaseTtl {
  const ttl = {
    defaultSeconds: options.defaultLeaseTtlSeconds || DEFAULT_SYSTEM_LEASE_TTL.defaultSeconds,
    maxSeconds: options.maxLeaseTtlSeconds || DEFAULT_SYSTEM_LEASE_TTL.maxSeconds,
  };
  if (ttl.defaultSeconds > ttl.maxSeconds) throw new Error(`default_lease_ttl (${ttl.defaultSeconds}s) cannot be greater than max_lease_ttl (${ttl.maxSeconds}s)`);
  return ttl;
}

/** Builds the vault and listens. In dev mode it initialises with one share, unseals and mounts kv-v2 at secret/. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger: Logger = createLogger({ level: options.logLevel });
  if (!options.dev && !options.dataDir) throw new Error('a data directory is required (--data DIR), or use --dev');
  const systemLeaseTtl = systemLeaseTtlOf(options);
  process.umask(0o077);
  let dbFile = ':memory:';
  let dirLock: DataDirLock | undefined;
  if (!options.dev && options.dataDir) {
    fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    // One server per data directory, before anything is read: the lock lives as long as the process.
    dirLock = lockDataDir(options.dataDir);
    dbFile = path.join(options.dataDir, DATABASE_FILE);
    removeLeftoverStaging(options.dataDir);
  }
  const dataDir = options.dev ? undefined : options.dataDir;
  let db: ReturnType<typeof openDatabase>;
  try {
    db = openDatabase(dbFile);
  } catch (error) {
    dirLock?.release();
    throw error;
  }
  const registry = { ...builtinRegistry(), ...options.registry };
  let restoring = false;
  /**
   * A snapshot restore: the current vault seals, its database closes, the checked and fsynced staged
   * file is renamed over the database, and a new vault opens on it, sealed, with the snapshot's keyring.
   */
  const replaceDatabase = async (staged: StagedRestore): Promise<void> => {
    if (restoring) {
      removeDatabaseFiles(staged.file);
      throw new BadRequestError('another snapshot restore is in progress');
    }
    restoring = true;
    try {
      await vault.seal.seal();
      db.close();
      try {
        swapInStaged(staged, dbFile);
      } catch (error) {
        removeDatabaseFiles(staged.file);
        db = openDatabase(dbFile);
        vault = makeVault(db);
        throw error;
      }
      db = openDatabase(dbFile);
      vault = makeVault(db);
      logger.warn(
        { snapshotCreatedAt: staged.header.created_at, expiredLeases: staged.expiredLeases },
        'storage restored from a snapshot: the vault is sealed; unseal it with the shares that were valid when the snapshot was taken',
      );
    } finally {
      restoring = false;
    }
  };
  const makeVault = (database: typeof db) =>
    new Vault({
      db: database,
      clock: systemClock,
      logger,
      registry,
      expiration: revocationConfig(options),
      systemLeaseTtl,
      wrapping: { maxPendingPerToken: options.maxPendingWrapsPerToken },
      telemetry: { disabled: options.metricsDisabled, unauthenticatedMetricsAccess: options.unauthenticatedMetricsAccess },
      storage: dataDir ? { dataDir, replaceDatabase } : {},
    });
  let vault = makeVault(db);

  let rootToken: string | undefined;
  let unsealKey: string | undefined;
  if (options.dev) {
    const init = await vault.initialize(1, 1, options.devRootTokenId);
    rootToken = init.rootToken;
    unsealKey = Buffer.from(init.keys[0] as Uint8Array).toString('base64');
    await vault.seal.submitShare(unsealKey);
    vault.mounts.mount({
      table: 'secret',
      path: 'secret/',
      type: 'kv',
      description: 'key/value secret storage',
      config: { defaultLeaseTtlSeconds: 0, maxLeaseTtlSeconds: 0, forceNoCache: false },
      options: { version: '2' },
      local: false,
      sealWrap: false,
    });
  }

  const app = createApp({ vault: () => vault, logger, snapshotMaxBytes: options.snapshotMaxBytes, ...(options.ui === false ? { console: false as const } : {}) });
  const tls = options.tlsDisable ? undefined : options.tls;
  const server = tls ? createVaultHttpsServer(app, httpsServerOptions(tls), messageClassesFor(app)) : createVaultHttpServer(app, messageClassesFor(app));
  if (tls?.clientCaFile && !tls.requireAndVerifyClientCert) server.on('secureConnection', refuseUnverifiedClientCert);
  if (!tls && !options.dev && !options.tlsDisable) {
    logger.warn({}, 'the listener serves plain HTTP: tokens and secrets cross the network unencrypted; set tls_cert_file and tls_key_file, or tls_disable = true to silence this');
  }
  const { host, port } = parseListenAddress(options.listen ?? '127.0.0.1:8200');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `${tls ? 'https' : 'http'}://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  logger.info({ url, dev: options.dev ?? false, sealed: vault.seal.sealed, initialized: vault.seal.initialized }, 'leasehold listening');

  // Log rotation: reopen audit files on SIGHUP, as Vault does.
  // And swap the TLS certificate and key: new connections get them, connections in flight keep theirs.
  const reopenAudit = () => {
    vault.audit.reopen();
    if (!tls) return;
    try {
      (server as ReturnType<typeof createVaultHttpsServer>).setSecureContext(secureContextOptions(tls));
      logger.info({ certFile: tls.certFile }, 'TLS certificate and key reloaded');
    } catch (err) {
      logger.error({ err: { message: (err as Error).message } }, 'TLS reload failed; keeping the current certificate');
    }
  };
  process.on('SIGHUP', reopenAudit);
  let closed = false;
  return {
    url,
    get vault() {
      return vault;
    },
    rootToken,
    unsealKey,
    close: async () => {
      if (closed) return;
      closed = true;
      process.off('SIGHUP', reopenAudit);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
      await vault.seal.seal();
      db.close();
      dirLock?.release();
    },
  };
}
