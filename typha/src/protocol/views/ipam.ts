/**
 * The `ipam` syncer: everything IPAM and the tunnel address allocator read. Calico's
 * tunnelipsyncer (IPPool + Node) is the closest Calico analogue: the allocator needs each
 * node's tunnel addresses, and `IPPool.spec.nodeSelector` needs the node's labels.
 *
 *   IPPool, IPReservation, IPAMBlock, BlockAffinity, IPAMHandle, IPAMConfiguration
 *                        the spec (allocations included: this syncer is where they go)
 *   Node                 labels, the VXLAN tunnel addresses, `bgp.ipv4IPIPTunnelAddr` and the
 *                        Wireguard interface addresses
 */
import type { KindSpecs, Validated } from '@cattail/api';
import { labelsOf, pick, specOnly, view, type Labels, type Projections, type SpecView } from './projection.js';

type NodeSpec = Validated<KindSpecs['Node']>;

const NODE_FIELDS = ['ipv4VXLANTunnelAddr', 'ipv6VXLANTunnelAddr'] as const;
const NODE_WIREGUARD_FIELDS = ['interfaceIPv4Address', 'interfaceIPv6Address'] as const;

type IpamNodeSpec = Pick<NodeSpec, (typeof NODE_FIELDS)[number]> & {
  bgp?: Pick<NonNullable<NodeSpec['bgp']>, 'ipv4IPIPTunnelAddr'>;
  wireguard?: Pick<NonNullable<NodeSpec['wireguard']>, (typeof NODE_WIREGUARD_FIELDS)[number]>;
};

export type IpamViews = {
  IPPool: SpecView<'IPPool'>;
  IPReservation: SpecView<'IPReservation'>;
  IPAMBlock: SpecView<'IPAMBlock'>;
  BlockAffinity: SpecView<'BlockAffinity'>;
  IPAMHandle: SpecView<'IPAMHandle'>;
  IPAMConfiguration: SpecView<'IPAMConfiguration'>;
  Node: { labels?: Labels; spec?: IpamNodeSpec };
};

export const IPAM_PROJECTIONS: Projections<IpamViews> = {
  IPPool: specOnly,
  IPReservation: specOnly,
  IPAMBlock: specOnly,
  BlockAffinity: specOnly,
  IPAMHandle: specOnly,
  IPAMConfiguration: specOnly,
  Node: (res) => {
    const spec = pick(res.spec, NODE_FIELDS);
    const bgp = pick(res.spec?.bgp, ['ipv4IPIPTunnelAddr']);
    const wireguard = pick(res.spec?.wireguard, NODE_WIREGUARD_FIELDS);
    if (!bgp && !wireguard) return view(labelsOf(res), spec);
    const out: IpamNodeSpec = { ...spec };
    if (bgp) out.bgp = bgp;
    if (wireguard) out.wireguard = wireguard;
    return view(labelsOf(res), out);
  },
};
