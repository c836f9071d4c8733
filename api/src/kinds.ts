/**
 * The registry of kinds: the names an operator may type (calicoctl's kind names, plurals and
 * short names), whether the kind is namespaced, and where it lives in etcd. Everything that maps
 * user input or etcd keys to a kind goes through here, so adding a kind is one table row plus
 * its validator.
 *
 * `storage: 'resource'` kinds live under /calico/resources/v3/projectcalico.org/<plural>/...
 * holding the whole v3 object as JSON; `storage: 'ipam'` kinds are Calico's IPAM records under
 * /calico/ipam/v2/..., stored in libcalico-go's model JSON and presented here as v3-style
 * resources (IPAMBlock, BlockAffinity, IPAMHandle, IPAMConfiguration), as Calico's own
 * Kubernetes backend presents them.
 */

export interface KindInfo {
  readonly kind: string;
  /** Lower-case plural: the etcd path segment and calicoctl's plural. */
  readonly plural: string;
  /** Every accepted spelling, lower case: singular, plural, short names. */
  readonly aliases: readonly string[];
  readonly namespaced: boolean;
  readonly storage: 'resource' | 'ipam';
  /**
   * Read from Kubernetes objects by the Kubernetes datastore only (KubernetesService,
   * KubernetesEndpointSlice): no CRD, never written, never in etcd. Tools refuse to write one.
   */
  readonly kubernetesOnly?: boolean;
}

const KINDS: readonly KindInfo[] = [
  info('BGPConfiguration', 'bgpconfigurations', ['bgpconfig', 'bgpconfigs']),
  info('BGPFilter', 'bgpfilters', ['bgpf', 'bgpfs', 'bf', 'bfs']),
  info('BGPPeer', 'bgppeers', ['bgpp', 'bgpps', 'bp', 'bps']),
  info('CalicoNodeStatus', 'caliconodestatuses', ['nodestatus', 'nodestatuses']),
  info('ClusterInformation', 'clusterinformations', ['clusterinfo', 'clusterinfos']),
  info('FelixConfiguration', 'felixconfigurations', ['felixconfig', 'felixconfigs']),
  info('GlobalNetworkPolicy', 'globalnetworkpolicies', ['gnp', 'gnps']),
  info('GlobalNetworkSet', 'globalnetworksets', []),
  info('HostEndpoint', 'hostendpoints', ['hep', 'heps']),
  info('KubernetesEndpointSlice', 'kubernetesendpointslices', [], true, 'resource', true),
  info('KubernetesService', 'kubernetesservices', [], true, 'resource', true),
  info('KubeControllersConfiguration', 'kubecontrollersconfigurations', ['kubecontrollersconfig', 'kubecontrollersconfigs']),
  info('IPPool', 'ippools', ['ipp', 'ipps', 'pool', 'pools']),
  info('IPReservation', 'ipreservations', ['reservation', 'reservations']),
  info('NetworkPolicy', 'networkpolicies', ['np', 'policy', 'policies', 'pol', 'pols'], true),
  info('NetworkSet', 'networksets', ['netsets'], true),
  info('Node', 'nodes', ['no', 'nos']),
  info('Profile', 'profiles', ['pro', 'pros']),
  info('StagedGlobalNetworkPolicy', 'stagedglobalnetworkpolicies', ['sgnp', 'sgnps']),
  info(
    'StagedKubernetesNetworkPolicy',
    'stagedkubernetesnetworkpolicies',
    ['stagedkubernetespolicy', 'stagedkubernetespolicies', 'sknp', 'skpol', 'skpols'],
    true,
  ),
  info('StagedNetworkPolicy', 'stagednetworkpolicies', ['stagedpolicy', 'stagedpolicies', 'snp', 'spol', 'spols'], true),
  info('Tier', 'tiers', []),
  info('WorkloadEndpoint', 'workloadendpoints', ['wep', 'weps'], true),
  info('IPAMBlock', 'ipamblocks', ['ipamblock', 'block', 'blocks'], false, 'ipam'),
  info('BlockAffinity', 'blockaffinities', ['blockaffinity', 'affinity', 'affinities'], false, 'ipam'),
  info('IPAMHandle', 'ipamhandles', ['ipamhandle', 'handle', 'handles'], false, 'ipam'),
  info('IPAMConfiguration', 'ipamconfigurations', ['ipamconfig', 'ipamconfigs'], false, 'ipam'),
];

function info(kind: string, plural: string, short: string[], namespaced = false, storage: KindInfo['storage'] = 'resource', kubernetesOnly = false): KindInfo {
  const aliases = [...new Set([kind.toLowerCase(), plural, ...short])];
  return Object.freeze({ kind, plural, aliases: Object.freeze(aliases), namespaced, storage, ...(kubernetesOnly ? { kubernetesOnly } : {}) });
}

const BY_NAME = new Map<string, KindInfo>();
for (const k of KINDS) {
  BY_NAME.set(k.kind, k);
  for (const a of k.aliases) BY_NAME.set(a, k);
}
const BY_PLURAL = new Map(KINDS.map((k) => [k.plural, k]));

/** All kinds, in a stable order. */
export function allKinds(): readonly KindInfo[] {
  return KINDS;
}

/** Look a kind up by its exact Kind, or any alias in any case (`IPPool`, `ippools`, `pool`). */
export function findKind(name: string): KindInfo | undefined {
  return BY_NAME.get(name) ?? BY_NAME.get(name.toLowerCase());
}

export function kindByPlural(plural: string): KindInfo | undefined {
  return BY_PLURAL.get(plural);
}
