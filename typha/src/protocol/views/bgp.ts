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
 */
import type { KindSpecs, Validated } from '@cattail/api';
import { blockRoute, labelsOf, pick, specOnly, view, type BlockRouteView, type Labels, type Projections, type SpecView } from './projection.js';

const BLOCK_AFFINITY_FIELDS = ['node', 'cidr', 'state', 'deleted'] as const;

export type BgpViews = {
  Node: { labels?: Labels; spec?: Pick<Validated<KindSpecs['Node']>, 'bgp'> };
  BGPPeer: SpecView<'BGPPeer'>;
  BGPConfiguration: SpecView<'BGPConfiguration'>;
  IPPool: SpecView<'IPPool'>;
  IPAMBlock: BlockRouteView;
  BlockAffinity: { spec: Pick<Validated<KindSpecs['BlockAffinity']>, (typeof BLOCK_AFFINITY_FIELDS)[number]> };
};

export const BGP_PROJECTIONS: Projections<BgpViews> = {
  Node: (res) => view(labelsOf(res), pick(res.spec, ['bgp'])),
  BGPPeer: specOnly,
  BGPConfiguration: specOnly,
  IPPool: specOnly,
  IPAMBlock: blockRoute,
  BlockAffinity: (res) => view(undefined, pick(res.spec, BLOCK_AFFINITY_FIELDS)),
};
