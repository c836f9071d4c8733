/**
 * Host endpoints, as Calico's endpoint manager and rule renderer apply them, in our one table.
 *
 * ## Which endpoint polices which interface (Calico's resolveHostEndpoints)
 *
 * Every host interface (not a workload's, not excluded by interfaceExclude) gets at most one
 * host endpoint: among those naming it (`interfaceName`) and those without a name whose
 * `expectedIPs` include one of its addresses, the one whose id sorts first. A named endpoint is
 * programmed whether or not its interface exists yet (nft matches names, so policy is in place
 * the moment it appears); an expectedIPs one only once the interface carries the address. The
 * endpoint with `interfaceName: "*"` (the first by id, if several) is the default for every other
 * host interface: its chains are where the dispatch falls through to. It never polices a
 * workload interface (Calico's iptables dispatch does fall through to it for workload
 * interfaces in the forward and mangle hooks; we keep workload traffic out of host policy).
 * Untracked policy does not apply to it, as in Calico (its doNotTrack tiers are ignored).
 *
 * ## Where each kind of policy runs (Calico's raw / mangle / filter tables as priorities)
 *
 *   raw-prerouting   prerouting, priority raw (-300)     clear marks; [with doNotTrack policy:
 *                      workloads return ; jump untracked-from-dispatch ; ACCEPT ? accept]
 *   raw-output       output, priority raw               clear marks; [jump untracked-to-dispatch ;
 *                      ACCEPT ? accept]
 *   mangle-prerouting prerouting, priority mangle (-150, before DNAT at -100)
 *                      established,related accept ; ACCEPT (raw allowed it) ? accept ;
 *                      jump prednat-from-dispatch ; ACCEPT ? accept
 *   filter-input     … workloads … ; ACCEPT (raw or mangle allowed it) ? accept ;
 *                      clear marks ; jump from-hep-dispatch ; ACCEPT ? accept
 *   filter-output    ACCEPT ? accept ; to a workload: return (the host may reach its pods) ;
 *                      DNAT'd ? accept ; clear marks ; jump to-hep-dispatch ; ACCEPT ? accept
 *   mangle-postrouting postrouting, priority mangle    established,related accept ;
 *                      ACCEPT ? accept ; not from this host ? accept ; to a workload: return ;
 *                      DNAT'd ? clear marks, jump to-hep-dispatch ; ACCEPT ? accept
 *   filter-forward   clear PASS ; ACCEPT clear ? jump from-hep-fw-dispatch ;
 *                      … workloads … ; jump to-hep-fw-dispatch
 *
 * Each dispatch chain is `<if>name vmap { "eth0" : goto <chain>-eth0, … }`, then (with a `*`
 * endpoint) workload interfaces return and everything else goes to the `*` endpoint's chain.
 *
 *   untracked-{from,to}-hep-<if>  failsafe-{in,out}-raw ; doNotTrack tiers (Allow = notrack + ACCEPT)
 *   prednat-from-hep-<if>         failsafe-in ; preDNAT tiers (ingress only)
 *   from-hep-<if> / to-hep-<if>   failsafe-in / failsafe-out ; tiers ; profiles ; drop
 *   {from,to}-hep-fw-<if>         applyOnForward tiers ; none: allowed
 *
 * So a packet allowed by doNotTrack policy skips preDNAT and normal policy (and conntrack: its
 * replies must be allowed by policy too, they match no connection); one allowed by preDNAT
 * policy skips normal and applyOnForward ingress policy; a packet neither decides goes on to the
 * next kind (their tiers end in Pass). Denied is dropped at once.
 *
 * Failsafe ports (Calico's failsafeInboundHostPorts / failsafeOutboundHostPorts, defaulting to
 * ssh, DHCP, DNS, BGP, etcd, Typha, the API server) open every host endpoint chain but the
 * forward ones, so no policy of any kind can cut a node off its control plane. The raw copies
 * also accept the replies (source port) of the other direction's failsafe connections, since
 * untracked policy sees them before conntrack could.
 *
 * Egress policy for the host's own traffic that was DNAT'd (to a service, by kube-proxy's or
 * anyone's nat output chain) runs in postrouting, as Calico's does (its filter OUTPUT skips
 * `ctstate DNAT`, its mangle POSTROUTING polices only that): every output-hook chain sees the
 * interface of the route chosen before DNAT (the kernel re-routes the packet after nat output,
 * but the hook's output device stays), so `oifname` there names the wrong host endpoint;
 * postrouting sees the interface it really leaves by. "From this host" is `fib saddr type
 * local` (before SNAT, which runs later at srcnat): forwarded traffic that was DNAT'd (a node
 * port to a remote backend, a pod to a service) gets no normal host policy, as in Calico, whose
 * forward chain marks it accepted for its mangle POSTROUTING to skip.
 */
import { isIP } from 'node:net';
import type { HostEndpoint } from '../proto/messages.js';
import type { DesiredState } from './desired-state.js';
import { nftQuote, shortHash } from './names.js';
import { endpointChainLines, type EndpointChainKind, type MarkBits } from './nft-tier-walk.js';

/** A failsafe port; `net` limits it to that remote network (source inbound, destination outbound). */
export interface FailsafePort {
  protocol: 'tcp' | 'udp' | 'sctp';
  port: number;
  net?: string;
}

const ports = (spec: Array<[FailsafePort['protocol'], number]>): FailsafePort[] => spec.map(([protocol, port]) => ({ protocol, port }));

/** Calico's defaults: ssh, DHCP, DNS, BGP, etcd, Typha, the API server. */
export const DEFAULT_FAILSAFE_INBOUND: FailsafePort[] = ports([
  ['tcp', 22],
  ['udp', 68],
  ['tcp', 179],
  ['tcp', 2379],
  ['tcp', 2380],
  ['tcp', 5473],
  ['tcp', 6443],
  ['tcp', 6666],
  ['tcp', 6667],
]);
export const DEFAULT_FAILSAFE_OUTBOUND: FailsafePort[] = ports([
  ['udp', 53],
  ['udp', 67],
  ['tcp', 179],
  ['tcp', 2379],
  ['tcp', 2380],
  ['tcp', 5473],
  ['tcp', 6443],
  ['tcp', 6666],
  ['tcp', 6667],
]);

export interface HostEndpointOptions extends MarkBits {
  failsafeInbound: FailsafePort[];
  failsafeOutbound: FailsafePort[];
  /** Interfaces host endpoints are not resolved on (Calico's interfaceExclude). */
  interfaceExcluded: (ifname: string) => boolean;
  /** Workload interface name prefixes (`cali`): never a host interface. */
  interfacePrefixes: string[];
}

/** The host's interfaces and their addresses (no prefix length), for expectedIPs. */
export type HostInterfaces = ReadonlyMap<string, readonly string[]>;

/** Which host endpoint (by id) polices which interface, and the `*` one. */
export interface ResolvedHostEndpoints {
  byInterface: Map<string, string>;
  allInterfaces?: string;
}

export interface HostEndpointRuleset {
  /** Lines for filter-input after the workload rules (empty: no host endpoints). */
  input: string[];
  /** Lines for filter-output after conntrack. */
  output: string[];
  /** Lines for filter-forward before the workload dispatch, and after it. */
  forwardFirst: string[];
  forwardLast: string[];
  /** Whole base chains, each absent when nothing needs it: [name, lines]. */
  baseChains: Array<[string, string[]]>;
  chains: Array<[string, string[]]>;
}

function token(ifname: string): string {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(ifname) ? ifname : shortHash(ifname);
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function isWorkload(ifname: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => p !== '' && ifname.startsWith(p));
}

/**
 * Calico's resolution: per host interface the endpoint that names it or expects one of its
 * addresses, the first by id winning; and the first `*` endpoint. `interfaces` (from the kernel)
 * is needed only for expectedIPs; named endpoints resolve without it.
 */
export function resolveHostEndpoints(
  endpoints: ReadonlyMap<string, HostEndpoint>,
  opts: Pick<HostEndpointOptions, 'interfaceExcluded' | 'interfacePrefixes'>,
  interfaces: HostInterfaces = new Map(),
): ResolvedHostEndpoints {
  const result: ResolvedHostEndpoints = { byInterface: new Map() };
  const usable = (ifname: string): boolean => ifname !== '' && !opts.interfaceExcluded(ifname) && !isWorkload(ifname, opts.interfacePrefixes);
  const claim = (ifname: string, id: string): void => {
    const held = result.byInterface.get(ifname);
    if (held === undefined || compare(id, held) < 0) result.byInterface.set(ifname, id);
  };
  for (const [id, ep] of endpoints) {
    if (ep.name === '*') {
      if (result.allInterfaces === undefined || compare(id, result.allInterfaces) < 0) result.allInterfaces = id;
    } else if (ep.name !== undefined && ep.name !== '') {
      if (usable(ep.name)) claim(ep.name, id);
    } else {
      const wanted = new Set([...ep.expectedIpv4Addrs, ...ep.expectedIpv6Addrs]);
      for (const [ifname, addrs] of interfaces) {
        if (usable(ifname) && addrs.some((a) => wanted.has(a))) claim(ifname, id);
      }
    }
  }
  return result;
}

/** Both directions match the destination port: the host's inbound, the remote's outbound. */
function failsafeLines(list: FailsafePort[], addr: 'saddr' | 'daddr', port: 'dport' | 'sport'): string[] {
  const lines: string[] = [];
  const plain = list.filter((p) => p.net === undefined).map((p) => `${p.protocol} . ${p.port}`);
  if (plain.length > 0) lines.push(`meta l4proto . th ${port} { ${plain.join(', ')} } accept`);
  for (const p of list) {
    if (p.net === undefined) continue;
    const kw = isIP(p.net.split('/')[0] ?? '') === 6 ? 'ip6' : 'ip';
    lines.push(`${kw} ${addr} ${p.net} meta l4proto ${p.protocol} th ${port} ${p.port} accept`);
  }
  return lines;
}

/**
 * The four failsafe chains. In raw, before conntrack, each also accepts the replies of the
 * other direction's failsafe connections (source port), so untracked policy cannot untrack or
 * drop half of them; they are then accepted in filter as established.
 */
function failsafeChains(opts: HostEndpointOptions): Record<'in' | 'out' | 'in-raw' | 'out-raw', string[]> {
  const inbound = failsafeLines(opts.failsafeInbound, 'saddr', 'dport');
  const outbound = failsafeLines(opts.failsafeOutbound, 'daddr', 'dport');
  return {
    in: inbound,
    out: outbound,
    'in-raw': [...inbound, ...failsafeLines(opts.failsafeOutbound, 'saddr', 'sport')],
    'out-raw': [...outbound, ...failsafeLines(opts.failsafeInbound, 'daddr', 'sport')],
  };
}

interface Dispatch {
  name: string;
  keyword: 'iifname' | 'oifname';
  /** The chain prefix, `<prefix><token>` per endpoint chain. */
  prefix: string;
  entries: string[];
  fallback: boolean;
}

function dispatchLines(d: Dispatch, allToken: string, workloadPrefixes: string[]): string[] {
  const lines: string[] = [];
  if (d.entries.length > 0) {
    lines.push(`${d.keyword} vmap { ${d.entries.map((n) => `${nftQuote(n)} : goto ${d.prefix}${token(n)}`).join(', ')} }`);
  }
  if (d.fallback) {
    for (const p of workloadPrefixes) lines.push(`${d.keyword} ${nftQuote(`${p}*`)} return`);
    lines.push(`goto ${d.prefix}${allToken}`);
  }
  return lines;
}

export function hostEndpointRuleset(state: DesiredState, opts: HostEndpointOptions, interfaces?: HostInterfaces): HostEndpointRuleset {
  const result: HostEndpointRuleset = { input: [], output: [], forwardFirst: [], forwardLast: [], baseChains: [], chains: [] };
  const resolved = resolveHostEndpoints(state.hostEndpoints, opts, interfaces);
  const named = [...resolved.byInterface.entries()].sort(([a], [b]) => compare(a, b));
  const all = resolved.allInterfaces === undefined ? undefined : state.hostEndpoints.get(resolved.allInterfaces);
  if (named.length === 0 && all === undefined) return result;

  const hex = (n: number): string => `0x${n.toString(16)}`;
  const acc = hex(opts.markAccept);
  const clearAll = `meta mark set meta mark & ${hex(~(opts.markAccept | opts.markPass) >>> 0)}`;
  const accepted = `meta mark & ${acc} == ${acc} accept`;
  const allToken = token('*');
  const failsafe = failsafeChains(opts);
  const usedFailsafe = new Set<keyof typeof failsafe>();
  const endpointChain = (name: string, failsafeChain: keyof typeof failsafe | undefined, body: string[]): void => {
    if (failsafeChain !== undefined && failsafe[failsafeChain].length > 0) {
      usedFailsafe.add(failsafeChain);
      body.splice(1, 0, `jump failsafe-${failsafeChain}`); // right after the marks are cleared
    }
    result.chains.push([name, body]);
  };
  const walk = (ep: HostEndpoint, tiers: HostEndpoint['tiers'], dir: 'in' | 'out', kind: EndpointChainKind): string[] =>
    endpointChainLines(state, { tiers, profileIds: kind === 'normal' ? ep.profileIds : [] }, dir, opts, kind);

  // Every endpoint in use, under its interface token ('*' for the default).
  const inUse: Array<[string, HostEndpoint, boolean]> = named.map(([ifname, id]) => [ifname, state.hostEndpoints.get(id) as HostEndpoint, false]);
  if (all !== undefined) inUse.push(['*', all, true]);
  const untracked: string[] = [];
  const preDnat: string[] = [];
  let preDnatAll = false;
  for (const [ifname, ep, isAll] of inUse) {
    const t = token(ifname);
    endpointChain(`from-hep-${t}`, 'in', walk(ep, ep.tiers, 'in', 'normal'));
    endpointChain(`to-hep-${t}`, 'out', walk(ep, ep.tiers, 'out', 'normal'));
    endpointChain(`from-hep-fw-${t}`, undefined, walk(ep, ep.forwardTiers, 'in', 'forward'));
    endpointChain(`to-hep-fw-${t}`, undefined, walk(ep, ep.forwardTiers, 'out', 'forward'));
    if (ep.preDnatTiers.length > 0) {
      endpointChain(`prednat-from-hep-${t}`, 'in', walk(ep, ep.preDnatTiers, 'in', 'prednat'));
      if (isAll) preDnatAll = true;
      else preDnat.push(ifname);
    }
    if (ep.untrackedTiers.length > 0 && !isAll) {
      endpointChain(`untracked-from-hep-${t}`, 'in-raw', walk(ep, ep.untrackedTiers, 'in', 'untracked'));
      endpointChain(`untracked-to-hep-${t}`, 'out-raw', walk(ep, ep.untrackedTiers, 'out', 'untracked'));
      untracked.push(ifname);
    }
  }
  for (const which of ['in', 'out', 'in-raw', 'out-raw'] as const) {
    if (usedFailsafe.has(which)) result.chains.push([`failsafe-${which}`, failsafe[which]]);
  }

  const names = named.map(([ifname]) => ifname);
  const dispatch = (d: Dispatch): string => {
    result.chains.push([d.name, dispatchLines(d, allToken, opts.interfacePrefixes)]);
    return `jump ${d.name}`;
  };
  const fallback = all !== undefined;
  const fromHep = dispatch({ name: 'from-hep-dispatch', keyword: 'iifname', prefix: 'from-hep-', entries: names, fallback });
  const toHep = dispatch({ name: 'to-hep-dispatch', keyword: 'oifname', prefix: 'to-hep-', entries: names, fallback });
  const fromFw = dispatch({ name: 'from-hep-fw-dispatch', keyword: 'iifname', prefix: 'from-hep-fw-', entries: names, fallback });
  const toFw = dispatch({ name: 'to-hep-fw-dispatch', keyword: 'oifname', prefix: 'to-hep-fw-', entries: names, fallback });

  result.input.push(accepted, clearAll, fromHep, accepted);
  const toWorkloads = opts.interfacePrefixes.map((p) => `oifname ${nftQuote(`${p}*`)} return`);
  // DNAT'd: policed in mangle-postrouting instead. Positive `ct status` matches only: an
  // untracked packet (no conntrack entry) matches neither `dnat` nor its negation.
  result.output.push(accepted, ...toWorkloads, 'ct status dnat accept', clearAll, toHep, accepted);
  result.baseChains.push([
    'mangle-postrouting',
    [
      'type filter hook postrouting priority mangle; policy accept;',
      'ct state established,related accept',
      accepted,
      'fib saddr type != local accept',
      ...toWorkloads,
      `ct status dnat ${clearAll}`,
      `ct status dnat ${toHep}`,
      accepted,
    ],
  ]);
  result.forwardFirst.push(`meta mark set meta mark & ${hex(~opts.markPass >>> 0)}`, `meta mark & ${acc} == 0 ${fromFw}`);
  result.forwardLast.push(toFw);

  // The raw chains always clear our mark bits first, as Calico's do: a mark left on a packet
  // (one our forward chain accepted, then encapsulated and sent again) must not pass for a raw
  // or mangle allow further on.
  const rawPre = ['type filter hook prerouting priority raw; policy accept;', clearAll];
  const rawOut = ['type filter hook output priority raw; policy accept;', clearAll];
  if (untracked.length > 0) {
    const from = dispatch({ name: 'untracked-from-hep-dispatch', keyword: 'iifname', prefix: 'untracked-from-hep-', entries: untracked, fallback: false });
    const to = dispatch({ name: 'untracked-to-hep-dispatch', keyword: 'oifname', prefix: 'untracked-to-hep-', entries: untracked, fallback: false });
    rawPre.push(...opts.interfacePrefixes.map((p) => `iifname ${nftQuote(`${p}*`)} return`), from, accepted);
    rawOut.push(to, accepted);
  }
  result.baseChains.push(['raw-prerouting', rawPre], ['raw-output', rawOut]);
  if (preDnat.length > 0 || preDnatAll) {
    const from = dispatch({ name: 'prednat-from-hep-dispatch', keyword: 'iifname', prefix: 'prednat-from-hep-', entries: preDnat, fallback: preDnatAll });
    result.baseChains.push([
      'mangle-prerouting',
      ['type filter hook prerouting priority mangle; policy accept;', 'ct state established,related accept', accepted, from, accepted],
    ]);
  }
  return result;
}

/**
 * Calico's interfaceExclude: comma-separated names, or `/regex/` entries; whether `ifname` is
 * excluded.
 */
export function interfaceExcluder(list: string): (ifname: string) => boolean {
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  for (const entry of list.split(',').map((e) => e.trim())) {
    if (entry.length > 2 && entry.startsWith('/') && entry.endsWith('/')) {
      try {
        patterns.push(new RegExp(entry.slice(1, -1)));
      } catch {
        // An invalid pattern (the API rejects one on write) excludes nothing.
      }
    } else if (entry !== '') exact.add(entry);
  }
  return (ifname) => exact.has(ifname) || patterns.some((re) => re.test(ifname));
}
