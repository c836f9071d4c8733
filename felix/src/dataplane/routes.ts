/**
 * Routes we own, desired versus actual. Every route we program carries `proto 80` (Calico's
 * own number), so `ip route show proto 80` lists exactly ours and we never touch another's:
 *
 *   local workload    10.65.0.5/32 dev cali1234 scope link [src <deviceRouteSourceAddress>] proto 80   (and /128, src …IPv6)
 *   remote, VXLAN     10.65.1.0/26 via <remote VTEP ip> dev vxlan.calico onlink proto 80   (IPv6: dev vxlan-v6.calico)
 *   remote, direct    10.65.2.0/26 via <remote node ip> proto 80           (CrossSubnet)
 *
 * `routeBatch` is pure: it turns the two lists into `ip -batch` lines (replace what is missing
 * or different, delete what is ours but no longer wanted). `externalRoutes` serves Calico's
 * removeExternalRoutes (true by default): a route someone else put on a workload interface (say
 * a stale static route to a recycled cali device) would steer pod traffic past us, so the driver
 * deletes it, once the interface has existed for a grace period (the CNI plugin's own route to a
 * new pod must survive until the pod's endpoint reaches Felix; Calico waits 10 s).
 */
import { vxlanEnabled, vxlanEnabledV6, type DesiredState } from './desired-state.js';
import { cidrFamily } from './nft-rule.js';

export const ROUTE_PROTO = 80;
export const VXLAN_DEVICE = 'vxlan.calico';
export const VXLAN_DEVICE_V6 = 'vxlan-v6.calico';

export interface KernelRoute {
  /** Normalised CIDR (`10.65.0.5/32`). */
  dst: string;
  dev?: string;
  via?: string;
  onlink?: boolean;
  /** The source hint (`src`, the kernel's prefsrc). */
  src?: string;
}

export interface DesiredRoute extends KernelRoute {
  /** The workload endpoint (`namespace/name`) this route serves, for per-endpoint status. */
  endpoint?: string;
}

function normaliseCidr(dst: string): string {
  if (dst === 'default') return '0.0.0.0/0';
  if (dst.includes('/')) return dst;
  return `${dst}/${cidrFamily(dst) === 4 ? 32 : 128}`;
}

/**
 * Our routes in the desired state. `readyInterfaces` limits local routes to interfaces that
 * exist (a missing one is an endpoint error, not a failed batch).
 */
export function desiredRoutes(state: DesiredState, readyInterfaces: ReadonlySet<string>): DesiredRoute[] {
  const out = new Map<string, DesiredRoute>();
  // FelixConfiguration deviceRouteSourceAddress(IPv6): the host's source address toward its pods.
  const srcFor = (family: 4 | 6): string | undefined => {
    const v = state.config[family === 4 ? 'deviceRouteSourceAddress' : 'deviceRouteSourceAddressIPv6'];
    return typeof v === 'string' && v !== '' && cidrFamily(v) === family ? v : undefined;
  };
  // FelixConfiguration ipv6Support false: no IPv6 route at all (the ones we had are deleted).
  const ipv6 = state.config.ipv6Support !== false;
  for (const [key, { endpoint }] of state.workloads) {
    if (!readyInterfaces.has(endpoint.name)) continue;
    for (const net of [...endpoint.ipv4Nets, ...(ipv6 ? endpoint.ipv6Nets : [])]) {
      const dst = normaliseCidr(net);
      const src = srcFor(cidrFamily(dst));
      out.set(dst, { dst, dev: endpoint.name, endpoint: key, ...(src ? { src } : {}) });
    }
  }
  for (const r of state.routes.values()) {
    const dst = normaliseCidr(r.dst);
    if (out.has(dst)) continue;
    const family = cidrFamily(dst);
    if (family === 6 && !ipv6) continue;
    if (r.type === 'remote-workload-vxlan') {
      const vtep = state.vteps.get(r.dstNodeName);
      const via = family === 4 ? vtep?.ipv4Addr : vtep?.ipv6Addr;
      const dev = family === 4 ? VXLAN_DEVICE : VXLAN_DEVICE_V6;
      const enabled = family === 4 ? vxlanEnabled(state) : vxlanEnabledV6(state);
      if (via && enabled && readyInterfaces.has(dev)) out.set(dst, { dst, via, dev, onlink: true });
    } else if (r.type === 'remote-workload-direct' && r.dstNodeIp) {
      out.set(dst, { dst, via: r.dstNodeIp });
    }
  }
  return [...out.values()].sort((a, b) => (a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : 0));
}

/** Parses `ip -json route show proto 80` output (either family). */
export function parseKernelRoutes(json: string): KernelRoute[] {
  const trimmed = json.trim();
  if (trimmed === '') return [];
  const items = JSON.parse(trimmed) as Array<Record<string, unknown>>;
  return items
    .filter((r) => r.type === undefined || r.type === 'unicast')
    .map((r) => {
      const route: KernelRoute = { dst: normaliseCidr(String(r.dst)) };
      if (typeof r.dev === 'string') route.dev = r.dev;
      if (typeof r.gateway === 'string') route.via = r.gateway;
      if (Array.isArray(r.flags) && r.flags.includes('onlink')) route.onlink = true;
      if (typeof r.prefsrc === 'string') route.src = r.prefsrc;
      return route;
    });
}

function sameRoute(a: KernelRoute, b: KernelRoute): boolean {
  if (a.via !== b.via) return false;
  if (a.dev !== undefined && b.dev !== undefined && a.dev !== b.dev) return false;
  return (a.onlink ?? false) === (b.onlink ?? false) && a.src === b.src;
}

export function routeSpec(r: KernelRoute): string {
  const parts = [r.dst];
  if (r.via) parts.push('via', r.via);
  if (r.dev) parts.push('dev', r.dev);
  if (!r.via) parts.push('scope', 'link');
  if (r.onlink) parts.push('onlink');
  if (r.src) parts.push('src', r.src);
  parts.push('proto', String(ROUTE_PROTO));
  return parts.join(' ');
}

/** `ip -batch` lines that turn `actual` (our routes in the kernel) into `desired`. */
export function routeBatch(desired: readonly KernelRoute[], actual: readonly KernelRoute[]): string[] {
  const have = new Map(actual.map((r) => [r.dst, r]));
  const want = new Set(desired.map((r) => r.dst));
  const lines: string[] = [];
  for (const r of actual) {
    if (!want.has(r.dst)) lines.push(`route del ${r.dst} proto ${ROUTE_PROTO}${r.dev ? ` dev ${r.dev}` : ''}`);
  }
  for (const r of desired) {
    const cur = have.get(r.dst);
    if (!cur || !sameRoute(r, cur)) lines.push(`route replace ${routeSpec(r)}`);
  }
  return lines;
}

/**
 * The routes on workload interfaces (names starting with one of `prefixes`) that are not ours,
 * from `ip -json route show` of the main table (either family). The kernel's own routes
 * (`proto kernel`, such as IPv6 link-local) are not counted.
 */
export function externalRoutes(json: string, prefixes: readonly string[]): Array<KernelRoute & { dev: string }> {
  const trimmed = json.trim();
  if (trimmed === '' || prefixes.length === 0) return [];
  const out: Array<KernelRoute & { dev: string }> = [];
  for (const r of JSON.parse(trimmed) as Array<Record<string, unknown>>) {
    const dev = typeof r.dev === 'string' ? r.dev : undefined;
    if (!dev || !prefixes.some((p) => dev.startsWith(p))) continue;
    if (r.protocol === 'kernel' || String(r.protocol) === String(ROUTE_PROTO)) continue;
    if (r.type !== undefined && r.type !== 'unicast') continue;
    out.push({ dst: normaliseCidr(String(r.dst)), dev });
  }
  return out;
}
