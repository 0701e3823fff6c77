// The JWT auth method's `config` path: where verification keys come from (one of a JWKS URL, an OIDC discovery URL
// or static PEM keys), the accepted algorithms, the bound issuer and the default role.
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { str, stringList } from '../../core/fields';
import type { BackendRequest, BackendResponse, PathDefinition } from '../../core/framework';
import type { StorageView } from '../../core/storage-view';
import { BadRequestError, NotFoundError } from '../../errors';
import { checkFetchableUrl, DocumentFetchError } from './bounded-fetch';
import type { KeySourceCache } from './key-source';

/** The storage key of the method's configuration. */
export const CONFIG_KEY = 'config';

/** Signing algorithms Vault's JWT method accepts: asymmetric only, so a public key can never be used as an HMAC secret. */
export const SUPPORTED_SIGNING_ALGS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'EdDSA'] as const;

/** Vault's default when `jwt_supported_algs` is empty. */
export const DEFAULT_SIGNING_ALGS = ['RS256'];

/** The stored configuration. `oidcClientSecret` is kept (encrypted) for compatibility but never read back. */
export interface JwtConfig {
  oidcDiscoveryUrl: string;
  jwksUrl: string;
  jwtValidationPubkeys: string[];
  jwtSupportedAlgs: string[];
  boundIssuer: string;
  defaultRole: string;
  oidcClientId: string;
  oidcClientSecret: string;
}

const MAX_URL = 2048;
const MAX_PEM = 16 * 1024;

const configFields = z.object({
  oidc_discovery_url: str(MAX_URL).optional().describe('The OIDC discovery URL, without the /.well-known/openid-configuration suffix.'),
  oidc_discovery_ca_pem: str(64 * 1024).optional().describe('Not supported: the system trust store verifies https.'),
  oidc_client_id: str(1024).optional().describe('OAuth client id (only used by the OIDC browser flow, which is not supported).'),
  oidc_client_secret: str(4096).optional().describe('OAuth client secret (only used by the OIDC browser flow, which is not supported). Never returned.'),
  jwks_url: str(MAX_URL).optional().describe('A JSON Web Key Set URL to fetch verification keys from.'),
  jwks_ca_pem: str(64 * 1024).optional().describe('Not supported: the system trust store verifies https.'),
  jwt_validation_pubkeys: stringList(64, MAX_PEM).optional().describe('PEM-encoded public keys (or certificates) that verify tokens locally.'),
  jwt_supported_algs: stringList(16, 16).optional().describe('Accepted signing algorithms; RS256 if empty.'),
  bound_issuer: str(MAX_URL).optional().describe('The value the iss claim must equal.'),
  default_role: str(128).optional().describe('The role used when a login names none.'),
});

type ConfigFields = z.infer<typeof configFields>;

/** Reads the stored configuration, if any. */
export function loadConfig(storage: StorageView): JwtConfig | undefined {
  return storage.getJSON<JwtConfig>(CONFIG_KEY);
}

/** The effective signing algorithms of a configuration. */
export function effectiveAlgorithms(config: JwtConfig): string[] {
  return config.jwtSupportedAlgs.length > 0 ? config.jwtSupportedAlgs : DEFAULT_SIGNING_ALGS;
}

/**
 * Parses one PEM public key or certificate into a KeyObject. Private keys are refused: a config must not hold one,
 * and reading it back would disclose it.
 */
export function parsePublicKeyPem(pem: string): KeyObject {
  if (/PRIVATE KEY-----/.test(pem)) throw new Error('a private key was given where a public key is expected');
  if (/-----BEGIN CERTIFICATE-----/.test(pem)) return new X509Certificate(pem).publicKey;
  const key = createPublicKey({ key: pem, format: 'pem' });
  if (key.type !== 'public') throw new Error('not a public key');
  return key;
}

function validateUrl(field: string, value: string): string {
  const checked = checkFetchableUrl(value);
  if ('reason' in checked) throw new BadRequestError(`invalid value for field "${field}": ${checked.reason}`);
  return value;
}

function buildConfig(fields: ConfigFields): JwtConfig {
  for (const caField of ['jwks_ca_pem', 'oidc_discovery_ca_pem'] as const) {
    if ((fields[caField] ?? '').trim() !== '') {
      throw new BadRequestError(`"${caField}" is not supported: https endpoints are verified against the system trust store`);
    }
  }
  const pubkeys = (fields.jwt_validation_pubkeys ?? []).filter((k) => k.trim() !== '');
  const config: JwtConfig = {
    oidcDiscoveryUrl: (fields.oidc_discovery_url ?? '').trim(),
    jwksUrl: (fields.jwks_url ?? '').trim(),
    jwtValidationPubkeys: pubkeys,
    jwtSupportedAlgs: fields.jwt_supported_algs ?? [],
    boundIssuer: fields.bound_issuer ?? '',
    defaultRole: (fields.default_role ?? '').toLowerCase(),
    oidcClientId: fields.oidc_client_id ?? '',
    oidcClientSecret: fields.oidc_client_secret ?? '',
  };
  const sources = [config.oidcDiscoveryUrl !== '', config.jwksUrl !== '', pubkeys.length > 0].filter(Boolean).length;
  if (sources !== 1) throw new BadRequestError("exactly one of 'jwt_validation_pubkeys', 'jwks_url' or 'oidc_discovery_url' must be set");
  if (config.defaultRole !== '' && !/^[a-z0-9][a-z0-9_.@-]*$/.test(config.defaultRole)) {
    throw new BadRequestError('invalid value for field "default_role": must be letters, digits, or ._@- and start with a letter or digit');
  }
  if (config.oidcDiscoveryUrl !== '') validateUrl('oidc_discovery_url', config.oidcDiscoveryUrl);
  if (config.jwksUrl !== '') validateUrl('jwks_url', config.jwksUrl);
  pubkeys.forEach((pem, index) => {
    try {
      parsePublicKeyPem(pem);
    } catch {
      throw new BadRequestError(`invalid value for field "jwt_validation_pubkeys": entry ${index} is not a PEM public key or certificate`);
    }
  });
  for (const alg of config.jwtSupportedAlgs) {
    if (!(SUPPORTED_SIGNING_ALGS as readonly string[]).includes(alg)) {
      throw new BadRequestError(`invalid value for field "jwt_supported_algs": unsupported signing algorithm "${alg.slice(0, 16)}"; supported: ${SUPPORTED_SIGNING_ALGS.join(', ')}`);
    }
  }
  return config;
}

/** The `config` path; `keys` is told about every change so cached key documents never outlive their config. */
export function configPath(keys: KeySourceCache): PathDefinition<ConfigFields> {
  const write = async (req: BackendRequest<ConfigFields>): Promise<BackendResponse | undefined> => {
    const config = buildConfig(req.fields);
    // Like Vault, a URL source is fetched before it is saved, so a typo is a 400 now rather than failed logins later.
    try {
      await keys.validate(config);
    } catch (error) {
      const source = config.jwksUrl !== '' ? 'jwks_url' : config.oidcDiscoveryUrl !== '' ? 'oidc_discovery_url' : 'jwt_validation_pubkeys';
      throw new BadRequestError(`error checking ${source}: ${error instanceof DocumentFetchError ? error.message : 'the keys could not be loaded'}`);
    }
    req.storage.putJSON(CONFIG_KEY, config);
    const warnings: string[] = [];
    if (config.oidcClientId !== '' || config.oidcClientSecret !== '') {
      warnings.push('oidc_client_id and oidc_client_secret are stored, but the OIDC browser (authorization code) flow is not supported: only JWT login is');
    }
    return warnings.length > 0 ? { warnings } : undefined;
  };
  const read = (req: BackendRequest<ConfigFields>): BackendResponse => {
    const config = loadConfig(req.storage);
    if (!config) throw new NotFoundError();
    return {
      data: {
        oidc_discovery_url: config.oidcDiscoveryUrl,
        oidc_discovery_ca_pem: '',
        oidc_client_id: config.oidcClientId,
        jwks_url: config.jwksUrl,
        jwks_ca_pem: '',
        jwt_validation_pubkeys: config.jwtValidationPubkeys,
        jwt_supported_algs: config.jwtSupportedAlgs,
        bound_issuer: config.boundIssuer,
        default_role: config.defaultRole,
      },
    };
  };
  return {
    pattern: 'config',
    fields: configFields,
    operations: { read, create: write, update: write },
    description: 'Configures where the JWT auth method gets its verification keys and which issuer it trusts.',
  };
}
