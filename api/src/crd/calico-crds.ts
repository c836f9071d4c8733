/**
 * Which Cattail kinds Calico's Kubernetes datastore (KDD) keeps as CustomResourceDefinitions in
 * group `crd.projectcalico.org`, version `v1`, and under what names. The names are Calico's, as in
 * its CRD manifests (`libcalico-go/config/crd/crd.projectcalico.org_<plural>.yaml`): a CRD object
 * of kind `IPPool` holds the v3 spec as its own spec.
 *
 * Most kinds keep their Kind and plural; one does not: IPAM configuration is the v3 kind
 * `IPAMConfiguration` but the CRD kind `IPAMConfig` (plural `ipamconfigs`), as libcalico-go's
 * Kubernetes backend names it. Calico's CRDs declare no short names and no categories (calicoctl's
 * aliases, `kinds.ts`, are calicoctl's own) and, for these kinds, no status subresource; each
 * entry says so explicitly rather than by omission. (IPPool and Tier carry a `status` with newer
 * Calico's conditions in our model, so their schemas describe it, as a plain field.)
 *
 * Three of our kinds are not CRDs in KDD: the Kubernetes backend derives them from Kubernetes'
 * own objects, so there is nothing to install for them.
 */

export interface CalicoCRD {
  /** The CRD's `spec.names.kind` (differs from the v3 Kind only for IPAM configuration). */
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  /** Whether Calico's CRD has `subresources.status`. */
  readonly statusSubresource: boolean;
}

export const CRD_GROUP = 'crd.projectcalico.org';
export const CRD_VERSION = 'v1';

/** Cattail Kind → the CRD Calico stores it as. Scope comes from `kinds.ts` (`namespaced`). */
export const CALICO_CRDS: Readonly<Record<string, CalicoCRD>> = {
  BGPConfiguration: crd('BGPConfiguration', 'bgpconfigurations'),
  BGPFilter: crd('BGPFilter', 'bgpfilters'),
  BGPPeer: crd('BGPPeer', 'bgppeers'),
  BlockAffinity: crd('BlockAffinity', 'blockaffinities'),
  CalicoNodeStatus: crd('CalicoNodeStatus', 'caliconodestatuses'),
  ClusterInformation: crd('ClusterInformation', 'clusterinformations'),
  FelixConfiguration: crd('FelixConfiguration', 'felixconfigurations'),
  GlobalNetworkPolicy: crd('GlobalNetworkPolicy', 'globalnetworkpolicies'),
  GlobalNetworkSet: crd('GlobalNetworkSet', 'globalnetworksets'),
  HostEndpoint: crd('HostEndpoint', 'hostendpoints'),
  IPPool: crd('IPPool', 'ippools'),
  KubeControllersConfiguration: crd('KubeControllersConfiguration', 'kubecontrollersconfigurations'),
  IPReservation: crd('IPReservation', 'ipreservations'),
  NetworkPolicy: crd('NetworkPolicy', 'networkpolicies'),
  NetworkSet: crd('NetworkSet', 'networksets'),
  StagedGlobalNetworkPolicy: crd('StagedGlobalNetworkPolicy', 'stagedglobalnetworkpolicies'),
  StagedKubernetesNetworkPolicy: crd('StagedKubernetesNetworkPolicy', 'stagedkubernetesnetworkpolicies'),
  StagedNetworkPolicy: crd('StagedNetworkPolicy', 'stagednetworkpolicies'),
  Tier: crd('Tier', 'tiers'),
  IPAMBlock: crd('IPAMBlock', 'ipamblocks'),
  IPAMHandle: crd('IPAMHandle', 'ipamhandles'),
  IPAMConfiguration: crd('IPAMConfig', 'ipamconfigs'),
};

/** Cattail Kind → why Calico has no CRD for it in KDD. */
export const NOT_CRDS: Readonly<Record<string, string>> = {
  Node: "derived from the Kubernetes Node (Calico's fields are annotations and labels on it)",
  Profile: 'derived from Kubernetes Namespaces (kns.<namespace>) and ServiceAccounts (ksa.<namespace>.<name>)',
  WorkloadEndpoint: 'derived from Pods (the CNI plugin writes the pod IPs as annotations on the Pod)',
  KubernetesService: 'read from Kubernetes Services (for `services` in rules and service IP advertisement); not a Calico resource',
  KubernetesEndpointSlice: 'read from Kubernetes EndpointSlices (discovery.k8s.io/v1); not a Calico resource',
};

function crd(kind: string, plural: string): CalicoCRD {
  return Object.freeze({ kind, plural, singular: kind.toLowerCase(), statusSubresource: false });
}
