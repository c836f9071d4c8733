/**
 * The `felix` syncer: what Felix's calculation graph reads of each kind, and how Typha cuts it
 * out. Checked against projectcalico/calico libcalico-go/lib/backend/syncersv1/felixsyncerv1.go
 * and its update processors; the differences, kind by kind:
 *
 *   ClusterInformation, FelixConfiguration, Profile, NetworkPolicy, GlobalNetworkPolicy, Tier,
 *   IPPool               the spec
 *   HostEndpoint, NetworkSet, GlobalNetworkSet
 *                        labels and the spec
 *   WorkloadEndpoint     labels and the fields Calico's WorkloadEndpointUpdateProcessor keeps
 *                        for Felix (interface, MAC, networks, NATs, gateways, profiles, ports,
 *                        allowed spoofed prefixes, QoS) plus `node` (the local-endpoint filter)
 *                        and `serviceAccountName` (policy selection). Orchestrator, workload,
 *                        pod, endpoint and containerID identify the pod to people, not to the
 *                        dataplane.
 *   Node                 labels, the VXLAN tunnel addresses and MACs, and the BGP addresses and
 *                        IPIP tunnel address: what Calico's FelixNodeUpdateProcessor turns into
 *                        host-config keys, plus the node itself (labels, and the address Felix
 *                        uses as next hop / VTEP parent of remote blocks). Wireguard is left out
 *                        (Cattail's Felix does not do Wireguard), and so is `status`, which
 *                        agents write and would otherwise wake every Felix on every report.
 *   BGPConfiguration     the advertised service ranges only (service loop prevention); Calico
 *                        sends it whole.
 *   IPAMBlock            cidr and affinity (see `blockRoute`).
 *   KubernetesService, KubernetesEndpointSlice
 *                        the spec, already cut down by the Kubernetes datastore's conversion
 *                        (cluster/external/LB IPs, ports, traffic policy; endpoint addresses,
 *                        node, ready, ports): what `services` in policy rules match. Calico
 *                        sends the whole Service and EndpointSlice. Only the Kubernetes
 *                        datastore produces them; in etcd mode there are none.
 *
 * Not carried: IPReservation (reservations only constrain IPAM), BGPPeer (Calico sends it for
 * local-workload peering, which Cattail does not do), BlockAffinity, IPAMHandle,
 * IPAMConfiguration.
 */
import type { KindSpecs, Validated } from '@cattail/api';
import {
  blockRoute,
  labelsAndSpec,
  labelsOf,
  pick,
  specOnly,
  view,
  type BlockRouteView,
  type Labels,
  type LabelsAndSpecView,
  type Projections,
  type SpecView,
} from './projection.js';

type NodeSpec = Validated<KindSpecs['Node']>;
type NodeBgp = NonNullable<NodeSpec['bgp']>;

const NODE_FIELDS = ['ipv4VXLANTunnelAddr', 'vxlanTunnelMACAddr', 'ipv6VXLANTunnelAddr', 'vxlanTunnelMACAddrV6'] as const;
const NODE_BGP_FIELDS = ['ipv4Address', 'ipv6Address', 'ipv4IPIPTunnelAddr'] as const;

const WORKLOAD_ENDPOINT_FIELDS = [
  'node',
  'interfaceName',
  'mac',
  'ipNetworks',
  'ipNATs',
  'ipv4Gateway',
  'ipv6Gateway',
  'profiles',
  'ports',
  'serviceAccountName',
  'allowSpoofedSourcePrefixes',
  'qosControls',
] as const;

const BGP_CONFIGURATION_FIELDS = ['serviceClusterIPs', 'serviceExternalIPs', 'serviceLoadBalancerIPs'] as const;

export type FelixViews = {
  ClusterInformation: SpecView<'ClusterInformation'>;
  FelixConfiguration: SpecView<'FelixConfiguration'>;
  Node: {
    labels?: Labels;
    spec?: Pick<NodeSpec, (typeof NODE_FIELDS)[number]> & { bgp?: Pick<NodeBgp, (typeof NODE_BGP_FIELDS)[number]> };
  };
  Profile: SpecView<'Profile'>;
  WorkloadEndpoint: {
    labels?: Labels;
    spec?: Pick<Validated<KindSpecs['WorkloadEndpoint']>, (typeof WORKLOAD_ENDPOINT_FIELDS)[number]>;
  };
  HostEndpoint: LabelsAndSpecView<'HostEndpoint'>;
  NetworkPolicy: SpecView<'NetworkPolicy'>;
  GlobalNetworkPolicy: SpecView<'GlobalNetworkPolicy'>;
  Tier: SpecView<'Tier'>;
  NetworkSet: LabelsAndSpecView<'NetworkSet'>;
  GlobalNetworkSet: LabelsAndSpecView<'GlobalNetworkSet'>;
  IPPool: SpecView<'IPPool'>;
  BGPConfiguration: { spec?: Pick<Validated<KindSpecs['BGPConfiguration']>, (typeof BGP_CONFIGURATION_FIELDS)[number]> };
  IPAMBlock: BlockRouteView;
  KubernetesService: SpecView<'KubernetesService'>;
  KubernetesEndpointSlice: SpecView<'KubernetesEndpointSlice'>;
};

export const FELIX_PROJECTIONS: Projections<FelixViews> = {
  ClusterInformation: specOnly,
  FelixConfiguration: specOnly,
  Node: (res) => {
    const spec = pick(res.spec, NODE_FIELDS);
    const bgp = pick(res.spec?.bgp, NODE_BGP_FIELDS);
    return view(labelsOf(res), bgp ? { ...spec, bgp } : spec);
  },
  Profile: specOnly,
  WorkloadEndpoint: (res) => view(labelsOf(res), pick(res.spec, WORKLOAD_ENDPOINT_FIELDS)),
  HostEndpoint: labelsAndSpec,
  NetworkPolicy: specOnly,
  GlobalNetworkPolicy: specOnly,
  Tier: specOnly,
  NetworkSet: labelsAndSpec,
  GlobalNetworkSet: labelsAndSpec,
  IPPool: specOnly,
  BGPConfiguration: (res) => view(undefined, pick(res.spec, BGP_CONFIGURATION_FIELDS)),
  IPAMBlock: blockRoute,
  KubernetesService: specOnly,
  KubernetesEndpointSlice: specOnly,
};
