// Reads `server -config=FILE|DIR`: Vault's HCL/JSON server config, or Leasehold's older flat JSON
// (kept working). Flags override the file. An invalid config stops the server with file:line.
import fs from 'node:fs';
import type { ServerOptions } from '../../server';
import { ConfigError, isLegacyJsonConfig, loadVaultServerConfig, type VaultServerConfig } from '../../config/server-config';
import { CliError } from '../context';

/** The flags that a config file can also set. */
export interface ConfigurableFlags {
  listen?: string;
  data?: string;
  logLevel?: string;
  dev?: boolean;
}

/** Whether `target` is a single file in Leasehold's older flat JSON format (handled by parseServerConfig). */
export function isLegacyConfigFile(target: string): boolean {
  try {
    if (!target.endsWith('.json') || fs.statSync(target).isDirectory()) return false;
    return isLegacyJsonConfig(fs.readFileSync(target, 'utf8'));
  } catch {
    return false;
  }
}

/** Loads a Vault-style config and lays it under the flags; returns the options and notes to log. */
export function applyVaultConfigFile(target: string, flags: ConfigurableFlags, options: ServerOptions): { options: ServerOptions; notes: string[] } {
  let config: VaultServerConfig;
  try {
    config = loadVaultServerConfig(target);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(`Error loading configuration: ${error.message}`, 1);
    throw error;
  }
  const notes = [...config.notes];
  const out: ServerOptions = { ...options };
  if (flags.listen === undefined && config.listenAddress !== undefined) out.listen = config.listenAddress;
  if (flags.data === undefined && config.storagePath !== undefined) out.dataDir = config.storagePath;
  if (flags.logLevel === undefined && config.logLevel !== undefined) out.logLevel = config.logLevel;
  if (config.tlsDisable) out.tlsDisable = true;
  if (config.maxPendingWrapsPerToken !== undefined) out.maxPendingWrapsPerToken = config.maxPendingWrapsPerToken;
  if (config.tlsCertFile !== undefined && config.tlsKeyFile !== undefined) {
    out.tls = {
      certFile: config.tlsCertFile,
      keyFile: config.tlsKeyFile,
      ...(config.tlsMinVersion ? { minVersion: config.tlsMinVersion } : {}),
      ...(config.tlsClientCaFile ? { clientCaFile: config.tlsClientCaFile } : {}),
      ...(config.tlsRequireAndVerifyClientCert ? { requireAndVerifyClientCert: true } : {}),
    };
  }
  // `ui = false` serves no console at /ui/ (Vault's default is false; Leasehold's console is on unless told).
  if (config.ui !== undefined) out.ui = config.ui;
  if (config.unauthenticatedMetricsAccess !== undefined) out.unauthenticatedMetricsAccess = config.unauthenticatedMetricsAccess;
  if (config.metricsDisabled !== undefined) out.metricsDisabled = config.metricsDisabled;
  // Vault's system lease TTLs: the defaults of mounts and tokens without their own, and the ceiling of every tune.
  if (config.defaultLeaseTtlSeconds !== undefined) out.defaultLeaseTtlSeconds = config.defaultLeaseTtlSeconds;
  if (config.maxLeaseTtlSeconds !== undefined) out.maxLeaseTtlSeconds = config.maxLeaseTtlSeconds;
  return { options: out, notes };
}
