/**
 * Address text as libcalico-go's `net` package reads and prints it: `ParseCIDROrIP` takes a
 * bare address as a full-length prefix, `ParseCIDR` wants a prefix, and a network prints with
 * its host bits cleared (`10.0.0.0/24`), IPv6 in Go's RFC 5952 form.
 */
import { formatCIDR, parseCIDR, parseIP, type CIDR } from '@cattail/api';

export function parseCIDROrIP(text: string): CIDR | undefined {
  if (text.includes('/')) return parseCIDR(text);
  const addr = parseIP(text);
  return addr && { version: addr.version, addr, prefix: addr.version === 4 ? 32 : 128 };
}

export function isSingleAddress(cidr: CIDR): boolean {
  return cidr.prefix === (cidr.version === 4 ? 32 : 128);
}

export { formatCIDR, parseCIDR };
