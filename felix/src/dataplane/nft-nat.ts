/**
 * NAT outgoing (Calico's masqManager and NATOutgoingChain), rendered into our table: traffic from
 * a pool with `natOutgoing: true` to a destination outside every pool leaves with the node's
 * address as its source.
 *
 *   set all-ipam-pools-v4 / -v6    every pool's CIDR (disabled pools too, as Calico)
 *   set masq-ipam-pools-v4 / -v6   the CIDRs of pools with natOutgoing
 *   chain nat-postrouting  (type nat hook postrouting priority srcnat)
 *     [natPortRange]  ip saddr @masq… ip daddr != @all… meta l4proto tcp  masquerade to :<range>
 *                     … tcp return ; the same for udp
 *                     ip saddr @masq… ip daddr != @all…                   masquerade
 *     and the same with ip6 for IPv6 pools
 *
 * FelixConfiguration `natOutgoingExclusions: IPPoolsAndHostIPs` adds a set of every node's
 * addresses (the Node resources', as Calico's all-hosts set) per family, `all-hosts-v4|v6`, and
 * destinations in it keep the pod's address too (`ip daddr != @all-hosts-v4`).
 * `iptablesNATOutgoingInterfaceFilter` (an interface name, `+` as iptables' wildcard) limits the
 * masquerade to traffic leaving through matching interfaces (`oifname "eth*"`).
 *
 * With `natOutgoingAddress` (an IPv4 address, as in Calico) IPv4 rules `snat ip to <address>`
 * instead of masquerading; IPv6 keeps masquerade. Only the first packet of a connection reaches
 * a nat chain, so a pool's flag changes new connections, not established ones (Calico: the same).
 * Sets exist per family when a pool of that family does, the chain when some pool masquerades:
 * a cluster without natOutgoing renders the table exactly as before.
 *
 * The rejected alternative, one rule per pool CIDR: Calico uses sets so a pool change touches
 * set members, not rules, and a destination check against many pools stays one lookup.
 */
import type { PortRange } from '../proto/messages.js';
import type { DesiredState } from './desired-state.js';
import { nftQuote, poolSetName } from './names.js';
import { normaliseCidrs, type NftSet } from './nft-model.js';
import { cidrFamily } from './nft-rule.js';

export interface NatOutgoingOptions {
  /** FelixConfiguration natPortRange: source ports for masqueraded TCP and UDP. */
  portRange?: PortRange;
  /** FelixConfiguration natOutgoingAddress: SNAT IPv4 to this address instead of masquerading. */
  address?: string;
  /** natOutgoingExclusions IPPoolsAndHostIPs: destinations that are nodes' addresses are not masqueraded. */
  excludeHostIPs?: boolean;
  /** iptablesNATOutgoingInterfaceFilter, as an nft interface name (`*` wildcard). */
  interfaceFilter?: string;
}

/** iptables interface syntax (`eth+`) as nft's (`eth*`); undefined for an empty or bad value. */
export function natInterfaceFilter(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.trim();
  if (!/^[A-Za-z0-9_.:-]{1,15}\+?$/.test(v)) return undefined;
  return v.endsWith('+') ? `${v.slice(0, -1)}*` : v;
}

export interface NatOutgoingRuleset {
  /** The sets, by name, in render order. */
  sets: Array<[string, NftSet]>;
  /** The base chain's lines, or none when no pool masquerades. */
  chain: string[];
}

export const NAT_CHAIN = 'nat-postrouting';

/** natPortRange as the spec holds it (`32768:65535`, or one port as a number or string). */
export function parseNatPortRange(value: unknown): PortRange | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= 65535) return { first: value, last: value };
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+)(?:\s*[:-]\s*(\d+))?\s*$/.exec(value);
  if (!m) return undefined;
  const first = Number(m[1]);
  const last = Number(m[2] ?? m[1]);
  if (first < 1 || last > 65535 || first > last) return undefined;
  return { first, last };
}

function action(family: 4 | 6, opts: NatOutgoingOptions, ports: string): string {
  if (family === 4 && opts.address !== undefined) return `snat ip to ${opts.address}${ports ? `:${ports}` : ''}`;
  return ports ? `masquerade to :${ports}` : 'masquerade';
}

export function natOutgoingRuleset(state: DesiredState, opts: NatOutgoingOptions = {}): NatOutgoingRuleset {
  const all = { 4: new Set<string>(), 6: new Set<string>() };
  const masq = { 4: new Set<string>(), 6: new Set<string>() };
  for (const pool of state.pools.values()) {
    const family = cidrFamily(pool.cidr);
    all[family].add(pool.cidr);
    if (pool.masquerade) masq[family].add(pool.cidr);
  }
  const hosts = { 4: new Set<string>(), 6: new Set<string>() };
  for (const h of state.hosts.values()) {
    if (h.ipv4Addr !== undefined) hosts[4].add(h.ipv4Addr);
    if (h.ipv6Addr !== undefined) hosts[6].add(h.ipv6Addr);
  }
  const result: NatOutgoingRuleset = { sets: [], chain: [] };
  const rules: string[] = [];
  const oif = opts.interfaceFilter !== undefined ? ` oifname ${nftQuote(opts.interfaceFilter)}` : '';
  const ports = opts.portRange ? `${opts.portRange.first}-${opts.portRange.last}` : '';
  for (const family of [4, 6] as const) {
    if (all[family].size === 0) continue;
    for (const [which, members] of [
      ['all', all[family]],
      ['masq', masq[family]],
    ] as const) {
      result.sets.push([
        poolSetName(which, family),
        { decl: `type ${family === 4 ? 'ipv4_addr' : 'ipv6_addr'}; flags interval;`, elements: normaliseCidrs(members, family) },
      ]);
    }
    if (masq[family].size === 0) continue;
    const kw = family === 4 ? 'ip' : 'ip6';
    let match = `${kw} saddr @${poolSetName('masq', family)} ${kw} daddr != @${poolSetName('all', family)}`;
    if (opts.excludeHostIPs === true) {
      const name = `all-hosts-v${family}`;
      result.sets.push([name, { decl: `type ${family === 4 ? 'ipv4_addr' : 'ipv6_addr'};`, elements: [...hosts[family]].sort() }]);
      match += ` ${kw} daddr != @${name}`;
    }
    match += oif;
    if (ports) {
      for (const proto of ['tcp', 'udp']) {
        rules.push(`${match} meta l4proto ${proto} ${action(family, opts, ports)}`, `${match} meta l4proto ${proto} return`);
      }
    }
    rules.push(`${match} ${action(family, opts, '')}`);
  }
  if (rules.length > 0) result.chain = ['type nat hook postrouting priority srcnat; policy accept;', ...rules];
  return result;
}
