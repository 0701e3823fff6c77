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
  /** Extra engine or auth method types for embedders (added to the built-in catalogue). */
  registry?: BackendRegistry;
  /** Revocation retries: failed attempts before a lease is irrevocable (default 6). */
  revokeMaxAttempts?: number;
  /** Revocation retries: the first backoff, doubling per attempt (default 1 s). */
  revokeBackoffBaseMs?: number;
  /** Revocation retries: the longest wait between attempts, irrevocable ones included (default 1 min). */
  revokeBackoffMaxMs?: number;
  /** Response wrapping: unexpired wraps one token may have pending (default 1000). */
  maxPendingWrapsPerToken?: number;
}

/** A running server. `rootToken` and `unsealKey` are only set in dev mode. */
export interface RunningServer {
  url: string;
  vault: Vault;
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
  return config;
}

/** Builds the vault and listens. In dev mode it initialises with one share, unseals and mounts kv-v2 at secret/. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger: Logger = createLogger({ level: options.logLevel });
  if (!options.dev && !options.dataDir) throw new Error('a data directory is required (--data DIR), or use --dev');
  process.umask(0o077);
  let dbFile = ':memory:';
  let dirLock: DataDirLock | undefined;
  if (!options.dev && options.dataDir) {
    fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    // One server per data directory, before anything is read: the lock lives as long as the process.
    dirLock = lockDataDir(options.dataDir);
    dbFile = path.join(options.dataDir, DATABASE_FILE);
  }
  let db: ReturnType<typeof openDatabase>;
  try {
    db = openDatabase(dbFile);
  } catch (error) {
    dirLock?.release();
    throw error;
  }
  const vault = new Vault({ db, clock: systemClock, logger, registry: { ...builtinRegistry(), ...options.registry }, expiration: revocationConfig(options), wrapping: { maxPendingPerToken: options.maxPendingWrapsPerToken } });

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

  const app = createApp({ vault, logger });
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
    vault,
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
