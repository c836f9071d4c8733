/**
 * The validation declaration of every kind in `api/src/kinds.ts`, by Kind name. A kind added to
 * the registry there needs its declaration here (a test checks that the two lists agree).
 */
import type { KindDef } from '../validation/kind-def.js';
import type { BGPFilterSpec } from './bgp-filter.js';
import type { CalicoNodeStatusSpec, CalicoNodeStatusStatus } from './calico-node-status.js';
import type { KubeControllersConfigurationSpec } from './kube-controllers-configuration.js';
import type { KubernetesEndpointSliceSpec, KubernetesServiceSpec } from './kubernetes-service.js';
import type { StagedGlobalNetworkPolicySpec } from './staged-global-network-policy.js';
import type { StagedKubernetesNetworkPolicySpec } from './staged-kubernetes-network-policy.js';
import type { StagedNetworkPolicySpec } from './staged-network-policy.js';
import type { BGPConfigurationSpec } from './bgp-configuration.js';
import type { BGPPeerSpec } from './bgp-peer.js';
import type { BlockAffinitySpec } from './block-affinity.js';
import type { ClusterInformationSpec } from './cluster-information.js';
import type { FelixConfigurationSpec } from './felix-configuration.js';
import type { GlobalNetworkPolicySpec } from './global-network-policy.js';
import type { HostEndpointSpec } from './host-endpoint.js';
import type { IPPoolSpec } from './ip-pool.js';
import type { IPReservationSpec } from './ip-reservation.js';
import type { IPAMBlockSpec } from './ipam-block.js';
import type { IPAMConfigurationSpec } from './ipam-configuration.js';
import type { IPAMHandleSpec } from './ipam-handle.js';
import type { GlobalNetworkSetSpec, NetworkSetSpec } from './network-set.js';
import type { NetworkPolicySpec } from './network-policy.js';
import type { NodeSpec, NodeStatus } from './node.js';
import type { ProfileSpec } from './profile.js';
import type { TierSpec } from './tier.js';
import type { WorkloadEndpointSpec } from './workload-endpoint.js';
import { bgpConfiguration } from './bgp-configuration.js';
import { bgpFilter } from './bgp-filter.js';
import { calicoNodeStatus } from './calico-node-status.js';
import { kubeControllersConfiguration } from './kube-controllers-configuration.js';
import { kubernetesEndpointSlice, kubernetesService } from './kubernetes-service.js';
import { stagedGlobalNetworkPolicy } from './staged-global-network-policy.js';
import { stagedKubernetesNetworkPolicy } from './staged-kubernetes-network-policy.js';
import { stagedNetworkPolicy } from './staged-network-policy.js';
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
  bgpFilter,
  bgpPeer,
  blockAffinity,
  calicoNodeStatus,
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
  kubeControllersConfiguration,
  kubernetesEndpointSlice,
  kubernetesService,
  networkPolicy,
  networkSet,
  node,
  profile,
  stagedGlobalNetworkPolicy,
  stagedKubernetesNetworkPolicy,
  stagedNetworkPolicy,
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

/**
 * Each kind's spec type by Kind name, for code that is generic in the kind (Typha's typed
 * syncer views). A kind added to DEFS gets its row here.
 */
export interface KindSpecs {
  BGPConfiguration: BGPConfigurationSpec;
  BGPFilter: BGPFilterSpec;
  BGPPeer: BGPPeerSpec;
  BlockAffinity: BlockAffinitySpec;
  CalicoNodeStatus: CalicoNodeStatusSpec;
  ClusterInformation: ClusterInformationSpec;
  FelixConfiguration: FelixConfigurationSpec;
  GlobalNetworkPolicy: GlobalNetworkPolicySpec;
  GlobalNetworkSet: GlobalNetworkSetSpec;
  HostEndpoint: HostEndpointSpec;
  IPPool: IPPoolSpec;
  IPReservation: IPReservationSpec;
  IPAMBlock: IPAMBlockSpec;
  IPAMConfiguration: IPAMConfigurationSpec;
  IPAMHandle: IPAMHandleSpec;
  KubeControllersConfiguration: KubeControllersConfigurationSpec;
  KubernetesEndpointSlice: KubernetesEndpointSliceSpec;
  KubernetesService: KubernetesServiceSpec;
  NetworkPolicy: NetworkPolicySpec;
  NetworkSet: NetworkSetSpec;
  Node: NodeSpec;
  Profile: ProfileSpec;
  StagedGlobalNetworkPolicy: StagedGlobalNetworkPolicySpec;
  StagedKubernetesNetworkPolicy: StagedKubernetesNetworkPolicySpec;
  StagedNetworkPolicy: StagedNetworkPolicySpec;
  Tier: TierSpec;
  WorkloadEndpoint: WorkloadEndpointSpec;
}

/** The kinds whose `status` has a schema (the others have none), and its type. */
export interface KindStatuses {
  CalicoNodeStatus: CalicoNodeStatusStatus;
  Node: NodeStatus;
}

export type KindName = keyof KindSpecs;

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
export type { BGPFilterSpec } from './bgp-filter.js';
export type { CalicoNodeStatusSpec, CalicoNodeStatusStatus } from './calico-node-status.js';
export type { KubeControllersConfigurationSpec } from './kube-controllers-configuration.js';
export type { StagedGlobalNetworkPolicySpec } from './staged-global-network-policy.js';
export type { StagedKubernetesNetworkPolicySpec } from './staged-kubernetes-network-policy.js';
export type { StagedNetworkPolicySpec } from './staged-network-policy.js';
