/**
 * What calico/node's startup and kube-controllers write, done by the lab: the IP pool (VXLAN
 * Always in VXLAN mode, no encapsulation in BGP mode; natOutgoing, as calico/node's default
 * pool has it), BGPConfiguration `default`, one Node per
 * node (its fabric address as `bgp.ipv4Address`, and in VXLAN mode a tunnel address from IPAM),
 * and the profiles Calico's Kubernetes integration keeps per namespace (`kns.<ns>`, allowing
 * everything and carrying the namespace's labels as `pcns.` labels) and per service account
 * (`ksa.<ns>.<sa>`, labels only). Every write is an apply (create or update), so `up` converges.
 */
import { checkResource, type Resource } from '@cattail/api';
import { EtcdDatastore, NotFoundError, kdd, type Datastore } from '@cattail/datastore';
import { kubeconfigPath } from './kube.js';
import { LabError } from './errors.js';
import { POD_NAMESPACES, type LabMode } from './names.js';
import { datastoreOf, etcdEndpoint, type LabState, type NodeRecord } from './state.js';

const V3 = 'projectcalico.org/v3';
export const POOL_NAME = 'lab-pool';
export const DEFAULT_POOL_CIDR = '10.66.0.0/16';
const AS_NUMBER = 64512;

/** The lab's datastore: its etcd, or its API server (`dir` holds the kubeconfig). */
export function openDatastore(state: Pick<LabState, 'etcd' | 'datastore'>, dir: string): Datastore {
  if (datastoreOf(state) === 'kubernetes') return new kdd.KubeDatastore({ kubeconfigPath: kubeconfigPath(dir) });
  return new EtcdDatastore({ endpoints: [etcdEndpoint(state)], dialTimeoutMs: 2000, requestTimeoutMs: 5000 });
}

/** Validates (with Calico's defaults) and creates or updates. */
export async function applyResource(ds: Datastore, doc: Resource): Promise<Resource> {
  const res = checkResource(doc);
  if (!res.ok) throw new LabError('LAB_INVALID_RESOURCE', `${doc.kind} ${doc.metadata.name}: ${res.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  const r = res.resource;
  try {
    const cur = await ds.get({ kind: r.kind, name: r.metadata.name, namespace: r.metadata.namespace });
    return await ds.update({ ...r, metadata: { ...r.metadata, resourceVersion: cur.metadata.resourceVersion } });
  } catch (err) {
    if (err instanceof NotFoundError) return ds.create(r);
    throw err;
  }
}

function poolResource(cidr: string, mode: LabMode): Resource {
  return {
    apiVersion: V3,
    kind: 'IPPool',
    metadata: { name: POOL_NAME },
    spec: { cidr, blockSize: 26, ipipMode: 'Never', vxlanMode: mode === 'vxlan' ? 'Always' : 'Never', natOutgoing: true, nodeSelector: 'all()' },
  };
}

function namespaceProfiles(): Resource[] {
  const out: Resource[] = [];
  for (const ns of POD_NAMESPACES) {
    const labelsToApply: Record<string, string> = { 'pcns.projectcalico.org/name': ns.name };
    for (const [k, v] of Object.entries(ns.labels)) labelsToApply[`pcns.${k}`] = v;
    out.push({
      apiVersion: V3,
      kind: 'Profile',
      metadata: { name: `kns.${ns.name}` },
      spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }], labelsToApply },
    });
    out.push({
      apiVersion: V3,
      kind: 'Profile',
      metadata: { name: `ksa.${ns.name}.default` },
      spec: { labelsToApply: { 'pcsa.projectcalico.org/name': 'default' } },
    });
  }
  return out;
}

/** The cluster-wide resources: pool, BGP defaults, namespace and service-account profiles. */
export async function ensureClusterResources(ds: Datastore, state: LabState): Promise<void> {
  await applyResource(ds, poolResource(state.poolCidr, state.mode));
  await applyResource(ds, {
    apiVersion: V3,
    kind: 'BGPConfiguration',
    metadata: { name: 'default' },
    spec: { nodeToNodeMeshEnabled: true, asNumber: AS_NUMBER, logSeverityScreen: 'Info' },
  });
  // On the Kubernetes datastore the profiles are derived from the Namespaces and ServiceAccounts.
  if (datastoreOf(state) === 'etcdv3') for (const p of namespaceProfiles()) await applyResource(ds, p);
}

function nodeResource(node: NodeRecord): Resource {
  const spec: Record<string, unknown> = { bgp: { ipv4Address: `${node.address}/24` }, orchRefs: [{ nodeName: node.name, orchestrator: 'k8s' }] };
  if (node.vxlanTunnelAddr) spec.ipv4VXLANTunnelAddr = node.vxlanTunnelAddr;
  return { apiVersion: V3, kind: 'Node', metadata: { name: node.name, labels: { 'kubernetes.io/hostname': node.name } }, spec };
}

export async function ensureNodeResource(ds: Datastore, node: NodeRecord): Promise<void> {
  await applyResource(ds, nodeResource(node));
}
