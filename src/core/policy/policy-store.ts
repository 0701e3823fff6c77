// ACL policies: stored encrypted, compiled once per change, and combined into cached ACLs per
// policy set. Holds the built-in `default` and immutable `root` policies.
import { BadRequestError } from '../../errors';
import type { StorageView } from '../storage-view';
import { Acl, type Policy, parsePolicy } from './acl';
import { RESPONSE_WRAPPING_POLICY, RESPONSE_WRAPPING_POLICY_NAME } from '../wrapping/paths';

/** Vault's default policy: what every token may do to itself, plus cubbyhole and wrapping. */
export const DEFAULT_POLICY = `# Allow tokens to look up their own properties
path "auth/token/lookup-self" {
    capabilities = ["read"]
}

# Allow tokens to renew themselves
path "auth/token/renew-self" {
    capabilities = ["update"]
}

# Allow tokens to revoke themselves
path "auth/token/revoke-self" {
    capabilities = ["update"]
}

# Allow a token to look up its own capabilities on a path
path "sys/capabilities-self" {
    capabilities = ["update"]
}

# Allow a token to look up its resultant ACL from all policies
path "sys/internal/ui/resultant-acl" {
    capabilities = ["read"]
}

# Allow a token to renew a lease via lease_id in the request body
path "sys/renew" {
    capabilities = ["update"]
}
path "sys/leases/renew" {
    capabilities = ["update"]
}

# Allow looking up lease properties
path "sys/leases/lookup" {
    capabilities = ["update"]
}

# Allow a token to manage its own cubbyhole
path "cubbyhole/*" {
    capabilities = ["create", "read", "update", "delete", "list"]
}

# Allow a token to wrap arbitrary values in a response-wrapping token
path "sys/wrapping/wrap" {
    capabilities = ["update"]
}

# Allow a token to look up the creation time and TTL of a given response-wrapping token
path "sys/wrapping/lookup" {
    capabilities = ["update"]
}

# Allow a token to unwrap a response-wrapping token
path "sys/wrapping/unwrap" {
    capabilities = ["update"]
}

# Allow general purpose tools
path "sys/tools/hash" {
    capabilities = ["update"]
}
path "sys/tools/hash/*" {
    capabilities = ["update"]
}
`;

const NAME_RE = /^[a-z0-9][a-z0-9_.@-]{0,127}$/;

/**
 * Normalises a policy name as Vault does (trim, lowercase) and refuses anything that is not plain
 * ASCII, so `" root"`, `"ROOT"` and look-alikes such as Cyrillic `rооt` can never pass as something else.
 */
export function normalisePolicyName(name: string): string {
  const normalised = name.trim().toLowerCase();
  if (!NAME_RE.test(normalised)) throw new BadRequestError(`invalid policy name "${name.slice(0, 64).replace(/[^\x20-\x7e]/g, '?')}"`);
  return normalised;
}

/** Normalises and de-duplicates a list of policy names, preserving order. */
export function normalisePolicyNames(names: string[]): string[] {
  return [...new Set(names.map(normalisePolicyName))];
}

interface StoredPolicy {
  name: string;
  raw: string;
}

/** Policy CRUD plus compiled-ACL caching; invalidated on every write. */
export class PolicyStore {
  private readonly compiled = new Map<string, Policy>();
  private readonly aclCache = new Map<string, Acl>();
  /**
   * The same ACLs by the identity of the names array a caller passes: a cached token passes its own
   * array on every request, so the common lookup skips building the sorted key. Replaced whenever
   * `aclCache` is cleared. Callers must not mutate an array after passing it (token records never do).
   */
  private aclByNames = new WeakMap<readonly string[], Acl>();
  private static readonly ROOT_ACL = new Acl([], true);
  /** Built in and immutable: what a response-wrapping token may do (unwrap, look up, rewrap itself). */
  private static readonly WRAPPING_POLICY = parsePolicy(RESPONSE_WRAPPING_POLICY_NAME, RESPONSE_WRAPPING_POLICY);

  constructor(private readonly storage: () => StorageView) {}

  /** Ensures the default policy exists (on unseal) and clears caches. */
  load(): void {
    this.compiled.clear();
    this.clearAcls();
    if (!this.storage().get('default')) this.storage().putJSON('default', { name: 'default', raw: DEFAULT_POLICY } satisfies StoredPolicy);
  }

  list(): string[] {
    return [...this.storage().list('').filter((k) => !k.endsWith('/')), 'root'].sort();
  }

  get(name: string): Policy | undefined {
    const normalised = normalisePolicyName(name);
    if (normalised === 'root') return { name: 'root', raw: '', rules: [] };
    if (normalised === RESPONSE_WRAPPING_POLICY_NAME) return PolicyStore.WRAPPING_POLICY;
    const cached = this.compiled.get(normalised);
    if (cached) return cached;
    const stored = this.storage().getJSON<StoredPolicy>(normalised);
    if (!stored) return undefined;
    const policy = parsePolicy(stored.name, stored.raw);
    this.compiled.set(normalised, policy);
    return policy;
  }

  /** Validates and stores a policy. `root` is immutable. */
  put(name: string, raw: string): void {
    const normalised = normalisePolicyName(name);
    if (normalised === 'root') throw new BadRequestError('cannot update "root" policy');
    if (normalised === RESPONSE_WRAPPING_POLICY_NAME) throw new BadRequestError(`cannot update "${RESPONSE_WRAPPING_POLICY_NAME}" policy`);
    const policy = parsePolicy(normalised, raw);
    this.storage().putJSON(normalised, { name: normalised, raw } satisfies StoredPolicy);
    this.compiled.set(normalised, policy);
    this.clearAcls();
  }

  delete(name: string): void {
    const normalised = normalisePolicyName(name);
    if (normalised === 'root') throw new BadRequestError('cannot delete "root" policy');
    if (normalised === 'default') throw new BadRequestError('cannot delete "default" policy');
    if (normalised === RESPONSE_WRAPPING_POLICY_NAME) throw new BadRequestError(`cannot delete "${RESPONSE_WRAPPING_POLICY_NAME}" policy`);
    this.storage().delete(normalised);
    this.compiled.delete(normalised);
    this.clearAcls();
  }

  /** The ACL for a set of policy names, compiled once and cached until a policy changes. Unknown names are ignored. */
  acl(policyNames: readonly string[]): Acl {
    const known = this.aclByNames.get(policyNames);
    if (known) return known;
    const acl = this.aclFor(policyNames);
    this.aclByNames.set(policyNames, acl);
    return acl;
  }

  private aclFor(policyNames: readonly string[]): Acl {
    if (policyNames.includes('root')) return PolicyStore.ROOT_ACL;
    const key = [...policyNames].sort().join('\n');
    const cached = this.aclCache.get(key);
    if (cached) return cached;
    const policies = policyNames.map((n) => this.get(n)).filter((p): p is Policy => p !== undefined);
    const acl = new Acl(policies);
    this.aclCache.set(key, acl);
    return acl;
  }

  private clearAcls(): void {
    this.aclCache.clear();
    this.aclByNames = new WeakMap();
  }
}
