// Resources as an operator writes them, turned into what confd receives: each is decoded,
// defaulted and validated by @cattail/api (as the datastore and Typha do) and projected by
// Typha's real bgp projection, so a scenario cannot hold anything the real pipeline would not
// deliver.
import assert from 'node:assert/strict';
import { checkResource, type Resource } from '@cattail/api';
import { projectionTable, projectUpdate } from '@cattail/typha';
import type { KindOf, SyncerUpdate } from '@cattail/typha/protocol';

const V3 = 'projectcalico.org/v3';

export interface NodeOptions {
  ipv4?: string;
  ipv6?: string;
  as?: number | string;
  rr?: string;
  labels?: Record<string, string>;
}

export function node(name: string, o: NodeOptions): Resource {
  const bgp: Record<string, unknown> = {};
  if (o.ipv4) bgp.ipv4Address = o.ipv4;
  if (o.ipv6) bgp.ipv6Address = o.ipv6;
  if (o.as !== undefined) bgp.asNumber = o.as;
  if (o.rr) bgp.routeReflectorClusterID = o.rr;
  return { apiVersion: V3, kind: 'Node', metadata: { name, ...(o.labels ? { labels: o.labels } : {}) }, spec: { bgp } };
}

export function peer(name: string, spec: Record<string, unknown>): Resource {
  return { apiVersion: V3, kind: 'BGPPeer', metadata: { name }, spec };
}

export function bgpConfig(name: string, spec: Record<string, unknown>): Resource {
  return { apiVersion: V3, kind: 'BGPConfiguration', metadata: { name }, spec };
}

export function pool(name: string, cidr: string, extra: Record<string, unknown> = {}): Resource {
  return { apiVersion: V3, kind: 'IPPool', metadata: { name }, spec: { cidr, ...extra } };
}

export function bgpFilter(name: string, spec: Record<string, unknown>): Resource {
  return { apiVersion: V3, kind: 'BGPFilter', metadata: { name }, spec };
}

/** A Kubernetes pod's WorkloadEndpoint on `nodeName` (its name derived by the API). */
export function workload(nodeName: string, pod: string, ipNetworks: string[], labels: Record<string, string>, namespace = 'default'): Resource {
  return {
    apiVersion: V3,
    kind: 'WorkloadEndpoint',
    metadata: { name: '', namespace, labels },
    spec: { orchestrator: 'k8s', node: nodeName, pod, endpoint: 'eth0', interfaceName: `cali${pod}`.slice(0, 15), ipNetworks },
  };
}

/** An IPAMBlock affine to `host:<node>` (or unaffine with node undefined). */
export function block(cidr: string, nodeName: string | undefined): Resource {
  return { apiVersion: V3, kind: 'IPAMBlock', metadata: { name: '' }, spec: { cidr, ...(nodeName ? { affinity: `host:${nodeName}` } : {}) } };
}

export function affinity(nodeName: string, cidr: string, state = 'confirmed', deleted = false): Resource {
  return { apiVersion: V3, kind: 'BlockAffinity', metadata: { name: '' }, spec: { node: nodeName, cidr, state, deleted } };
}

/** Validated, defaulted copies; fails the test on an invalid resource. */
export function checked(resources: readonly Resource[]): Resource[] {
  return resources.map((r) => {
    const res = checkResource(r);
    assert.ok(res.ok, `invalid test resource: ${JSON.stringify(res.ok ? '' : res.issues)}`);
    return res.resource;
  });
}

/** Typha's projections with WorkloadEndpoints on the bgp syncer (TYPHA_BGPSYNCERWORKLOADENDPOINTS=true). */
const PROJECTIONS = projectionTable({ bgpWorkloadEndpoints: true });

/** What the bgp syncer sends for these resources (WorkloadEndpoints included, as Typha does when told to). */
export function bgpUpdates(resources: readonly Resource[], revision = 1): SyncerUpdate<'bgp'>[] {
  return checked(resources).map((r) => {
    const ns = r.metadata.namespace;
    const u = projectUpdate('bgp', { key: '', kind: r.kind, name: r.metadata.name, ...(ns ? { namespace: ns } : {}), revision, resource: r }, PROJECTIONS);
    assert.ok(u, `the bgp syncer does not carry ${r.kind}`);
    return u;
  });
}

export function deletion(kind: KindOf<'bgp'>, name: string, revision = 2): SyncerUpdate<'bgp'> {
  return { kind, name, revision };
}

/** A Kubernetes Service as the Kubernetes datastore presents it (KubernetesService). */
export function service(namespace: string, name: string, spec: Record<string, unknown>): Resource {
  return { apiVersion: V3, kind: 'KubernetesService', metadata: { name, namespace }, spec };
}

/** An EndpointSlice of Service `svc` (KubernetesEndpointSlice): endpoints as [address, node, ready]. */
export function endpointSlice(namespace: string, name: string, svc: string, endpoints: Array<[string, string, boolean]>): Resource {
  return {
    apiVersion: V3,
    kind: 'KubernetesEndpointSlice',
    metadata: { name, namespace },
    spec: {
      serviceName: svc,
      addressType: endpoints[0]?.[0].includes(':') ? 'IPv6' : 'IPv4',
      endpoints: endpoints.map(([address, nodeName, ready]) => ({ addresses: [address], nodeName, ready })),
      ports: [{ protocol: 'TCP', port: 8080 }],
    },
  };
}
