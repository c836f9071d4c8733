/**
 * IP pools, IPAM blocks and nodes, as routing and the VXLAN resolver need them: a pool's CIDR,
 * block size and encapsulation; a block's CIDR and `host:<node>` affinity; a node's BGP
 * addresses (with their subnet, for CrossSubnet), VXLAN tunnel addresses and MACs, and labels.
 * Typed views in, as in decode.ts: a pool's and a block's `cidr` is required by validation, so
 * it is there; what can still fail is parsing it.
 */
import { cidrContainsIP, formatCIDR, formatIP, networkOf, parseCIDR, parseIP, type CIDR } from '@cattail/api';
import { fail, guarded, hostCIDR, NO_LABELS, specOf, type Labels, type Present } from './decode-util.js';

export interface PoolData {
  readonly name: string;
  readonly cidr: CIDR;
  readonly cidrText: string;
  /** Calico's pool id: the CIDR with `/` as `-`. */
  readonly id: string;
  readonly blockSize: number;
  readonly vxlanMode: string;
  readonly ipipMode: string;
  readonly natOutgoing: boolean;
  readonly disabled: boolean;
}

export interface BlockData {
  readonly cidr: CIDR;
  readonly cidrText: string;
  /** The node of a `host:<node>` affinity. */
  readonly node: string | undefined;
}

export interface NodeData {
  readonly name: string;
  readonly labels: Labels;
  readonly ipv4Addr?: string;
  readonly ipv4Net?: CIDR;
  readonly ipv6Addr?: string;
  readonly ipv6Net?: CIDR;
  readonly vxlanTunnelAddr?: string;
  readonly vxlanTunnelMac?: string;
  readonly vxlanTunnelAddrV6?: string;
  readonly vxlanTunnelMacV6?: string;
}

export function decodePool(u: Present<'IPPool'>): PoolData {
  return guarded(u, () => {
    const s = u.value.spec;
    const cidr = parseCIDR(s.cidr) ?? fail(`cidr ${JSON.stringify(s.cidr)} is not a CIDR`);
    const text = formatCIDR(cidr);
    return {
      name: u.name,
      cidr: { version: cidr.version, addr: networkOf(cidr), prefix: cidr.prefix },
      cidrText: text,
      id: text.replace('/', '-'),
      blockSize: s.blockSize ?? (cidr.version === 4 ? 26 : 122),
      vxlanMode: s.vxlanMode || 'Never',
      ipipMode: s.ipipMode || 'Never',
      natOutgoing: s.natOutgoing === true,
      disabled: s.disabled === true,
    };
  });
}

export function decodeBlock(u: Present<'IPAMBlock'>): BlockData {
  return guarded(u, () => {
    const s = u.value.spec;
    const cidr = parseCIDR(s.cidr) ?? fail(`cidr ${JSON.stringify(s.cidr)} is not a CIDR`);
    const node = s.affinity?.startsWith('host:') ? s.affinity.slice('host:'.length) : undefined;
    const masked = { version: cidr.version, addr: networkOf(cidr), prefix: cidr.prefix };
    return { cidr: masked, cidrText: formatCIDR(masked), node: node || undefined };
  });
}

export function decodeNode(u: Present<'Node'>): NodeData {
  return guarded(u, () => {
    const s = specOf(u.value);
    const bgp: NonNullable<typeof s.bgp> = s.bgp ?? {};
    const node: { -readonly [K in keyof NodeData]: NodeData[K] } = { name: u.name, labels: u.value.labels ?? NO_LABELS };
    const v4 = addressOf(bgp.ipv4Address);
    if (v4) [node.ipv4Addr, node.ipv4Net] = v4;
    const v6 = addressOf(bgp.ipv6Address);
    if (v6) [node.ipv6Addr, node.ipv6Net] = v6;
    const vx4 = s.ipv4VXLANTunnelAddr;
    if (vx4) node.vxlanTunnelAddr = vx4;
    const mac4 = s.vxlanTunnelMACAddr;
    if (mac4) node.vxlanTunnelMac = mac4.toLowerCase();
    const vx6 = s.ipv6VXLANTunnelAddr;
    if (vx6) node.vxlanTunnelAddrV6 = vx6;
    const mac6 = s.vxlanTunnelMACAddrV6;
    if (mac6) node.vxlanTunnelMacV6 = mac6.toLowerCase();
    return node;
  });
}

/** `10.0.0.1/24` → ['10.0.0.1', 10.0.0.0/24]; a bare address gets a host CIDR. */
function addressOf(text: string | null | undefined): [string, CIDR] | undefined {
  if (!text) return undefined;
  const c = parseCIDR(text) ?? hostCIDR(text) ?? fail(`address ${JSON.stringify(text)} is not an IP address`);
  return [formatIP(c.addr), c];
}

/** Whether `net` (a node's own subnet) holds `addr`. */
export function sameSubnet(net: CIDR | undefined, addr: string): boolean {
  const ip = parseIP(addr);
  return net !== undefined && ip !== undefined && cidrContainsIP(net, ip);
}
