// Bounded zod schemas for every AppRole path, with Vault's field names, defaults and leniency.
import { z } from 'zod';
import { bool, durationSeconds, int, policyList, str, stringList } from '../../core/fields';

/** Vault's GenericNameRegex for role names: word characters, `.`, `@` and `-`, starting and ending with a word character. */
export const ROLE_NAME_PATTERN = String.raw`\w(?:[\w.@-]*\w)?`;

/** Longest role name we accept (Vault caps HMAC inputs at 4096 bytes; a storage key needs far less). */
export const MAX_ROLE_NAME_CHARS = 256;

/** Longest role_id or secret_id we accept: Vault's maxHmacInputLength. */
export const MAX_CREDENTIAL_CHARS = 4096;

/** Most CIDR blocks in one list. */
const MAX_CIDRS = 64;

const roleName = () =>
  str(MAX_ROLE_NAME_CHARS)
    .regex(new RegExp(`^${ROLE_NAME_PATTERN}$`), 'must be letters, digits, _ . @ or -, starting and ending with a letter, digit or _')
    .describe('Name of the role (case-insensitive; stored lower-cased as Vault does).');

const cidrList = (description: string) => stringList(MAX_CIDRS, 64).optional().describe(description);

const credential = (description: string) => str(MAX_CREDENTIAL_CHARS).optional().describe(description);

/** Fields of `role/<role_name>`: the role's own constraints plus Vault's tokenutil token fields and deprecated aliases. */
export const roleFields = z.object({
  role_name: roleName(),
  bind_secret_id: bool().optional().describe('Require a secret_id at login. Defaults to true.'),
  secret_id_bound_cidrs: cidrList('CIDR blocks (comma-separated or a list) allowed to log in with this role.'),
  bound_cidr_list: cidrList('Deprecated: use secret_id_bound_cidrs.'),
  secret_id_num_uses: int(0, 1_000_000_000).optional().describe('Logins each secret ID allows; 0 means unlimited.'),
  secret_id_ttl: durationSeconds().optional().describe('Lifetime of secret IDs in seconds or as a duration string; 0 means no expiry.'),
  local_secret_ids: bool().optional().describe('Cluster-local secret IDs; settable only at creation.'),
  role_id: credential('A custom role_id; defaults to a random UUID. Must be unique across roles.'),
  token_policies: policyList(256, 128).optional().describe('Policies of the issued tokens.'),
  policies: policyList(256, 128).optional().describe('Deprecated: use token_policies.'),
  token_ttl: durationSeconds().optional().describe('Initial TTL of issued tokens in seconds; 0 uses the mount default.'),
  token_max_ttl: durationSeconds().optional().describe('Maximum lifetime of issued tokens in seconds; 0 uses the mount maximum.'),
  token_explicit_max_ttl: durationSeconds().optional().describe('A hard cap on issued tokens\' lifetime in seconds, renewals included.'),
  token_period: durationSeconds().optional().describe('Makes issued tokens periodic with this renewal period in seconds.'),
  period: durationSeconds().optional().describe('Deprecated: use token_period.'),
  token_no_default_policy: bool().optional().describe('Do not add the default policy to issued tokens.'),
  owner: str(256).optional().describe('Accountable owner (person or team) of tokens and leases issued through this role.'),
  token_num_uses: int(0, 1_000_000_000).optional().describe('Uses each issued token allows; 0 means unlimited.'),
  token_type: str(32).optional().describe('service or default (batch tokens are not supported).'),
  token_bound_cidrs: cidrList('CIDR blocks (comma-separated or a list) the issued tokens may be used from.'),
});

/** Fields of the paths that only name a role. */
export const roleNameFields = z.object({ role_name: roleName() });

/** Fields of `role/<role_name>/role-id`. */
export const roleIdFields = z.object({
  role_name: roleName(),
  role_id: credential('The new role_id. Must be unique across roles.'),
});

const secretIdOptions = {
  role_name: roleName(),
  metadata: z
    .union([str(16_384), z.record(str(128), z.unknown())])
    .optional()
    .describe('Metadata for the secret ID: a JSON object of strings, as a string (Vault) or an object.'),
  cidr_list: cidrList('CIDR blocks this secret ID may log in from; a subset of the role\'s secret_id_bound_cidrs.'),
  token_bound_cidrs: cidrList('CIDR blocks tokens from this secret ID may be used from; a subset of the role\'s token_bound_cidrs.'),
  ttl: durationSeconds().optional().describe('Lifetime of this secret ID in seconds; at most the role\'s secret_id_ttl.'),
  num_uses: int(0, 1_000_000_000).optional().describe('Logins this secret ID allows; at most the role\'s secret_id_num_uses.'),
};

/** Fields of `role/<role_name>/secret-id` (generate). */
export const generateSecretIdFields = z.object(secretIdOptions);

/** Fields of `role/<role_name>/custom-secret-id`. */
export const customSecretIdFields = z.object({ ...secretIdOptions, secret_id: credential('The secret ID to register.') });

/** Fields of `role/<role_name>/secret-id/lookup` and `/destroy`. */
export const secretIdFields = z.object({ role_name: roleName(), secret_id: credential('The secret ID.') });

/** Fields of `role/<role_name>/secret-id-accessor/lookup` and `/destroy`. */
export const accessorFields = z.object({
  role_name: roleName(),
  secret_id_accessor: str(64)
    .regex(/^[A-Za-z0-9-]*$/, 'must be a secret ID accessor')
    .optional()
    .describe('Accessor of the secret ID.'),
});

/** Fields of `login`. */
export const loginFields = z.object({
  role_id: credential('The role_id of the role.'),
  secret_id: credential('A secret ID issued for the role.'),
});

// The validated shapes handlers receive, one per schema above.
export type RoleFields = z.infer<typeof roleFields>;
export type RoleNameFields = z.infer<typeof roleNameFields>;
export type RoleIdFields = z.infer<typeof roleIdFields>;
export type GenerateSecretIdFields = z.infer<typeof generateSecretIdFields>;
export type CustomSecretIdFields = z.infer<typeof customSecretIdFields>;
export type SecretIdFields = z.infer<typeof secretIdFields>;
export type AccessorFields = z.infer<typeof accessorFields>;
export type LoginFields = z.infer<typeof loginFields>;
