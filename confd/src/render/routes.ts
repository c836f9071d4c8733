/**
 * The routes side of the configuration: what this node originates and what it passes on.
 *
 * - Local blocks: one static `blackhole` route per IPAM block affine to this node (an IPAMBlock
 *   with `affinity: host:<node>`, or a confirmed, undeleted BlockAffinity for it). BIRD
 *   advertises the block; the kernel gets the blackhole, so traffic to an unused address of the
 *   block stops here instead of bouncing around the fabric. Felix's /32 routes to local pods are
 *   more specific and win.
 * - Export function (`calico_export4()` / `calico_export6()`, the end of every session's export
 *   filter, after its BGPFilters): only our static blocks and routes learned over BGP, and of
 *   those only networks inside an IP pool no longer than the pool's block size: blocks (and
 *   aggregates) travel, host routes (/32, /128, borrowed addresses) and interface subnets never
 *   do. Pools with `disableBGPExport` are refused first. Routes that pass first get the
 *   communities of the prefix advertisements that cover them (communities.ts).
 * - Service ranges (`protocol static services4/6`): BGPConfiguration `default`'s
 *   `serviceClusterIPs`, `serviceExternalIPs`, and `serviceLoadBalancerIPs` (unless
 *   `serviceLoadBalancerAggregation: Disabled`), originated by every node and exported like pool
 *   routes, as Calico's cluster-wide ECMP advertisement. They stay out of the kernel:
 *   kube-proxy catches service traffic before routing, and a blackhole would only turn a miss
 *   into a drop.
 * - Per-service routes (same protocol, from the bgp syncer's KubernetesService and
 *   KubernetesEndpointSlice; Kubernetes datastore only): a Service with
 *   `externalTrafficPolicy: Local` has each of its cluster, external and LoadBalancer IPs that
 *   falls in the matching advertised range advertised as a /32 (/128) by the nodes that have a
 *   ready endpoint of it, and by no other node, so external traffic lands where the Service
 *   keeps its source address. A `Cluster` Service stays covered by the range, except that with
 *   `serviceLoadBalancerAggregation: Disabled` every node advertises each LoadBalancer IP as a
 *   /32 instead of the range. The export function and kernel filter match these exact
 *   prefixes: a route reflector does not pass on other nodes' per-service routes.
 * - Kernel filter (`calico_kernel4` / `calico_kernel6`): learned BGP routes and our blackholes
 *   go to the kernel; interface routes (protocol direct, needed only to resolve next hops),
 *   service ranges and anything inside a VXLAN pool (vxlanMode Always or CrossSubnet) never do:
 *   Felix routes those through vxlan.calico (or directly, for CrossSubnet within the subnet),
 *   as in Calico, so BIRD's route over the fabric would only fight Felix's.
 */
import { cidrContains, formatCIDR, parseCIDR, parseIP, type CIDR } from '@cattail/api';
import type { BgpModel } from '../model/bgp-model.js';
import type { CommunityRule } from './communities.js';

const DEFAULT_BLOCK_SIZE = { 4: 26, 6: 122 } as const;

export interface PoolRange {
  readonly cidr: CIDR;
  /** The longest prefix advertised from this pool: its block size. */
  readonly maxPrefix: number;
  readonly exported: boolean;
  /** vxlanMode Always or CrossSubnet: Felix programs the pool's routes, BIRD keeps them out of the kernel. */
  readonly felixRouted: boolean;
  readonly name: string;
}

function byNetwork(a: CIDR, b: CIDR): number {
  for (let i = 0; i < a.addr.bytes.length; i++) {
    const d = a.addr.bytes[i] - b.addr.bytes[i];
    if (d !== 0) return d;
  }
  return a.prefix - b.prefix;
}

export function poolRanges(model: BgpModel, version: 4 | 6): PoolRange[] {
  const out: PoolRange[] = [];
  for (const [name, p] of model.pools) {
    const cidr = typeof p.cidr === 'string' ? parseCIDR(p.cidr) : undefined;
    if (cidr === undefined || cidr.version !== version) continue;
    const blockSize = typeof p.blockSize === 'number' && p.blockSize >= cidr.prefix ? p.blockSize : DEFAULT_BLOCK_SIZE[version];
    const felixRouted = p.vxlanMode === 'Always' || p.vxlanMode === 'CrossSubnet';
    out.push({ cidr, maxPrefix: Math.max(blockSize, cidr.prefix), exported: p.disableBGPExport !== true, felixRouted, name });
  }
  return out.sort((a, b) => byNetwork(a.cidr, b.cidr) || a.name.localeCompare(b.name));
}

/** The blocks affine to `node`, canonical, sorted, one per CIDR. */
export function localBlocks(model: BgpModel, node: string, version: 4 | 6): CIDR[] {
  const found = new Map<string, CIDR>();
  const take = (text: string) => {
    const c = parseCIDR(text);
    if (c && c.version === version) found.set(formatCIDR(c), c);
  };
  for (const b of model.blocks.values()) if (b.affinity === `host:${node}`) take(b.cidr);
  for (const a of model.affinities.values()) {
    if (a.node === node && !a.deleted && (a.state === undefined || a.state === 'confirmed')) take(a.cidr);
  }
  return [...found.values()].sort(byNetwork);
}

function prefixSet(ranges: readonly PoolRange[]): string {
  return `[ ${ranges.map((r) => `${formatCIDR(r.cidr)}{${r.cidr.prefix},${r.maxPrefix}}`).join(', ')} ]`;
}

type ServiceField = 'serviceClusterIPs' | 'serviceExternalIPs' | 'serviceLoadBalancerIPs';

export interface ServiceRange {
  readonly cidr: CIDR;
  /** The BGPConfiguration field it came from. */
  readonly field: ServiceField;
  /** For a per-service route: the Service (`<namespace>/<name>`) it advertises. */
  readonly service?: string;
}

/** The service ranges every node advertises (see the module comment), one per CIDR, sorted. */
export function serviceRanges(model: BgpModel, version: 4 | 6): ServiceRange[] {
  const g = model.configs.get('default') ?? {};
  const found = new Map<string, ServiceRange>();
  const fields: ServiceRange['field'][] = ['serviceClusterIPs', 'serviceExternalIPs'];
  if (g.serviceLoadBalancerAggregation !== 'Disabled') fields.push('serviceLoadBalancerIPs');
  for (const field of fields) {
    for (const entry of g[field] ?? []) {
      const cidr = typeof entry?.cidr === 'string' ? parseCIDR(entry.cidr) : undefined;
      if (cidr?.version === version && !found.has(formatCIDR(cidr))) found.set(formatCIDR(cidr), { cidr, field });
    }
  }
  return [...found.values()].sort((a, b) => byNetwork(a.cidr, b.cidr));
}

/**
 * The per-service /32 (/128) routes this node advertises (see the module comment), one per
 * address, sorted. A Service listed under several addresses gives one route per address.
 */
export function serviceRoutes(model: BgpModel, node: string, version: 4 | 6): ServiceRange[] {
  const g = model.configs.get('default') ?? {};
  const ranges = (field: ServiceField): CIDR[] =>
    (g[field] ?? []).flatMap((e) => {
      const c = typeof e?.cidr === 'string' ? parseCIDR(e.cidr) : undefined;
      return c?.version === version ? [c] : [];
    });
  const byField: Record<ServiceField, CIDR[]> = {
    serviceClusterIPs: ranges('serviceClusterIPs'),
    serviceExternalIPs: ranges('serviceExternalIPs'),
    serviceLoadBalancerIPs: ranges('serviceLoadBalancerIPs'),
  };
  const lbPerAddress = g.serviceLoadBalancerAggregation === 'Disabled';
  const withLocalEndpoint = new Set<string>();
  for (const slice of model.slices.values()) if (slice.readyNodes.includes(node)) withLocalEndpoint.add(slice.service);
  const found = new Map<string, ServiceRange>();
  for (const svc of model.services.values()) {
    const here = svc.local && withLocalEndpoint.has(svc.key);
    const take = (field: ServiceField, addresses: readonly string[], advertise: boolean) => {
      if (!advertise) return;
      for (const text of addresses) {
        const ip = parseIP(text);
        if (ip?.version !== version) continue;
        const cidr: CIDR = { version, addr: ip, prefix: version === 4 ? 32 : 128 };
        const key = formatCIDR(cidr);
        if (!found.has(key) && byField[field].some((r) => cidrContains(r, cidr))) found.set(key, { cidr, field, service: svc.key });
      }
    };
    take('serviceClusterIPs', svc.clusterIPs, here);
    take('serviceExternalIPs', svc.externalIPs, here);
    take('serviceLoadBalancerIPs', svc.loadBalancerIPs, svc.local ? here : lbPerAddress);
  }
  return [...found.values()].sort((a, b) => byNetwork(a.cidr, b.cidr));
}

export function exportFunction(
  version: 4 | 6,
  pools: readonly PoolRange[],
  communities: readonly CommunityRule[] = [],
  services: readonly ServiceRange[] = [],
): string[] {
  const refused = pools.filter((p) => !p.exported);
  const allowed = pools.filter((p) => p.exported);
  const lines = [`function calico_export${version}() {`, '  if !(source ~ [RTS_STATIC, RTS_BGP]) then reject;'];
  if (refused.length)
    lines.push(`  if net ~ ${prefixSet(refused.map((p) => ({ ...p, maxPrefix: version === 4 ? 32 : 128 })))} then reject; # disableBGPExport`);
  const tests = [
    ...(allowed.length ? [`net ~ ${prefixSet(allowed)}`] : []),
    ...(services.length ? [`net ~ [ ${services.map((r) => formatCIDR(r.cidr)).join(', ')} ]`] : []),
  ];
  if (tests.length) {
    const test = tests.length === 1 ? tests[0] : tests.map((t) => `(${t})`).join(' || ');
    if (communities.length === 0) {
      lines.push(`  if ${test} then accept;`);
    } else {
      lines.push(`  if ${test} then {`);
      for (const c of communities) lines.push(`    if net ~ ${formatCIDR(c.cidr)} then { ${c.adds.join(' ')} } # ${c.values.join(', ')}`);
      lines.push('    accept;', '  }');
    }
  }
  lines.push('  reject;', '}');
  return lines;
}

export function kernelFilter(version: 4 | 6, services: readonly ServiceRange[] = [], pools: readonly PoolRange[] = []): string[] {
  const lines = [`filter calico_kernel${version} {`];
  if (services.length) lines.push(`  if net ~ [ ${services.map((r) => formatCIDR(r.cidr)).join(', ')} ] then reject; # service ranges`);
  const vxlan = pools.filter((p) => p.felixRouted);
  if (vxlan.length)
    lines.push(
      `  if net ~ ${prefixSet(vxlan.map((p) => ({ ...p, maxPrefix: version === 4 ? 32 : 128 })))} then reject; # VXLAN pools: Felix programs their routes`,
    );
  lines.push('  if source ~ [RTS_STATIC, RTS_BGP] then accept;', '  reject;', '}');
  return lines;
}

/** Pools a block belongs to, for the comment beside its route. */
export function poolOf(block: CIDR, pools: readonly PoolRange[]): string | undefined {
  return pools.find((p) => cidrContains(p.cidr, block))?.name;
}
