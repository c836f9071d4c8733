/**
 * The VXLAN devices and their peers, as Calico programs them: `vxlan.calico` for IPv4 and
 * `vxlan-v6.calico` for IPv6 (outer and inner addresses of that family, /128 VTEP address):
 *
 *   ip link add vxlan.calico type vxlan id <vxlanVNI: 4096> dstport <vxlanPort: 4789> local <node ip> nolearning
 *   ip addr replace <our VTEP ip>/32 dev vxlan.calico ; ip link set vxlan.calico up
 *   per remote VTEP:  ip neigh replace <vtep ip> lladdr <vtep mac> dev vxlan.calico nud permanent
 *                     bridge fdb replace <vtep mac> dev vxlan.calico dst <node ip> self permanent
 *
 * The device's MTU is the VXLAN MTU of `mtu.ts` (uplink less 50 bytes for IPv4, 70 for IPv6, or
 * `vxlanMTU` / `vxlanMTUV6`) when known. A device whose VNI, port or local address differs from
 * what is wanted is deleted and made again (the kernel cannot change them on a live device);
 * FelixConfiguration `vxlanEnabled` (IPv4) and `vxlanEnabledV6` force a device on or off
 * whatever the pools say.
 *
 * Remote blocks are then routed `via <vtep ip> dev <device> onlink` (routes.ts): the neighbour
 * entry gives the inner MAC, the FDB entry the outer destination. `replace` (not `append`) keeps
 * re-applies idempotent. Pure: the driver feeds in what it read from the kernel.
 */
import { vxlanEnabled, vxlanEnabledV6, type DesiredState } from './desired-state.js';
import { VXLAN_DEVICE, VXLAN_DEVICE_V6 } from './routes.js';

const VXLAN_VNI = 4096;
const VXLAN_PORT = 4789;

/** A positive integer from the spec, else Calico's default. */
function configNumber(config: Record<string, unknown>, key: string, fallback: number): number {
  const v = config[key];
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : fallback;
}

export interface VxlanDevice {
  vni: number;
  port: number;
  local: string;
  address: string;
  mac?: string;
  mtu?: number;
}

export interface VxlanPeer {
  node: string;
  vtepIp: string;
  mac: string;
  hostIp: string;
}

export interface DesiredVxlan {
  /** `vxlan.calico` or `vxlan-v6.calico`. */
  name: string;
  /** The VTEP address's prefix length: 32 or 128. */
  hostPrefix: 32 | 128;
  device?: VxlanDevice;
  peers: VxlanPeer[];
}

/** The VTEP fields of one family. */
function vtepOf(v: DesiredState['vteps'] extends Map<string, infer T> ? T : never, family: 4 | 6): { ip?: string; parent?: string; mac?: string } {
  return family === 4 ? { ip: v.ipv4Addr, parent: v.parentDeviceIp, mac: v.mac } : { ip: v.ipv6Addr, parent: v.parentDeviceIpv6, mac: v.macV6 };
}

export function desiredVxlan(state: DesiredState, nodeName: string, mtu?: number, family: 4 | 6 = 4): DesiredVxlan {
  const out: DesiredVxlan = { name: family === 4 ? VXLAN_DEVICE : VXLAN_DEVICE_V6, hostPrefix: family === 4 ? 32 : 128, peers: [] };
  const ownVtep = state.vteps.get(nodeName);
  const own = ownVtep === undefined ? undefined : vtepOf(ownVtep, family);
  const enabled = family === 4 ? vxlanEnabled(state) : vxlanEnabledV6(state);
  if (!enabled || !own?.ip || !own.parent) return out;
  const device: VxlanDevice = {
    vni: configNumber(state.config, 'vxlanVNI', VXLAN_VNI),
    port: configNumber(state.config, 'vxlanPort', VXLAN_PORT),
    local: own.parent,
    address: own.ip,
  };
  if (own.mac) device.mac = own.mac;
  if (mtu !== undefined) device.mtu = mtu;
  out.device = device;
  for (const [node, vtep] of [...state.vteps].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const v = vtepOf(vtep, family);
    if (node === nodeName || !v.ip || !v.parent || !v.mac) continue;
    out.peers.push({ node, vtepIp: v.ip, mac: v.mac.toLowerCase(), hostIp: v.parent });
  }
  return out;
}

/** What the kernel has: from `ip -json -d link show`, `ip -json neigh show dev …`, `bridge -json fdb show dev …`. */
export interface ActualVxlan {
  device?: { vni?: number; port?: number; local?: string; learning?: boolean; up: boolean; mac?: string; mtu?: number };
  addresses: string[];
  neighbours: Array<{ ip: string; mac?: string }>;
  fdb: Array<{ mac: string; dst?: string }>;
}

export function parseVxlanLink(links: Array<Record<string, unknown>>, name: string = VXLAN_DEVICE): ActualVxlan['device'] {
  const link = links.find((l) => l.ifname === name);
  if (!link) return undefined;
  const info = (link.linkinfo as { info_data?: Record<string, unknown> } | undefined)?.info_data ?? {};
  const flags = Array.isArray(link.flags) ? (link.flags as string[]) : [];
  const dev: NonNullable<ActualVxlan['device']> = { up: flags.includes('UP') };
  if (typeof info.id === 'number') dev.vni = info.id;
  if (typeof info.port === 'number') dev.port = info.port;
  if (typeof info.local === 'string') dev.local = info.local;
  else if (typeof info.local6 === 'string') dev.local = info.local6;
  if (typeof info.learning === 'boolean') dev.learning = info.learning;
  if (typeof link.address === 'string') dev.mac = link.address;
  if (typeof link.mtu === 'number') dev.mtu = link.mtu;
  return dev;
}

export interface VxlanCommands {
  /** `ip -batch` lines, to run before routes. */
  ip: string[];
  /** `bridge -batch` lines. */
  bridge: string[];
}

export function vxlanCommands(desired: DesiredVxlan, actual: ActualVxlan): VxlanCommands {
  const ip: string[] = [];
  const bridge: string[] = [];
  const dev = desired.name;
  const d = desired.device;
  const a = actual.device;
  if (!d) {
    if (a) ip.push(`link del ${dev}`);
    return { ip, bridge };
  }
  const wrong = a && (a.vni !== d.vni || a.port !== d.port || a.local !== d.local || a.learning === true);
  let fresh = !a;
  if (wrong) {
    ip.push(`link del ${dev}`);
    fresh = true;
  }
  if (fresh) {
    ip.push(
      `link add ${dev}${d.mac ? ` address ${d.mac}` : ''}${d.mtu ? ` mtu ${d.mtu}` : ''} type vxlan id ${d.vni} dstport ${d.port} local ${d.local} nolearning`,
    );
  } else {
    if (d.mac && a?.mac?.toLowerCase() !== d.mac.toLowerCase()) ip.push(`link set ${dev} address ${d.mac}`);
    if (d.mtu && a?.mtu !== d.mtu) ip.push(`link set ${dev} mtu ${d.mtu}`);
  }
  if (fresh || !actual.addresses.includes(`${d.address}/${desired.hostPrefix}`))
    ip.push(`addr replace ${d.address}/${desired.hostPrefix} dev ${dev}${desired.hostPrefix === 128 ? ' nodad' : ''}`);
  if (fresh || !a?.up) ip.push(`link set ${dev} up`);

  const wantNeigh = new Map(desired.peers.map((p) => [p.vtepIp, p.mac]));
  const wantFdb = new Map(desired.peers.map((p) => [p.mac, p.hostIp]));
  const haveNeigh = new Map(fresh ? [] : actual.neighbours.map((n) => [n.ip, n.mac?.toLowerCase()]));
  const haveFdb = new Map(fresh ? [] : actual.fdb.map((f) => [f.mac.toLowerCase(), f.dst]));
  for (const [ipAddr] of haveNeigh) {
    if (!wantNeigh.has(ipAddr)) ip.push(`neigh del ${ipAddr} dev ${dev}`);
  }
  for (const [ipAddr, mac] of wantNeigh) {
    if (haveNeigh.get(ipAddr) !== mac) ip.push(`neigh replace ${ipAddr} lladdr ${mac} dev ${dev} nud permanent`);
  }
  for (const [mac, dst] of haveFdb) {
    if (dst !== undefined && !wantFdb.has(mac)) bridge.push(`fdb del ${mac} dev ${dev} dst ${dst} self`);
  }
  for (const [mac, dst] of wantFdb) {
    if (haveFdb.get(mac) !== dst) bridge.push(`fdb replace ${mac} dev ${dev} dst ${dst} self permanent`);
  }
  return { ip, bridge };
}
