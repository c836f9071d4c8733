/**
 * What the KDD backend follows on the API server, one collection each: Calico's CRD kinds
 * (`crd.projectcalico.org/v1`, decoded by ./crd-codec.ts) and the Kubernetes objects Calico
 * derives resources from (./convert/). A source names the collection's path and turns one
 * object into the Calico resource it stands for, under that resource's etcd key, so everything
 * downstream (Typha's watcher classifies keys with `parseKey`) reads KDD data as it reads etcd's.
 *
 *   source            path                                   gives
 *   crd(<Kind>)       /apis/crd.projectcalico.org/v1/<plural>  the v3 resource, or corrupt value
 *   pods              /api/v1/pods                             WorkloadEndpoint (or none: skipped)
 *   namespaces        /api/v1/namespaces                       Profile kns.<ns>
 *   serviceaccounts   /api/v1/serviceaccounts                  Profile ksa.<ns>.<sa>
 *   networkpolicies   /apis/networking.k8s.io/v1/networkpolicies  NetworkPolicy knp.default.<name>
 *   nodes             /api/v1/nodes                            Node
 *   services          /api/v1/services                         KubernetesService
 *   endpointslices    /apis/discovery.k8s.io/v1/endpointslices KubernetesEndpointSlice (slices of a Service)
 *
 * Each Kubernetes object maps to at most one Calico resource; the watcher keys what it has
 * delivered by the object (namespace/name), so a pod that loses its IP, or a corrupt object,
 * becomes a delete of the key it had.
 */
import { CorruptValueError, keyFor, type Resource } from '@cattail/api';
import {
  k8sNetworkPolicyToCalico,
  endpointSliceToCalico,
  k8sNodeToCalico,
  namespaceToProfile,
  podToWorkloadEndpoint,
  serviceAccountToProfile,
  serviceToCalico,
  type ConversionResult,
  type K8sEndpointSlice,
  type K8sNamespace,
  type K8sNetworkPolicy,
  type K8sNode,
  type K8sPod,
  type K8sService,
  type K8sServiceAccount,
} from './convert/index.js';
import { fromCrdObject, crdKind, type CrdKind, type KubeObject } from './crd-codec.js';
import { CRD_GROUP, CRD_VERSION } from '@cattail/api';

/** One object as the source reads it. */
export type Decoded =
  /** The Calico resource the object stands for. */
  | { outcome: 'resource'; key: string; resource: Resource }
  /** The object is Calico's but its value is corrupt: downstream drops the key (and counts it). */
  | { outcome: 'corrupt'; key: string; error: CorruptValueError }
  /** No Calico counterpart by Calico's rules (a host-network pod, a pod without an IP). */
  | { outcome: 'none'; reason: string }
  /** Malformed in a way Calico refuses too; `message` says what. */
  | { outcome: 'failed'; message: string };

export interface KubeSource {
  /** For logs, metrics and errors: the CRD kind, or the Kubernetes resource (`pods`). */
  readonly name: string;
  /** The kind of the objects, for messages about one (`Pod`, `NetworkPolicy (networking.k8s.io)`). */
  readonly kind: string;
  /** Namespaced collection (a namespace may narrow the list and watch). */
  readonly namespaced: boolean;
  /** `/api/v1/pods`, `/api/v1/namespaces/<ns>/pods` with a namespace, `…/pods/<name>` for one object. */
  path(namespace?: string, name?: string): string;
  decode(obj: unknown): Decoded;
}

/** The identity of a Kubernetes object in its collection: `namespace/name` or `name`. */
export function objectId(obj: unknown): string | undefined {
  const meta = (obj as KubeObject | undefined)?.metadata;
  if (typeof meta?.name !== 'string') return undefined;
  return typeof meta.namespace === 'string' && meta.namespace !== '' ? `${meta.namespace}/${meta.name}` : meta.name;
}

export function objectResourceVersion(obj: unknown): string | undefined {
  const rv = (obj as KubeObject | undefined)?.metadata?.resourceVersion;
  return typeof rv === 'string' ? rv : undefined;
}

function collectionPath(prefix: string, plural: string, namespace?: string, name?: string): string {
  const ns = namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${prefix}${ns}/${plural}${name !== undefined ? `/${encodeURIComponent(name)}` : ''}`;
}

/** Where a Kubernetes object is, for a CorruptValueError's key and messages: `<Kind> [<ns>/]<name>`. */
export function describeObject(source: Pick<KubeSource, 'kind'>, obj: unknown): string {
  const meta = (obj as { metadata?: { name?: unknown; namespace?: unknown } } | undefined)?.metadata;
  const name = typeof meta?.name === 'string' ? meta.name : '<no name>';
  return `${source.kind} ${typeof meta?.namespace === 'string' ? `${meta.namespace}/` : ''}${name}`;
}

/** A Calico CRD kind. */
export function crdSource(k: CrdKind): KubeSource {
  return {
    name: k.info.kind,
    kind: k.crd.kind,
    namespaced: k.info.namespaced,
    path: (namespace, name) => collectionPath(`/apis/${CRD_GROUP}/${CRD_VERSION}`, k.crd.plural, k.info.namespaced ? namespace : undefined, name),
    decode(obj) {
      try {
        const resource = fromCrdObject(k, obj);
        return { outcome: 'resource', key: keyFor(resource), resource };
      } catch (err) {
        if (err instanceof CorruptValueError) return { outcome: 'corrupt', key: err.key, error: err };
        throw err;
      }
    },
  };
}

function derived(name: string, kind: string, namespaced: boolean, prefix: string, convert: (obj: unknown) => ConversionResult): KubeSource {
  return {
    name,
    kind,
    namespaced,
    path: (namespace, objectName) => collectionPath(prefix, name, namespaced ? namespace : undefined, objectName),
    decode(obj) {
      const r = convert(obj);
      switch (r.outcome) {
        case 'converted':
          return { outcome: 'resource', key: keyFor(r.resource), resource: r.resource };
        case 'skipped':
          return { outcome: 'none', reason: r.message };
        case 'failed':
          return { outcome: 'failed', message: r.error };
      }
    },
  };
}

export const podSource = (interfacePrefix?: string): KubeSource =>
  derived('pods', 'Pod', true, '/api/v1', (o) => podToWorkloadEndpoint(o as K8sPod, interfacePrefix ? { interfacePrefix } : {}));
export const namespaceSource = (): KubeSource => derived('namespaces', 'Namespace', false, '/api/v1', (o) => namespaceToProfile(o as K8sNamespace));
export const serviceAccountSource = (): KubeSource =>
  derived('serviceaccounts', 'ServiceAccount', true, '/api/v1', (o) => serviceAccountToProfile(o as K8sServiceAccount));
export const k8sPolicySource = (): KubeSource =>
  derived('networkpolicies', 'NetworkPolicy (networking.k8s.io)', true, '/apis/networking.k8s.io/v1', (o) => k8sNetworkPolicyToCalico(o as K8sNetworkPolicy));
export const nodeSource = (): KubeSource => derived('nodes', 'Node', false, '/api/v1', (o) => k8sNodeToCalico(o as K8sNode));
export const serviceSource = (): KubeSource => derived('services', 'Service', true, '/api/v1', (o) => serviceToCalico(o as K8sService));
export const endpointSliceSource = (): KubeSource =>
  derived('endpointslices', 'EndpointSlice', true, '/apis/discovery.k8s.io/v1', (o) => endpointSliceToCalico(o as K8sEndpointSlice));

/** The CRD source of a Calico kind by name (UnknownKindError for kinds without a CRD). */
export function crdSourceOf(kind: string): KubeSource {
  return crdSource(crdKind(kind));
}
