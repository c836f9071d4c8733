/**
 * The `bgp` syncer: what confd reads to render BIRD's configuration. Checked against
 * projectcalico/calico libcalico-go/lib/backend/syncersv1/bgpsyncer/bgpsyncer.go:
 *
 *   Node                 labels (BGPPeer node and peer selectors) and `spec.bgp` (addresses,
 *                        AS number, route reflector cluster id); Calico sends the whole Node.
 *   BGPPeer, BGPConfiguration, IPPool
 *                        the spec
 *   IPAMBlock            cidr and affinity (see `blockRoute`)
 *   BlockAffinity        node, cidr, state, deleted. Calico's bgpsyncer sends only this node's
 *                        affinities; we send all (one cache and one encoding for every node) and
 *                        confd filters on `spec.node`.
 *   BGPFilter            the spec (the import/export rules BGPPeers name in `filters`).
 *   WorkloadEndpoint     labels, node and ipNetworks: what `localWorkloadSelector` peerings read.
 *                        Calico hands confd the local workloads a peering selects through Felix's
 *                        endpoint status files; Cattail sends them on the syncer instead, and
 *                        confd keeps only its own node's. The cost: a pod start or stop reaches
 *                        every confd (which drops other nodes' endpoints without a render).
 *   KubernetesService, KubernetesEndpointSlice
 *                        the converted spec (IPs, ports, externalTrafficPolicy; endpoint
 *                        addresses, node, ready): per-service /32 and /128 advertisement for
 *                        `externalTrafficPolicy: Local`. Calico's bgpsyncer carries both kinds
 *                        too. Kubernetes datastore only.
 */
import type { KindSpecs, Validated } from '@cattail/api';
import { blockRoute, labelsOf, pick, specOnly, view, type BlockRouteView, type Labels, type Projections, type SpecView } from './projection.js';

const BLOCK_AFFINITY_FIELDS = ['node', 'cidr', 'state', 'deleted'] as const;
const WORKLOAD_ENDPOINT_FIELDS = ['node', 'ipNetworks'] as const;

export type BgpViews = {
  Node: { labels?: Labels; spec?: Pick<Validated<KindSpecs['Node']>, 'bgp'> };
  BGPPeer: SpecView<'BGPPeer'>;
  BGPConfiguration: SpecView<'BGPConfiguration'>;
  IPPool: SpecView<'IPPool'>;
  IPAMBlock: BlockRouteView;
  BlockAffinity: { spec: Pick<Validated<KindSpecs['BlockAffinity']>, (typeof BLOCK_AFFINITY_FIELDS)[number]> };
  BGPFilter: SpecView<'BGPFilter'>;
  WorkloadEndpoint: { labels?: Labels; spec?: Pick<Validated<KindSpecs['WorkloadEndpoint']>, (typeof WORKLOAD_ENDPOINT_FIELDS)[number]> };
  KubernetesService: SpecView<'KubernetesService'>;
  KubernetesEndpointSlice: SpecView<'KubernetesEndpointSlice'>;
};

export const BGP_PROJECTIONS: Projections<BgpViews> = {
  Node: (res) => view(labelsOf(res), pick(res.spec, ['bgp'])),
  BGPPeer: specOnly,
  BGPConfiguration: specOnly,
  IPPool: specOnly,
  IPAMBlock: blockRoute,
  BlockAffinity: (res) => view(undefined, pick(res.spec, BLOCK_AFFINITY_FIELDS)),
  BGPFilter: specOnly,
  WorkloadEndpoint: (res) => view(labelsOf(res), pick(res.spec, WORKLOAD_ENDPOINT_FIELDS)),
  KubernetesService: specOnly,
  KubernetesEndpointSlice: specOnly,
};
