/**
 * VXLAN tunnel endpoints (Calico's VXLANResolver): one per node that has a VXLAN tunnel address
 * and a node address of the same family (IPv4: `ipv4VXLANTunnelAddr` + `bgp.ipv4Address`,
 * IPv6: `ipv6VXLANTunnelAddr` + `bgp.ipv6Address`). The MAC is the node's
 * `vxlanTunnelMACAddr`(`V6`), or else the one calico/node derives and assigns to the device:
 * `66` (the byte "f") followed by the first five bytes of SHA-1(node name) (`<name>-v6` for
 * IPv6), so both ends agree without the MAC being written anywhere.
 *
 * A changed VTEP is sent as a new update for the same node (the driver replaces it). Every
 * node update sends its VTEP again; the EventSequencer drops one the driver already has.
 */
import { createHash } from 'node:crypto';
import type { VXLANTunnelEndpointUpdate } from '../proto/messages.js';
import type { CalcCallbacks } from './callbacks.js';
import type { NodeData } from './decode.js';

type VTEP = Omit<VXLANTunnelEndpointUpdate, 'kind'>;

export class VXLANResolver {
  readonly #out: Pick<CalcCallbacks, 'onVTEPUpdate' | 'onVTEPRemove'>;
  readonly #sent = new Map<string, VTEP>();

  constructor(out: Pick<CalcCallbacks, 'onVTEPUpdate' | 'onVTEPRemove'>) {
    this.#out = out;
  }

  updateNode(name: string, node: NodeData | undefined): void {
    const vtep = node === undefined ? undefined : vtepOf(node);
    const had = this.#sent.get(name);
    if (vtep === undefined) {
      if (had === undefined) return;
      this.#sent.delete(name);
      this.#out.onVTEPRemove(name);
    } else {
      this.#sent.set(name, vtep);
      this.#out.onVTEPUpdate(vtep);
    }
  }
}

function vtepOf(n: NodeData): VTEP | undefined {
  const v4 = n.vxlanTunnelAddr !== undefined && n.ipv4Addr !== undefined;
  const v6 = n.vxlanTunnelAddrV6 !== undefined && n.ipv6Addr !== undefined;
  if (!v4 && !v6) return undefined;
  const vtep: VTEP = { node: n.name };
  if (v4) {
    vtep.mac = n.vxlanTunnelMac ?? derivedVXLANMac(n.name);
    vtep.ipv4Addr = n.vxlanTunnelAddr;
    vtep.parentDeviceIp = n.ipv4Addr;
  }
  if (v6) {
    vtep.macV6 = n.vxlanTunnelMacV6 ?? derivedVXLANMac(`${n.name}-v6`);
    vtep.ipv6Addr = n.vxlanTunnelAddrV6;
    vtep.parentDeviceIpv6 = n.ipv6Addr;
  }
  return vtep;
}

/** calico/node's VXLAN device MAC for a node that has none configured. */
export function derivedVXLANMac(seed: string): string {
  const sha = createHash('sha1').update(seed).digest();
  const bytes = [0x66, sha[0], sha[1], sha[2], sha[3], sha[4]];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}
