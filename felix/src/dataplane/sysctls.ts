/**
 * Per-interface kernel settings for workload interfaces, as Calico's felix writes them:
 *
 *   net.ipv4.conf.<if>.proxy_arp=1        answer the pod's ARP for 169.254.1.1 with our MAC
 *   net.ipv4.conf.<if>.forwarding=1       route the pod's traffic
 *   net.ipv4.conf.<if>.route_localnet=1   allow 127/8 DNAT targets (node-local services)
 *   net.ipv4.conf.<if>.rp_filter=1        strict anti-spoofing; 0 for an endpoint with
 *                                         allowSpoofedSourcePrefixes, only when FelixConfiguration
 *                                         workloadSourceSpoofing is Any (Calico's default,
 *                                         Disabled, ignores the pods' annotation)
 *   net.ipv4.neigh.<if>.proxy_delay=0     no random delay before proxy-ARP replies
 *   net.ipv6.conf.<if>.accept_ra=0, forwarding=1, proxy_ndp=1   (endpoints with IPv6, unless
 *                                         FelixConfiguration ipv6Support is false)
 *   net.ipv4.ip_forward=1 (net.ipv6.conf.all.forwarding=1)      once any endpoint needs it,
 *                                         unless FelixConfiguration ipForwarding is Disabled
 *
 * Keys are kept in slash form (`net/ipv4/conf/vxlan.calico/…`), which `sysctl` accepts for
 * interface names with dots; `parseSysctlOutput` maps its dotted output back.
 */
import type { DesiredState } from './desired-state.js';

export function desiredSysctls(state: DesiredState, readyInterfaces: ReadonlySet<string>): Map<string, string> {
  const out = new Map<string, string>();
  const spoofingAllowed = String(state.config.workloadSourceSpoofing ?? '').toLowerCase() === 'any';
  const hostForwarding = state.config.ipForwarding !== 'Disabled';
  for (const { endpoint } of state.workloads.values()) {
    const i = endpoint.name;
    if (!readyInterfaces.has(i)) continue;
    if (hostForwarding) out.set('net/ipv4/ip_forward', '1');
    out.set(`net/ipv4/conf/${i}/forwarding`, '1');
    out.set(`net/ipv4/conf/${i}/proxy_arp`, '1');
    out.set(`net/ipv4/conf/${i}/route_localnet`, '1');
    out.set(`net/ipv4/conf/${i}/rp_filter`, spoofingAllowed && (endpoint.allowSpoofedSourcePrefixes?.length ?? 0) > 0 ? '0' : '1');
    out.set(`net/ipv4/neigh/${i}/proxy_delay`, '0');
    if (endpoint.ipv6Nets.length > 0 && state.config.ipv6Support !== false) {
      if (hostForwarding) out.set('net/ipv6/conf/all/forwarding', '1');
      out.set(`net/ipv6/conf/${i}/accept_ra`, '0');
      out.set(`net/ipv6/conf/${i}/forwarding`, '1');
      out.set(`net/ipv6/conf/${i}/proxy_ndp`, '1');
    }
  }
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The dotted name `sysctl` prints for a slash key. */
function dottedName(slashKey: string): string {
  return slashKey
    .split('/')
    .map((seg) => seg.replace(/\./g, '/'))
    .join('.');
}

/** Parses `sysctl <keys…>` output (`name = value` lines) into dotted name → value. */
export function parseSysctlOutput(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf(' = ');
    if (eq > 0) out.set(line.slice(0, eq).trim(), line.slice(eq + 3).trim());
  }
  return out;
}

/** `sysctl -w` arguments for the settings whose actual value differs. */
export function sysctlWrites(desired: ReadonlyMap<string, string>, actual: ReadonlyMap<string, string>): string[] {
  const writes: string[] = [];
  for (const [key, value] of desired) {
    if (actual.get(dottedName(key)) !== value) writes.push(`${key}=${value}`);
  }
  return writes;
}
