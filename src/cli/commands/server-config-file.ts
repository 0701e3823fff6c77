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

const SYSTEM_TTL_SECONDS = 768 * 3600;

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
  if (config.ui) notes.push('ui = true is accepted; Leasehold has no web UI');
  if (config.unauthenticatedMetricsAccess !== undefined) notes.push('listener telemetry is accepted; Leasehold serves no metrics endpoint yet');
  for (const [key, value] of [['default_lease_ttl', config.defaultLeaseTtlSeconds], ['max_lease_ttl', config.maxLeaseTtlSeconds]] as const) {
    if (value !== undefined && value !== SYSTEM_TTL_SECONDS) notes.push(`${key} is accepted but not applied yet: the system default of 768h applies (tune mounts instead)`);
  }
  return { options: out, notes };
}
