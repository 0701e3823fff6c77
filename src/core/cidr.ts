// CIDR binding: is a client address inside one of a token's or secret-id's bound ranges.
import ipaddr from 'ipaddr.js';
import { BadRequestError } from '../errors';

/** Parses and validates CIDR strings (a bare address is a /32 or /128). Throws 400 naming the bad entry. */
export function parseCidrs(cidrs: string[]): [ipaddr.IPv4 | ipaddr.IPv6, number][] {
  return cidrs.map((c) => {
    try {
      return c.includes('/') ? ipaddr.parseCIDR(c) : ((a) => [a, a.kind() === 'ipv4' ? 32 : 128] as [ipaddr.IPv4 | ipaddr.IPv6, number])(ipaddr.parse(c));
    } catch {
      throw new BadRequestError(`invalid CIDR "${c.slice(0, 64)}"`);
    }
  });
}

/** True if `address` (as seen on the socket, IPv4-mapped IPv6 included) falls in any of `cidrs`. */
export function addressInCidrs(address: string, cidrs: string[]): boolean {
  if (cidrs.length === 0) return true;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(address);
  } catch {
    return false;
  }
  for (const [range, bits] of parseCidrs(cidrs)) {
    const candidate = range.kind() === 'ipv4' && parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress() ? (parsed as ipaddr.IPv6).toIPv4Address() : parsed;
    if (candidate.kind() === range.kind() && candidate.match(range, bits)) return true;
  }
  return false;
}
