/**
 * The validation declaration of every kind in `api/src/kinds.ts`, by Kind name. A kind added to
 * the registry there needs its declaration here (a test checks that the two lists agree).
 */
import type { KindDef } from '../validation/kind-def.js';
import { bgpConfiguration } from './bgp-configuration.js';
import { bgpPeer } from './bgp-peer.js';
import { blockAffinity } from './block-affinity.js';
import { clusterInformation } from './cluster-information.js';
import { felixConfiguration } from './felix-configuration.js';
import { globalNetworkPolicy } from './global-network-policy.js';
import { hostEndpoint } from './host-endpoint.js';
import { ipPool } from './ip-pool.js';
import { ipReservation } from './ip-reservation.js';
import { ipamBlock } from './ipam-block.js';
import { ipamConfiguration } from './ipam-configuration.js';
import { ipamHandle } from './ipam-handle.js';
import { globalNetworkSet, networkSet } from './network-set.js';
import { networkPolicy } from './network-policy.js';
import { node } from './node.js';
import { profile } from './profile.js';
import { tier } from './tier.js';
import { workloadEndpoint } from './workload-endpoint.js';

const DEFS: readonly KindDef[] = [
  bgpConfiguration,
  bgpPeer,
  blockAffinity,
  clusterInformation,
  felixConfiguration,
  globalNetworkPolicy,
  globalNetworkSet,
  hostEndpoint,
  ipPool,
  ipReservation,
  ipamBlock,
  ipamConfiguration,
  ipamHandle,
  networkPolicy,
  networkSet,
  node,
  profile,
  tier,
  workloadEndpoint,
];

const BY_KIND = new Map(DEFS.map((d) => [d.kind, d]));

export function kindDef(kind: string): KindDef | undefined {
  return BY_KIND.get(kind);
}

export function allKindDefs(): readonly KindDef[] {
  return DEFS;
}

export type { BGPConfigurationSpec } from './bgp-configuration.js';
export type { BGPPeerSpec } from './bgp-peer.js';
export type { BlockAffinitySpec } from './block-affinity.js';
export type { ClusterInformationSpec } from './cluster-information.js';
export type { FelixConfigurationSpec } from './felix-configuration.js';
export type { GlobalNetworkPolicySpec } from './global-network-policy.js';
export type { HostEndpointSpec } from './host-endpoint.js';
export type { IPPoolSpec } from './ip-pool.js';
export type { IPReservationSpec } from './ip-reservation.js';
export type { IPAMBlockSpec } from './ipam-block.js';
export type { IPAMConfigurationSpec } from './ipam-configuration.js';
export type { IPAMHandleSpec } from './ipam-handle.js';
export type { GlobalNetworkSetSpec, NetworkSetSpec } from './network-set.js';
export type { NetworkPolicySpec } from './network-policy.js';
export type { NodeSpec, NodeStatus } from './node.js';
export type { ProfileSpec } from './profile.js';
export type { EntityRule, Rule } from './rule.js';
export type { TierSpec } from './tier.js';
export type { WorkloadEndpointSpec } from './workload-endpoint.js';
