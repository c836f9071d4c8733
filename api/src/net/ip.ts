/**
 * IP addresses and CIDRs, v4 and v6, without Node's `net` module so `api` stays pure and the
 * same code runs in k6 bundles. Addresses are kept as byte arrays; formatting follows Go's
 * `net.IP.String()` (RFC 5952 for v6) because Calico writes CIDRs into etcd keys that way, and
 * our keys must match byte for byte.
 */

export type IPVersion = 4 | 6;

export interface IPAddr {
  readonly version: IPVersion;
  readonly bytes: Uint8Array; // 4 or 16 bytes
}

export interface CIDR {
  readonly version: IPVersion;
  /** The address as written (host bits may be set). */
  readonly addr: IPAddr;
  readonly prefix: number;
}

export function parseIP(text: string): IPAddr | undefined {
  if (text.includes(':')) return parseIPv6(text);
  return parseIPv4(text);
}

function parseIPv4(text: string): IPAddr | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    bytes[i] = n;
  }
  return { version: 4, bytes };
}

function parseIPv6(text: string): IPAddr | undefined {
  if (text.includes('%')) return undefined; // zones are not addresses a pool can hold
  let head = text;
  let tailV4: IPAddr | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tailV4 = parseIPv4(text.slice(lastColon + 1));
    if (!tailV4) return undefined;
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = head.indexOf('::');
  if (dbl !== -1 && head.indexOf('::', dbl + 1) !== -1) return undefined;
  const groupsOf = (s: string): string[] | undefined => (s === '' ? [] : s.split(':'));
  let groups: string[] | undefined;
  if (dbl === -1) {
    groups = groupsOf(head);
    if (!groups || groups.length !== 8) return undefined;
  } else {
    const left = groupsOf(head.slice(0, dbl));
    const right = groupsOf(head.slice(dbl + 2));
    if (!left || !right || left.length + right.length > 7) return undefined;
    groups = [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  }
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = groups[i];
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    const n = parseInt(g, 16);
    bytes[i * 2] = n >> 8;
    bytes[i * 2 + 1] = n & 0xff;
  }
  if (tailV4) bytes.set(tailV4.bytes, 12);
  return { version: 6, bytes };
}

export function formatIP(ip: IPAddr): string {
  const b = ip.bytes;
  if (ip.version === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i] << 8) | b[i + 1]);
  // Longest run of two or more zero groups becomes "::" (first one on a tie), as RFC 5952 says.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (bestStart === -1) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

export function parseCIDR(text: string): CIDR | undefined {
  const slash = text.indexOf('/');
  if (slash === -1) return undefined;
  const addr = parseIP(text.slice(0, slash));
  const p = text.slice(slash + 1);
  if (!addr || !/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
  const prefix = Number(p);
  if (prefix > (addr.version === 4 ? 32 : 128)) return undefined;
  return { version: addr.version, addr, prefix };
}

/** The network address: host bits cleared. */
export function networkOf(cidr: CIDR): IPAddr {
  const bytes = new Uint8Array(cidr.addr.bytes);
  for (let bit = cidr.prefix; bit < bytes.length * 8; bit++) {
    bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
  }
  return { version: cidr.version, bytes };
}

export function hasHostBits(cidr: CIDR): boolean {
  const net = networkOf(cidr);
  return net.bytes.some((v, i) => v !== cidr.addr.bytes[i]);
}

/** Canonical text of the network, like Go's `(*net.IPNet).String()`: `10.0.0.0/26`, `fd00::/122`. */
export function formatCIDR(cidr: CIDR): string {
  return `${formatIP(networkOf(cidr))}/${cidr.prefix}`;
}

export function cidrContainsIP(cidr: CIDR, ip: IPAddr): boolean {
  if (ip.version !== cidr.version) return false;
  for (let bit = 0; bit < cidr.prefix; bit++) {
    const mask = 0x80 >> (bit & 7);
    if ((ip.bytes[bit >> 3] & mask) !== (cidr.addr.bytes[bit >> 3] & mask)) return false;
  }
  return true;
}

/** True when `inner` lies entirely inside `outer`. */
export function cidrContains(outer: CIDR, inner: CIDR): boolean {
  return inner.prefix >= outer.prefix && cidrContainsIP(outer, inner.addr);
}

export function cidrsOverlap(a: CIDR, b: CIDR): boolean {
  return a.prefix <= b.prefix ? cidrContainsIP(a, b.addr) : cidrContainsIP(b, a.addr);
}

/**
 * Calico's resource-name form of a CIDR (`names.CIDRToName`): `.`, `:` and `/` become `-`, so
 * `10.0.0.0/26` is `10-0-0-0-26` and `fd00::/122` is `fd00---122`.
 */
export function cidrToName(cidrText: string): string {
  return cidrText.replace(/[.:/]/g, '-');
}

/** The inverse of {@link cidrToName}; undefined when the name is not one. */
export function nameToCIDR(name: string): CIDR | undefined {
  const parts = name.split('-');
  if (parts.length < 3) return undefined;
  const prefix = parts.pop() as string;
  const isV4 = parts.length === 4 && parts.every((p) => /^[0-9]+$/.test(p));
  const addr = isV4 ? parts.join('.') : parts.join(':');
  return parseCIDR(`${addr}/${prefix}`);
}
