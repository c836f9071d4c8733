/**
 * What the calculation graph tells the dataplane driver: Calico's felix/proto
 * (`felixbackend.proto`) as plain data. The graph emits these incrementally, in batches; a driver
 * applies each batch in order and never needs to look at the datastore.
 *
 *   typha client ──Update[]──▶ CalcGraph ──DataplaneMessage[]──▶ DataplaneSink (linux, dry-run)
 *
 * ## Order inside one batch (Calico's EventSequencer.Flush)
 *
 *   ConfigUpdate
 *   IPSetUpdate* ─ IPSetDeltaUpdate* ─ ActivePolicyUpdate* ─ ActiveProfileUpdate* ─
 *   WorkloadEndpointUpdate* ─ HostEndpointUpdate*                      (additions, by dependency)
 *   WorkloadEndpointRemove* ─ HostEndpointRemove* ─ ActiveProfileRemove* ─ ActivePolicyRemove* ─
 *   IPSetRemove*                                                        (removals, reversed)
 *   HostMetadataRemove* ─ HostMetadataUpdate* ─ IPAMPoolRemove* ─ IPAMPoolUpdate* ─
 *   EncapsulationUpdate
 *   RouteRemove* ─ VXLANTunnelEndpointRemove* ─ VXLANTunnelEndpointUpdate* ─ RouteUpdate*
 *   InSync                                                              (once, after the snapshot)
 *
 * so an IP set exists before a policy names it, a policy before an endpoint lists it, a VTEP
 * before a route through it; and nothing is removed while something sent earlier still uses
 * it. Within a group, messages are sorted by id. Nothing is sent before the first InSync: the
 * whole snapshot arrives as one batch ending in InSync, then one batch per input batch that
 * changed something. An Update message replaces what was sent before under the same id.
 *
 * ## Rules
 *
 * Rules come pre-processed. Every selector is gone: the graph combined each entity's
 * `selector`, `namespaceSelector`, `serviceAccounts` and the policy's namespace into one
 * selector, as Calico's update processors do, and replaced it with the ID of an IP set whose
 * members it keeps current (`srcIpSetIds` …). A rule matches when every field it carries
 * matches; within a list field any entry may match (IP set lists: the address is in every
 * listed set; `not*` IP set lists: it is in none). Named ports become `ip-port` IP sets
 * (`*NamedPortIpSetIds`), which match address and port together; `srcPorts` and the named-port
 * sets of one side are alternatives (the port matches one of the numeric ranges, or the
 * address/port pair is in one of the sets). `position` is the rule's index in the resource's
 * `ingress`/`egress` list, for log prefixes and counters.
 *
 * Messages share structure with the graph's state and with each other: a driver treats them as
 * read-only.
 *
 * ## Tiers (WorkloadEndpoint.tiers, HostEndpoint.*Tiers)
 *
 * Per direction, a packet walks the tiers in order. A tier whose policy list for that
 * direction is empty is skipped. Otherwise the tier's policies are tried in order: Allow or
 * Deny end the walk, Pass jumps to the next tier, no match falls to the tier's end, where
 * `defaultAction` applies (Deny drops, Pass goes to the next tier). After the last tier (or if
 * no tier applied in that direction), the endpoint's profiles are tried in order; a packet no
 * profile allowed is dropped. Host endpoints add `untrackedTiers` (doNotTrack policies, end
 * action Pass), `preDnatTiers` (preDNAT policies, ingress only, end action Pass) and
 * `forwardTiers` (applyOnForward policies, for forwarded traffic).
 *
 * ## IP sets
 *
 * `net` sets hold CIDRs (`10.0.0.5/32`, `192.168.0.0/16`, `fd00::1/128`), `ip-port` sets hold
 * `addr,proto:port` (`10.0.0.5,tcp:8080`); `ip` (bare addresses) is reserved for sets the
 * driver makes itself, as in Calico. A set may mix IPv4 and IPv6 members; the driver
 * splits them per family. IDs are Calico's (`s:` + hash of the selector, `n:` + hash for named
 * ports), short enough for kernel set names after a family prefix.
 */

// ---------------------------------------------------------------------------------------------
// Shared value types

/** A policy: `tier` and `name`, plus `namespace` for a NetworkPolicy (absent: GlobalNetworkPolicy). */
export interface PolicyId {
  tier: string;
  name: string;
  namespace?: string;
}

export interface ProfileId {
  name: string;
}

/** An inclusive port range; a single port has `first === last`. */
export interface PortRange {
  first: number;
  last: number;
}

/** A protocol number, or a lower-case name (`tcp`, `udp`, `icmp`, `icmpv6`, `sctp`, `udplite`). */
export type Protocol = string | number;

export interface IcmpMatch {
  type: number;
  code?: number;
}

export type RuleAction = 'Allow' | 'Deny' | 'Log' | 'Pass';

/** One rule. Only the fields that constrain the match are present. */
export interface Rule {
  action: RuleAction;
  /** Index of the rule in the resource's `ingress` or `egress` list. */
  position: number;
  ipVersion?: 4 | 6;
  protocol?: Protocol;
  notProtocol?: Protocol;

  srcNets?: string[];
  srcPorts?: PortRange[];
  srcNamedPortIpSetIds?: string[];
  srcIpSetIds?: string[];
  dstNets?: string[];
  dstPorts?: PortRange[];
  dstNamedPortIpSetIds?: string[];
  dstIpSetIds?: string[];
  /** Kubernetes Service destinations: `ip-port` sets of the service's endpoints. */
  dstIpPortSetIds?: string[];

  notSrcNets?: string[];
  notSrcPorts?: PortRange[];
  notSrcNamedPortIpSetIds?: string[];
  notSrcIpSetIds?: string[];
  notDstNets?: string[];
  notDstPorts?: PortRange[];
  notDstNamedPortIpSetIds?: string[];
  notDstIpSetIds?: string[];

  icmp?: IcmpMatch;
  notIcmp?: IcmpMatch;
  /** The rule's `metadata.annotations`, passed through for logging. */
  annotations?: Record<string, string>;
}

export interface Policy {
  /** The NetworkPolicy's namespace; absent for a GlobalNetworkPolicy. */
  namespace?: string;
  inboundRules: Rule[];
  outboundRules: Rule[];
  /** doNotTrack: rules run before connection tracking (host endpoints only). */
  untracked?: boolean;
  /** preDNAT: ingress rules run before DNAT (host endpoints only). */
  preDnat?: boolean;
}

export interface Profile {
  inboundRules: Rule[];
  outboundRules: Rule[];
}

export interface TierInfo {
  name: string;
  /** What happens to a packet that reaches the end of the tier without a verdict. */
  defaultAction: 'Deny' | 'Pass';
  ingressPolicies: PolicyId[];
  egressPolicies: PolicyId[];
}

export interface NatInfo {
  extIp: string;
  intIp: string;
}

export interface WorkloadEndpointId {
  namespace: string;
  name: string;
}

export interface WorkloadEndpoint {
  /** The host-side interface, e.g. `cali0ef24ba`. */
  name: string;
  mac?: string;
  /** Host CIDRs (`/32`, `/128`). */
  ipv4Nets: string[];
  ipv6Nets: string[];
  ipv4Nat?: NatInfo[];
  ipv6Nat?: NatInfo[];
  allowSpoofedSourcePrefixes?: string[];
  profileIds: string[];
  tiers: TierInfo[];
}

export interface HostEndpointId {
  name: string;
}

export interface HostEndpoint {
  /** The interface, or `*` for all of the host's interfaces; absent: find it by expected IPs. */
  name?: string;
  expectedIpv4Addrs: string[];
  expectedIpv6Addrs: string[];
  profileIds: string[];
  tiers: TierInfo[];
  untrackedTiers: TierInfo[];
  preDnatTiers: TierInfo[];
  forwardTiers: TierInfo[];
}

export type IPSetType = 'ip' | 'net' | 'ip-port';

/**
 * `local-workload`: a workload on this node, via its interface.
 * `remote-workload-vxlan`: a remote node's block (or a workload it borrowed an address for) in a
 * VXLAN pool, through the VXLAN device toward that node's VTEP.
 * `remote-workload-direct`: the same for a CrossSubnet pool when the node shares our subnet:
 * via the node's address, without encapsulation.
 */
export type RouteType = 'local-workload' | 'remote-workload-vxlan' | 'remote-workload-direct';

export interface IPAMPool {
  cidr: string;
  masquerade: boolean;
  ipipMode: string;
  vxlanMode: string;
  disabled: boolean;
}

// ---------------------------------------------------------------------------------------------
// Messages

export interface ConfigUpdate {
  kind: 'ConfigUpdate';
  /** FelixConfiguration `default`, overridden key by key by `node.<this node>`. */
  config: Record<string, unknown>;
  /** ClusterInformation `default` (clusterGUID, datastoreReady, …); empty when absent. */
  clusterInformation: Record<string, unknown>;
}

export interface IPSetUpdate {
  kind: 'IPSetUpdate';
  id: string;
  type: IPSetType;
  /** The complete membership; replaces any earlier content. Sorted. */
  members: string[];
}

export interface IPSetDeltaUpdate {
  kind: 'IPSetDeltaUpdate';
  id: string;
  added: string[];
  removed: string[];
}

export interface IPSetRemove {
  kind: 'IPSetRemove';
  id: string;
}

export interface ActivePolicyUpdate {
  kind: 'ActivePolicyUpdate';
  id: PolicyId;
  policy: Policy;
}

export interface ActivePolicyRemove {
  kind: 'ActivePolicyRemove';
  id: PolicyId;
}

export interface ActiveProfileUpdate {
  kind: 'ActiveProfileUpdate';
  id: ProfileId;
  profile: Profile;
}

export interface ActiveProfileRemove {
  kind: 'ActiveProfileRemove';
  id: ProfileId;
}

export interface WorkloadEndpointUpdate {
  kind: 'WorkloadEndpointUpdate';
  id: WorkloadEndpointId;
  endpoint: WorkloadEndpoint;
}

export interface WorkloadEndpointRemove {
  kind: 'WorkloadEndpointRemove';
  id: WorkloadEndpointId;
}

export interface HostEndpointUpdate {
  kind: 'HostEndpointUpdate';
  id: HostEndpointId;
  endpoint: HostEndpoint;
}

export interface HostEndpointRemove {
  kind: 'HostEndpointRemove';
  id: HostEndpointId;
}

/** A node's addresses (without prefix length) and labels. */
export interface HostMetadataUpdate {
  kind: 'HostMetadataUpdate';
  hostname: string;
  ipv4Addr?: string;
  ipv6Addr?: string;
  labels: Record<string, string>;
}

export interface HostMetadataRemove {
  kind: 'HostMetadataRemove';
  hostname: string;
}

export interface IPAMPoolUpdate {
  kind: 'IPAMPoolUpdate';
  /** The pool's CIDR with `/` as `-` (`10.65.0.0-16`), as Calico names it. */
  id: string;
  pool: IPAMPool;
}

export interface IPAMPoolRemove {
  kind: 'IPAMPoolRemove';
  id: string;
}

/** Which encapsulations any pool uses; sent when that changes. */
export interface EncapsulationUpdate {
  kind: 'EncapsulationUpdate';
  ipipEnabled: boolean;
  vxlanEnabled: boolean;
  vxlanEnabledV6: boolean;
}

/**
 * BGPConfiguration `default`'s advertised service ranges (Calico's GlobalBGPConfigUpdate), for
 * service loop prevention; empty lists when it is absent. Sent when they change.
 */
export interface GlobalBGPConfigUpdate {
  kind: 'GlobalBGPConfigUpdate';
  serviceClusterCidrs: string[];
  serviceExternalCidrs: string[];
  serviceLoadBalancerCidrs: string[];
}

export interface RouteUpdate {
  kind: 'RouteUpdate';
  type: RouteType;
  /** Destination CIDR; the route's id. */
  dst: string;
  /** The node that owns the destination. */
  dstNodeName: string;
  /** That node's address of the destination's family (remote routes). */
  dstNodeIp?: string;
  /** The workload's interface (local-workload). */
  ifaceName?: string;
}

export interface RouteRemove {
  kind: 'RouteRemove';
  dst: string;
}

/**
 * A node's VXLAN tunnel endpoint, for every node (this one included) that has a VXLAN tunnel
 * address and a node address of the same family. `mac` defaults to Calico's derived MAC.
 */
export interface VXLANTunnelEndpointUpdate {
  kind: 'VXLANTunnelEndpointUpdate';
  node: string;
  mac?: string;
  ipv4Addr?: string;
  parentDeviceIp?: string;
  macV6?: string;
  ipv6Addr?: string;
  parentDeviceIpv6?: string;
}

export interface VXLANTunnelEndpointRemove {
  kind: 'VXLANTunnelEndpointRemove';
  node: string;
}

/** The graph has processed the complete snapshot; the driver may now remove what it did not hear about. */
export interface InSync {
  kind: 'InSync';
}

export type DataplaneMessage =
  | ConfigUpdate
  | IPSetUpdate
  | IPSetDeltaUpdate
  | IPSetRemove
  | ActivePolicyUpdate
  | ActivePolicyRemove
  | ActiveProfileUpdate
  | ActiveProfileRemove
  | WorkloadEndpointUpdate
  | WorkloadEndpointRemove
  | HostEndpointUpdate
  | HostEndpointRemove
  | HostMetadataUpdate
  | HostMetadataRemove
  | IPAMPoolUpdate
  | IPAMPoolRemove
  | EncapsulationUpdate
  | GlobalBGPConfigUpdate
  | RouteUpdate
  | RouteRemove
  | VXLANTunnelEndpointUpdate
  | VXLANTunnelEndpointRemove
  | InSync;

/** Where the graph delivers each batch: the dataplane driver's input. */
export interface DataplaneSink {
  onMessages(msgs: DataplaneMessage[]): void;
}
