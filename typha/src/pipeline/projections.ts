/**
 * What each syncer type receives, and how much of it: one table of projection functions, as
 * Calico's syncers are one list of (kind, update processor) pairs each. A projection keeps only
 * the fields that syncer's agent reads, so a change elsewhere in the resource (a workload's
 * status, an IPAM allocation, an annotation, `resourceVersion`) projects to an equal value,
 * the dedupe stage drops it, and that agent is never woken for it.
 *
 * Checked against projectcalico/calico libcalico-go/lib/backend/syncersv1: felixsyncerv1.go,
 * bgpsyncer/bgpsyncer.go, tunnelipsyncer/tunnelipsyncer.go, nodestatussyncer/nodestatussyncer.go
 * and updateprocessors/felixnodeprocessor.go.
 *
 * | kind                | felix                          | bgp (confd)            | ipam          | status         |
 * |---------------------|--------------------------------|------------------------|---------------|----------------|
 * | ClusterInformation  | spec                           | -                      | -             | -              |
 * | FelixConfiguration  | spec                           | -                      | -             | spec           |
 * | Node                | labels + routing spec (a)      | labels + spec.bgp (b)  | labels + tunnel addrs (c) | labels + status (d) |
 * | Profile             | spec                           | -                      | -             | -              |
 * | WorkloadEndpoint    | labels + dataplane spec (e)    | -                      | -             | -              |
 * | HostEndpoint        | labels + spec                  | -                      | -             | -              |
 * | NetworkPolicy       | spec                           | -                      | -             | -              |
 * | GlobalNetworkPolicy | spec                           | -                      | -             | -              |
 * | Tier                | spec                           | -                      | -             | -              |
 * | NetworkSet          | labels + spec                  | -                      | -             | -              |
 * | GlobalNetworkSet    | labels + spec                  | -                      | -             | -              |
 * | IPPool              | spec                           | spec                   | spec          | -              |
 * | IPReservation       | - (f)                          | -                      | spec          | -              |
 * | BGPConfiguration    | service IP ranges (g)          | spec                   | -             | -              |
 * | BGPPeer             | - (h)                          | spec                   | -             | -              |
 * | IPAMBlock           | cidr + affinity (i)            | cidr + affinity (i)    | spec          | -              |
 * | BlockAffinity       | - (j)                          | node, cidr, state, deleted | spec      | -              |
 * | IPAMHandle          | -                              | -                      | spec          | -              |
 * | IPAMConfiguration   | -                              | -                      | spec          | -              |
 *
 * (a) Calico's FelixNodeUpdateProcessor turns a Node into host-config keys: the IPIP tunnel
 *     address, the IPv4/IPv6 VXLAN tunnel addresses and MACs, plus the node itself (its labels
 *     and BGP addresses, which Felix uses as the next hop / VTEP parent of remote blocks).
 *     Wireguard is left out (Cattail's Felix does not do Wireguard), and so is `status`, which
 *     agents write and would otherwise wake every Felix on every report.
 * (b) confd reads the node's BGP spec (addresses, AS number, route reflector cluster id) and its
 *     labels (BGPPeer node and peer selectors). Calico's bgpsyncer sends the whole Node.
 * (c) Calico's tunnelipsyncer (IPPool + Node) is the closest Calico analogue to our `ipam`
 *     syncer: the tunnel address allocator needs each node's tunnel addresses, and
 *     `IPPool.spec.nodeSelector` needs its labels.
 * (d) Calico's status syncer carries CalicoNodeStatus only; Cattail has no such kind, so
 *     status readers get each node's labels and `status` (under `spec.status`), and
 *     FelixConfiguration for the reporting settings.
 * (e) The spec fields Calico's WorkloadEndpointUpdateProcessor keeps for Felix (interface, MAC,
 *     networks, NATs, gateways, profiles, ports, allowed spoofed prefixes, QoS) plus `node` (the
 *     local-endpoint filter) and `serviceAccountName` (policy selection). Orchestrator, workload,
 *     pod, endpoint and containerID identify the pod to people, not to the dataplane.
 * (f) Not in Calico's felix syncer: reservations only constrain IPAM.
 * (g) Felix reads BGPConfiguration only for the advertised service ranges (service loop
 *     prevention); Calico sends it whole.
 * (h) Calico sends BGPPeer to Felix for local-workload peering, which Cattail does not do.
 * (i) Calico sends whole blocks to Felix; its route resolver reads only `cidr` and `affinity`.
 *     Allocations, attributes, handles and sequence numbers change with every pod start and
 *     stop, so projecting them away is what keeps IPAM churn from waking every Felix and confd.
 *     Borrowed addresses still get routes: Felix learns them from WorkloadEndpoints.
 * (j) Not in Calico's felix syncer. Calico's bgpsyncer sends only this node's affinities; we
 *     send all (one cache and one encoding for every node) and confd filters on `spec.node`.
 *
 * Calico's StagedNetworkPolicy kinds, BGPFilter and the Kubernetes-native kinds have no Cattail
 * kind yet; add a row here when they do.
 */
import type { Resource } from '@cattail/api';
import type { ProjectedValue, SyncerType } from '../protocol/messages.js';

/** One kind's projection for one syncer: pure, shares sub-objects with the resource. */
export type Projection = (res: Resource) => ProjectedValue;

export type ProjectionTable = Readonly<Record<SyncerType, ReadonlyMap<string, Projection>>>;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The listed fields that are present, or undefined when none is. */
function pick(src: unknown, fields: readonly string[]): Obj | undefined {
  if (!isObj(src)) return undefined;
  let out: Obj | undefined;
  for (const f of fields) {
    const v = src[f];
    if (v !== undefined) (out ??= {})[f] = v;
  }
  return out;
}

function labelsOf(res: Resource): Record<string, string> | undefined {
  const l = res.metadata?.labels;
  if (!isObj(l)) return undefined;
  for (const _ in l) return l;
  return undefined;
}

function value(labels: Record<string, string> | undefined, spec: Obj | undefined): ProjectedValue {
  const v: ProjectedValue = {};
  if (labels) v.labels = labels;
  if (spec) v.spec = spec;
  return v;
}

const specOnly: Projection = (res) => value(undefined, isObj(res.spec) ? res.spec : undefined);
const labelsAndSpec: Projection = (res) => value(labelsOf(res), isObj(res.spec) ? res.spec : undefined);

const FELIX_NODE_FIELDS = ['ipv4VXLANTunnelAddr', 'vxlanTunnelMACAddr', 'ipv6VXLANTunnelAddr', 'vxlanTunnelMACAddrV6'];
const FELIX_NODE_BGP_FIELDS = ['ipv4Address', 'ipv6Address', 'ipv4IPIPTunnelAddr'];
const felixNode: Projection = (res) => {
  const spec = pick(res.spec, FELIX_NODE_FIELDS);
  const bgp = pick((res.spec as Obj | undefined)?.bgp, FELIX_NODE_BGP_FIELDS);
  return value(labelsOf(res), bgp ? { ...spec, bgp } : spec);
};

const bgpNode: Projection = (res) => value(labelsOf(res), pick(res.spec, ['bgp']));

const IPAM_NODE_FIELDS = ['ipv4VXLANTunnelAddr', 'ipv6VXLANTunnelAddr'];
const ipamNode: Projection = (res) => {
  const s = res.spec as Obj | undefined;
  const spec = pick(s, IPAM_NODE_FIELDS);
  const bgp = pick(s?.bgp, ['ipv4IPIPTunnelAddr']);
  const wireguard = pick(s?.wireguard, ['interfaceIPv4Address', 'interfaceIPv6Address']);
  if (!bgp && !wireguard) return value(labelsOf(res), spec);
  const out: Obj = { ...spec };
  if (bgp) out.bgp = bgp;
  if (wireguard) out.wireguard = wireguard;
  return value(labelsOf(res), out);
};

const statusNode: Projection = (res) => value(labelsOf(res), res.status === undefined ? undefined : { status: res.status });

const WEP_FIELDS = [
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
];
const felixWorkloadEndpoint: Projection = (res) => value(labelsOf(res), pick(res.spec, WEP_FIELDS));

const felixBgpConfiguration: Projection = (res) =>
  value(undefined, pick(res.spec, ['serviceClusterIPs', 'serviceExternalIPs', 'serviceLoadBalancerIPs']));

const blockRoute: Projection = (res) => value(undefined, pick(res.spec, ['cidr', 'affinity']));

const bgpBlockAffinity: Projection = (res) => value(undefined, pick(res.spec, ['node', 'cidr', 'state', 'deleted']));

function table(entries: Record<string, Projection>): ReadonlyMap<string, Projection> {
  return new Map(Object.entries(entries));
}

export const PROJECTIONS: ProjectionTable = Object.freeze({
  felix: table({
    ClusterInformation: specOnly,
    FelixConfiguration: specOnly,
    Node: felixNode,
    Profile: specOnly,
    WorkloadEndpoint: felixWorkloadEndpoint,
    HostEndpoint: labelsAndSpec,
    NetworkPolicy: specOnly,
    GlobalNetworkPolicy: specOnly,
    Tier: specOnly,
    NetworkSet: labelsAndSpec,
    GlobalNetworkSet: labelsAndSpec,
    IPPool: specOnly,
    BGPConfiguration: felixBgpConfiguration,
    IPAMBlock: blockRoute,
  }),
  bgp: table({
    Node: bgpNode,
    BGPPeer: specOnly,
    BGPConfiguration: specOnly,
    IPPool: specOnly,
    IPAMBlock: blockRoute,
    BlockAffinity: bgpBlockAffinity,
  }),
  ipam: table({
    IPPool: specOnly,
    IPReservation: specOnly,
    IPAMBlock: specOnly,
    BlockAffinity: specOnly,
    IPAMHandle: specOnly,
    IPAMConfiguration: specOnly,
    Node: ipamNode,
  }),
  status: table({
    Node: statusNode,
    FelixConfiguration: specOnly,
  }),
});

/** The kinds a syncer receives, for `/status` and docs. */
export function syncerKinds(syncer: SyncerType, projections: ProjectionTable = PROJECTIONS): string[] {
  return [...projections[syncer].keys()];
}
