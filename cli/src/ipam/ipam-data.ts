/**
 * What the `ipam` commands read, in the shapes they print: blocks and their allocations, pools,
 * and the addresses something in the cluster uses (a workload endpoint's ipNetworks, a node's
 * tunnel addresses), as calicoctl's `ipam check` gathers them.
 *
 * Everything is read with `Datastore.list`/`get` by kind, never by etcd key, so the commands
 * work unchanged on any backend of the Datastore boundary (the Kubernetes datastore too).
 */
import { cidrContainsIP, formatIP, parseCIDR, parseIP, type CIDR, type IPAddr, type Resource } from '@cattail/api';
import { ipam, type Datastore } from '@cattail/datastore';

/** One allocated address of a block. */
export interface BlockAllocation {
  readonly ip: string;
  readonly block: ipam.StoredBlock;
  readonly ordinal: number;
  /** The attribute's handle_id, when it has one. */
  readonly handle: string | undefined;
  /** The attribute's `secondary` map: node, pod, namespace, type, timestamp. */
  readonly attrs: Readonly<Record<string, string>>;
  readonly alternate: Readonly<Record<string, string>>;
  /** The block's sequence number when this ordinal was handed out (0 when not recorded). */
  readonly sequenceNumber: number;
}

export interface PoolInfo {
  readonly name: string;
  readonly cidr: CIDR;
  readonly disabled: boolean;
}

/** The handle of the addresses a Windows node keeps back (libcalico-go's WindowsReservedHandle). */
export const WINDOWS_RESERVED_HANDLE = 'windows-reserved-ipam-handle';

/** Every block, in address order (IPv4 first). */
export async function loadBlocks(ds: Datastore): Promise<ipam.StoredBlock[]> {
  return (await ipam.listBlocks(ds)).sort((a, b) => compareCIDR(a.cidr, b.cidr));
}

export function allocationsOf(stored: ipam.StoredBlock): BlockAllocation[] {
  const out: BlockAllocation[] = [];
  stored.block.allocations.forEach((index, ordinal) => {
    if (index === null) return;
    const attr = stored.block.attributes[index] ?? {};
    out.push({
      ip: formatIP(ipam.ipAt(stored.cidr, ordinal)),
      block: stored,
      ordinal,
      handle: typeof attr.handle_id === 'string' ? attr.handle_id : undefined,
      attrs: stringMap(attr.secondary),
      alternate: stringMap(attr.alternate),
      sequenceNumber: stored.block.sequenceNumberForAllocation[String(ordinal)] ?? 0,
    });
  });
  return out;
}

/** The node a block is affine to (`host:<node>` without the prefix), or '' for none. */
export function blockOwner(stored: ipam.StoredBlock): string {
  const a = stored.block.affinity;
  if (a === undefined) return '';
  return a.startsWith('host:') ? a.slice('host:'.length) : a;
}

/** The IP pools, in the datastore's (name) order; a pool without a parsable CIDR is left out. */
export async function loadPools(ds: Datastore): Promise<PoolInfo[]> {
  const out: PoolInfo[] = [];
  for (const p of (await ds.list('IPPool')).items) {
    const spec = (p.spec ?? {}) as { cidr?: unknown; disabled?: unknown };
    const cidr = typeof spec.cidr === 'string' ? parseCIDR(spec.cidr) : undefined;
    if (cidr) out.push({ name: p.metadata.name, cidr, disabled: spec.disabled === true });
  }
  return out;
}

export function poolContaining(pools: readonly PoolInfo[], block: CIDR): PoolInfo | undefined {
  return pools.find((p) => p.cidr.version === block.version && block.prefix >= p.cidr.prefix && cidrContainsIP(p.cidr, block.addr));
}

/** One address something uses, and who: `Workload(ns/name)`, `Node(name)`. */
export interface AddressUser {
  readonly ip: string;
  readonly owner: string;
}

/**
 * The addresses in use by the cluster, with their users: every node's VXLAN, IPIP and
 * WireGuard IPv4 tunnel address, and every workload endpoint's ipNetworks (what calicoctl's
 * check counts), in that order.
 */
export async function loadAddressUsers(ds: Datastore): Promise<{ nodes: AddressUser[]; workloads: AddressUser[] }> {
  const nodes: AddressUser[] = [];
  for (const n of (await ds.list('Node')).items) {
    for (const ip of nodeTunnelIPs(n)) nodes.push({ ip, owner: `Node(${n.metadata.name})` });
  }
  const workloads: AddressUser[] = [];
  for (const w of (await ds.list('WorkloadEndpoint')).items) {
    const nets = (w.spec as { ipNetworks?: unknown } | undefined)?.ipNetworks;
    for (const text of Array.isArray(nets) ? nets : []) {
      const ip = typeof text === 'string' ? normaliseIP(text) : undefined;
      if (ip !== undefined) workloads.push({ ip, owner: `Workload(${w.metadata.namespace ?? ''}/${w.metadata.name})` });
    }
  }
  return { nodes, workloads };
}

function nodeTunnelIPs(n: Resource): string[] {
  const spec = (n.spec ?? {}) as { ipv4VXLANTunnelAddr?: unknown; wireguard?: { interfaceIPv4Address?: unknown }; bgp?: { ipv4IPIPTunnelAddr?: unknown } };
  const texts = [spec.ipv4VXLANTunnelAddr, spec.wireguard?.interfaceIPv4Address, spec.bgp?.ipv4IPIPTunnelAddr];
  return texts.flatMap((t) => {
    const ip = typeof t === 'string' && t !== '' ? normaliseIP(t) : undefined;
    return ip === undefined ? [] : [ip];
  });
}

/** `10.0.0.1`, `10.0.0.1/32` → `10.0.0.1` (canonical text); undefined when neither. */
export function normaliseIP(text: string): string | undefined {
  const ip = parseIP(text) ?? parseCIDR(text)?.addr;
  return ip ? formatIP(ip) : undefined;
}

/** Parses an address given on the command line; undefined when it is not one. */
export function parseAddress(text: string): IPAddr | undefined {
  return parseIP(text.trim());
}

export function compareCIDR(a: CIDR, b: CIDR): number {
  return compareIP(a.addr, b.addr) || a.prefix - b.prefix;
}

export function compareIP(a: IPAddr, b: IPAddr): number {
  if (a.version !== b.version) return a.version - b.version;
  const x = ipam.ipToBigInt(a);
  const y = ipam.ipToBigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Compares address texts (as printed) in address order. */
export function compareIPText(a: string, b: string): number {
  const x = parseIP(a);
  const y = parseIP(b);
  return x && y ? compareIP(x, y) : a < b ? -1 : a > b ? 1 : 0;
}

function stringMap(v: unknown): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}
