/**
 * Names of our nftables objects. Kernel names must be short, stable across restarts and valid
 * nft identifiers, while our ids (policy `tier/namespace/name`, IP set `s:<hash>`) are long and
 * contain `:` and `/`; so ids are hashed (SHA-256, first 16 hex digits: a collision needs ~2^32
 * objects on one node). Interface names are kept readable when they are plain identifiers.
 *
 *   s4-<h> / s6-<h>    IP set id, IPv4 / IPv6 members
 *   pi-<h> / po-<h>    policy, inbound (to the endpoint) / outbound (from it)
 *   pri-<h> / pro-<h>  profile, inbound / outbound
 *   from-wl-<if>       everything a workload sends   (egress policy)
 *   to-wl-<if>         everything sent to a workload (ingress policy)
 *   all-ipam-pools-v4 / masq-ipam-pools-v4 (and -v6)   pool CIDRs for NAT outgoing (Calico's names)
 */
import { createHash } from 'node:crypto';

export const TABLE_NAME = 'cattail';

const hashes = new Map<string, string>();

/** Memoised: every render names every policy chain, and SHA-256 was a tenth of a cached render. */
export function shortHash(text: string): string {
  let h = hashes.get(text);
  if (h === undefined) {
    if (hashes.size >= 100_000) hashes.clear();
    h = createHash('sha256').update(text).digest('hex').slice(0, 16);
    hashes.set(text, h);
  }
  return h;
}

export function ipSetName(id: string, family: 4 | 6): string {
  return `s${family}-${shortHash(id)}`;
}

export function poolSetName(which: 'all' | 'masq', family: 4 | 6): string {
  return `${which}-ipam-pools-v${family}`;
}

export function policyChainName(key: string, direction: 'in' | 'out'): string {
  return `${direction === 'in' ? 'pi' : 'po'}-${shortHash(key)}`;
}

export function profileChainName(name: string, direction: 'in' | 'out'): string {
  return `${direction === 'in' ? 'pri' : 'pro'}-${shortHash(name)}`;
}

function ifaceToken(ifname: string): string {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(ifname) ? ifname : shortHash(ifname);
}

export function fromWorkloadChainName(ifname: string): string {
  return `from-wl-${ifaceToken(ifname)}`;
}

export function toWorkloadChainName(ifname: string): string {
  return `to-wl-${ifaceToken(ifname)}`;
}

/** An nft double-quoted string; nft has no escape for `"`, so it is dropped. */
export function nftQuote(text: string): string {
  return `"${text.replace(/["\\\n]/g, '')}"`;
}
