// The listener's TLS settings, as Vault's listener "tcp" takes them: certificate and key files (PEM,
// chain allowed), minimum version, optional client certificates; re-read on SIGHUP.
import fs from 'node:fs';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { SecureContextOptions, TLSSocket } from 'node:tls';

/** Vault's `tls_min_version` values. */
export const TLS_VERSIONS = { tls10: 'TLSv1', tls11: 'TLSv1.1', tls12: 'TLSv1.2', tls13: 'TLSv1.3' } as const;
export type TlsMinVersion = keyof typeof TLS_VERSIONS;

/** One listener's TLS configuration (file paths; their contents are read at start and on reload). */
export interface ListenerTlsConfig {
  certFile: string;
  keyFile: string;
  /** Default `tls12`, as in Vault. */
  minVersion?: TlsMinVersion;
  /** CA bundle that client certificates must chain to; with it, clients are asked for a certificate. */
  clientCaFile?: string;
  /** Refuse a connection without a valid client certificate (needs clientCaFile). */
  requireAndVerifyClientCert?: boolean;
}

function readFile(what: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read ${what} "${file}": ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** The key material and version floor: what `setSecureContext` swaps on reload. Errors name the file, never its contents. */
export function secureContextOptions(config: ListenerTlsConfig): SecureContextOptions {
  const minVersion = TLS_VERSIONS[config.minVersion ?? 'tls12'];
  if (!minVersion) throw new Error(`tls_min_version must be one of ${Object.keys(TLS_VERSIONS).join(', ')}`);
  const options: SecureContextOptions = {
    cert: readFile('tls_cert_file', config.certFile),
    key: readFile('tls_key_file', config.keyFile),
    minVersion,
  };
  if (config.clientCaFile) options.ca = readFile('tls_client_ca_file', config.clientCaFile);
  return options;
}

/** The HTTPS server options for a listener. */
export function httpsServerOptions(config: ListenerTlsConfig): HttpsServerOptions {
  if (config.requireAndVerifyClientCert && !config.clientCaFile) throw new Error('tls_require_and_verify_client_cert needs tls_client_ca_file');
  return {
    ...secureContextOptions(config),
    requestCert: config.clientCaFile !== undefined,
    rejectUnauthorized: config.requireAndVerifyClientCert === true,
  };
}

/**
 * With a client CA but no requirement, Vault verifies a certificate if one is given: Node would
 * accept an unverified one, so such a connection is closed here.
 */
export function refuseUnverifiedClientCert(socket: TLSSocket): void {
  if (socket.authorized) return;
  const peer = socket.getPeerCertificate();
  if (peer && Object.keys(peer).length > 0) socket.destroy();
}
