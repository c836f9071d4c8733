/**
 * Host endpoints (interface-named ones), as Calico applies them:
 *
 *   filter-input   failsafe inbound ports accept ; iifname vmap { "eth0": jump from-hep-eth0 }   ingress tiers
 *   filter-output  failsafe outbound ports accept ; oifname vmap { "eth0": jump to-hep-eth0 }   egress tiers
 *   filter-forward iifname vmap { … from-hep-fw-eth0 } ; oifname vmap { … to-hep-fw-eth0 }     forward tiers
 *
 * Failsafe ports (Calico's failsafeInboundHostPorts / failsafeOutboundHostPorts, defaulting to
 * ssh, DHCP, DNS, BGP, etcd, Typha, the API server) are accepted before any host endpoint policy, so
 * a wrong policy cannot cut a node off its control plane. Forwarded traffic is policed only by
 * applyOnForward tiers; an endpoint without them lets it through. An interface that
 * FelixConfiguration interfaceExclude names (default `kube-ipvs0`, kube-proxy's dummy device) is
 * not one Felix resolves host endpoints on, as in Calico: an endpoint on it gets no rules. Not done yet: `*` (all
 * interfaces) and endpoints found by expected IPs, untracked (doNotTrack) and preDNAT tiers.
 */
import type { DesiredState } from './desired-state.js';
import { nftQuote, shortHash } from './names.js';
import { endpointChainLines, type MarkBits } from './nft-tier-walk.js';

export interface HostEndpointRuleset {
  input: string[];
  output: string[];
  forward: string[];
  chains: Array<[string, string[]]>;
}

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

function token(ifname: string): string {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(ifname) ? ifname : shortHash(ifname);
}

/** Both directions match the destination port: the host's inbound, the remote's outbound. */
function failsafe(ifaces: string[], list: FailsafePort[], dir: 'iifname' | 'oifname'): string[] {
  const set = `{ ${ifaces.map(nftQuote).join(', ')} }`;
  const addr = dir === 'iifname' ? 'saddr' : 'daddr';
  const lines: string[] = [];
  const plain = list.filter((p) => p.net === undefined).map((p) => `${p.protocol} . ${p.port}`);
  if (plain.length > 0) lines.push(`${dir} ${set} meta l4proto . th dport { ${plain.join(', ')} } accept`);
  for (const p of list) {
    if (p.net === undefined) continue;
    const kw = p.net.includes(':') ? 'ip6' : 'ip';
    lines.push(`${dir} ${set} ${kw} ${addr} ${p.net} meta l4proto ${p.protocol} th dport ${p.port} accept`);
  }
  return lines;
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

export function hostEndpointRuleset(
  state: DesiredState,
  marks: MarkBits,
  failsafes: { inbound: FailsafePort[]; outbound: FailsafePort[] } = { inbound: DEFAULT_FAILSAFE_INBOUND, outbound: DEFAULT_FAILSAFE_OUTBOUND },
  excluded: (ifname: string) => boolean = () => false,
): HostEndpointRuleset {
  const heps = [...state.hostEndpoints.values()]
    .filter((h): h is typeof h & { name: string } => typeof h.name === 'string' && h.name !== '' && h.name !== '*' && !excluded(h.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const result: HostEndpointRuleset = { input: [], output: [], forward: [], chains: [] };
  if (heps.length === 0) return result;
  const names = [...new Set(heps.map((h) => h.name))];
  result.input.push(...failsafe(names, failsafes.inbound, 'iifname'));
  result.output.push(...failsafe(names, failsafes.outbound, 'oifname'));
  const vm = (kw: string, prefix: string): string => `${kw} vmap { ${names.map((n) => `${nftQuote(n)} : jump ${prefix}${token(n)}`).join(', ')} }`;
  result.input.push(vm('iifname', 'from-hep-'));
  result.output.push(vm('oifname', 'to-hep-'));
  result.forward.push(vm('iifname', 'from-hep-fw-'), vm('oifname', 'to-hep-fw-'));
  const seen = new Set<string>();
  for (const h of heps) {
    if (seen.has(h.name)) continue;
    seen.add(h.name);
    const t = token(h.name);
    result.chains.push([`from-hep-${t}`, endpointChainLines(state, h, 'in', marks)]);
    result.chains.push([`to-hep-${t}`, endpointChainLines(state, h, 'out', marks)]);
    const fw = { tiers: h.forwardTiers, profileIds: [] };
    result.chains.push([`from-hep-fw-${t}`, endpointChainLines(state, fw, 'in', marks, 'return')]);
    result.chains.push([`to-hep-fw-${t}`, endpointChainLines(state, fw, 'out', marks, 'return')]);
  }
  return result;
}
