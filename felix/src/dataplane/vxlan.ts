/**
 * The VXLAN device and its peers, as Calico programs them (IPv4):
 *
 *   ip link add vxlan.calico type vxlan id <vxlanVNI: 4096> dstport <vxlanPort: 4789> local <node ip> nolearning
 *   ip addr replace <our VTEP ip>/32 dev vxlan.calico ; ip link set vxlan.calico up
 *   per remote VTEP:  ip neigh replace <vtep ip> lladdr <vtep mac> dev vxlan.calico nud permanent
 *                     bridge fdb replace <vtep mac> dev vxlan.calico dst <node ip> self permanent
 *
 * The device's MTU is the VXLAN MTU of `mtu.ts` (uplink less 50 bytes, or `vxlanMTU`) when known.
 * A device whose VNI or port differs from FelixConfiguration is deleted and made again (the
 * kernel cannot change either on a live device); FelixConfiguration `vxlanEnabled` forces the
 * device on or off whatever the pools say.
 *
 * Remote blocks are then routed `via <vtep ip> dev vxlan.calico onlink` (routes.ts): the neighbour
 * entry gives the inner MAC, the FDB entry the outer destination. `replace` (not `append`) keeps
 * re-applies idempotent. Pure: the driver feeds in what it read from the kernel.
 */
import { vxlanEnabled, type DesiredState } from './desired-state.js';
import { VXLAN_DEVICE } from './routes.js';

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
  device?: VxlanDevice;
  peers: VxlanPeer[];
}

export function desiredVxlan(state: DesiredState, nodeName: string, mtu?: number): DesiredVxlan {
  const own = state.vteps.get(nodeName);
  if (!vxlanEnabled(state) || !own?.ipv4Addr || !own.parentDeviceIp) return { peers: [] };
  const device: VxlanDevice = {
    vni: configNumber(state.config, 'vxlanVNI', VXLAN_VNI),
    port: configNumber(state.config, 'vxlanPort', VXLAN_PORT),
    local: own.parentDeviceIp,
    address: own.ipv4Addr,
  };
  if (own.mac) device.mac = own.mac;
  if (mtu !== undefined) device.mtu = mtu;
  const peers: VxlanPeer[] = [];
  for (const [node, v] of [...state.vteps].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (node === nodeName || !v.ipv4Addr || !v.parentDeviceIp || !v.mac) continue;
    peers.push({ node, vtepIp: v.ipv4Addr, mac: v.mac.toLowerCase(), hostIp: v.parentDeviceIp });
  }
  return { device, peers };
}

/** What the kernel has: from `ip -json -d link show`, `ip -json neigh show dev …`, `bridge -json fdb show dev …`. */
export interface ActualVxlan {
  device?: { vni?: number; port?: number; local?: string; learning?: boolean; up: boolean; mac?: string; mtu?: number };
  addresses: string[];
  neighbours: Array<{ ip: string; mac?: string }>;
  fdb: Array<{ mac: string; dst?: string }>;
}

export function parseVxlanLink(links: Array<Record<string, unknown>>): ActualVxlan['device'] {
  const link = links.find((l) => l.ifname === VXLAN_DEVICE);
  if (!link) return undefined;
  const info = (link.linkinfo as { info_data?: Record<string, unknown> } | undefined)?.info_data ?? {};
  const flags = Array.isArray(link.flags) ? (link.flags as string[]) : [];
  const dev: NonNullable<ActualVxlan['device']> = { up: flags.includes('UP') };
  if (typeof info.id === 'number') dev.vni = info.id;
  if (typeof info.port === 'number') dev.port = info.port;
  if (typeof info.local === 'string') dev.local = info.local;
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
  const d = desired.device;
  const a = actual.device;
  if (!d) {
    if (a) ip.push(`link del ${VXLAN_DEVICE}`);
    return { ip, bridge };
  }
  const wrong = a && (a.vni !== d.vni || a.port !== d.port || a.local !== d.local || a.learning === true);
  let fresh = !a;
  if (wrong) {
    ip.push(`link del ${VXLAN_DEVICE}`);
    fresh = true;
  }
  if (fresh) {
    ip.push(
      `link add ${VXLAN_DEVICE}${d.mac ? ` address ${d.mac}` : ''}${d.mtu ? ` mtu ${d.mtu}` : ''} type vxlan id ${d.vni} dstport ${d.port} local ${d.local} nolearning`,
    );
  } else {
    if (d.mac && a?.mac?.toLowerCase() !== d.mac.toLowerCase()) ip.push(`link set ${VXLAN_DEVICE} address ${d.mac}`);
    if (d.mtu && a?.mtu !== d.mtu) ip.push(`link set ${VXLAN_DEVICE} mtu ${d.mtu}`);
  }
  if (fresh || !actual.addresses.includes(`${d.address}/32`)) ip.push(`addr replace ${d.address}/32 dev ${VXLAN_DEVICE}`);
  if (fresh || !a?.up) ip.push(`link set ${VXLAN_DEVICE} up`);

  const wantNeigh = new Map(desired.peers.map((p) => [p.vtepIp, p.mac]));
  const wantFdb = new Map(desired.peers.map((p) => [p.mac, p.hostIp]));
  const haveNeigh = new Map(fresh ? [] : actual.neighbours.map((n) => [n.ip, n.mac?.toLowerCase()]));
  const haveFdb = new Map(fresh ? [] : actual.fdb.map((f) => [f.mac.toLowerCase(), f.dst]));
  for (const [ipAddr] of haveNeigh) {
    if (!wantNeigh.has(ipAddr)) ip.push(`neigh del ${ipAddr} dev ${VXLAN_DEVICE}`);
  }
  for (const [ipAddr, mac] of wantNeigh) {
    if (haveNeigh.get(ipAddr) !== mac) ip.push(`neigh replace ${ipAddr} lladdr ${mac} dev ${VXLAN_DEVICE} nud permanent`);
  }
  for (const [mac, dst] of haveFdb) {
    if (dst !== undefined && !wantFdb.has(mac)) bridge.push(`fdb del ${mac} dev ${VXLAN_DEVICE} dst ${dst} self`);
  }
  for (const [mac, dst] of wantFdb) {
    if (haveFdb.get(mac) !== dst) bridge.push(`fdb replace ${mac} dev ${VXLAN_DEVICE} dst ${dst} self permanent`);
  }
  return { ip, bridge };
}
