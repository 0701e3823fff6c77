// CIDR rules specific to AppRole: validating lists on write, and the subset rule between a secret ID and its role.
import { parseCidrs } from '../../core/cidr';
import { BadRequestError } from '../../errors';

/** Validates a CIDR list (400 naming the bad entry) and returns it trimmed, without empty entries or duplicates. */
export function validCidrs(cidrs: string[]): string[] {
  const cleaned = [...new Set(cidrs.map((c) => c.trim()).filter((c) => c !== ''))];
  parseCidrs(cleaned);
  return cleaned;
}

/**
 * True if every block of `inner` lies inside some block of `outer` (Vault's cidrutil.SubsetBlocks). An empty `inner`
 * or `outer` imposes nothing, so it is always a subset.
 */
export function cidrsWithin(inner: string[], outer: string[] | null): boolean {
  if (inner.length === 0 || !outer || outer.length === 0) return true;
  const outerRanges = parseCidrs(outer);
  return parseCidrs(inner).every(([address, bits]) =>
    outerRanges.some(([range, rangeBits]) => address.kind() === range.kind() && rangeBits <= bits && address.match(range as never, rangeBits)),
  );
}

/** Throws Vault's 400 when a secret ID's CIDRs are not inside the role's. */
export function requireCidrSubset(inner: string[], outer: string[] | null, what: string): void {
  if (!cidrsWithin(inner, outer)) {
    throw new BadRequestError(`failed to verify subset relationship between CIDR blocks on the role and ${what}`);
  }
}
