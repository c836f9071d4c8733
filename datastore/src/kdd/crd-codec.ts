/**
 * A v3 resource ↔ the `crd.projectcalico.org/v1` object Calico's Kubernetes datastore stores it
 * as (libcalico-go `lib/backend/k8s/resources/resources.go`, `ConvertCalicoResourceToK8sResource`
 * and back), pure, no I/O:
 *
 *   v3 IPPool "pool-a"                    CRD object (kind IPPool, apiVersion crd.projectcalico.org/v1)
 *     metadata.name/namespace      ──▶      metadata.name/namespace (policies: `default.<name>`)
 *     metadata.resourceVersion     ◀─▶      metadata.resourceVersion (passed through both ways)
 *     metadata.uid                 ◀─▶      convertUID(metadata.uid) (bit-reversed, an involution)
 *     labels, annotations,                  annotation `projectcalico.org/metadata`: the v3 metadata
 *     creationTimestamp, …         ──▶      as JSON minus namespace/resourceVersion/uid (and minus
 *                                           the name, except for the tiered policy kinds)
 *     `projectcalico.org/` labels  ──▶      also copied onto the object, as Calico does
 *     spec, status                 ◀─▶      spec, status (no status subresource on Calico's CRDs)
 *
 * On read, a missing creationTimestamp in the annotation is the object's own (objects written
 * by IPAM code paths in Calico carry none), and the uid is always derived from the object's so
 * it is unique and stable. The only kind whose CRD kind differs is IPAMConfiguration (`IPAMConfig`).
 */
import {
  API_VERSION,
  CALICO_CRDS,
  CorruptValueError,
  CRD_GROUP,
  CRD_VERSION,
  findKind,
  isPlainObject,
  UnknownKindError,
  type CalicoCRD,
  type KindInfo,
  type ObjectMeta,
  type Resource,
  type ResourceRef,
} from '@cattail/api';
import { convertUID } from './convert/uid.js';

export const METADATA_ANNOTATION = 'projectcalico.org/metadata';
export const CRD_API_VERSION = `${CRD_GROUP}/${CRD_VERSION}`;

/** The tiered policy kinds, whose backend name carries the tier (`default.<name>`) as in Calico. */
const TIERED_POLICY_KINDS = new Set(['NetworkPolicy', 'GlobalNetworkPolicy', 'StagedNetworkPolicy', 'StagedGlobalNetworkPolicy']);

/** One Calico kind as the API server knows it. */
export interface CrdKind {
  readonly info: KindInfo;
  readonly crd: CalicoCRD;
}

/** A Kubernetes object as the API server returns it in JSON, as far as this codec reads it. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    uid?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: unknown;
  status?: unknown;
}

/** The CRD of a v3 kind, or UnknownKindError for a kind Calico does not keep as a CRD (Node, Profile, WorkloadEndpoint). */
export function crdKind(kind: string): CrdKind {
  const info = findKind(kind);
  const crd = info ? CALICO_CRDS[info.kind] : undefined;
  if (!info || !crd) throw new UnknownKindError(`${kind} (no CRD in the Kubernetes datastore)`);
  return { info, crd };
}

/** Calico's `TieredPolicyName`: a policy name without a tier prefix lives in tier `default`. */
export function backendName(kind: string, name: string): string {
  if (!TIERED_POLICY_KINDS.has(kind) || name === '' || name.includes('.')) return name;
  return `default.${name}`;
}

/** Where a resource sits in the API, for messages and error keys: `<plural>/[<ns>/]<name>`. */
export function describeObject(k: CrdKind, name: string, namespace?: string): string {
  return `${CRD_GROUP}/${k.crd.plural}/${namespace ? `${namespace}/` : ''}${name}`;
}

export function toCrdObject(res: Resource): KubeObject & { metadata: NonNullable<KubeObject['metadata']> } {
  const k = crdKind(res.kind);
  const { name, namespace, resourceVersion, uid, ...rest } = res.metadata;
  const stored: Record<string, unknown> = { ...rest };
  if (TIERED_POLICY_KINDS.has(k.info.kind)) stored.name = name;
  const annotations: Record<string, string> = {};
  for (const [key, v] of Object.entries(res.metadata.annotations ?? {})) if (isOurs(key)) annotations[key] = v;
  annotations[METADATA_ANNOTATION] = JSON.stringify(stored);
  const metadata: NonNullable<KubeObject['metadata']> = { name: backendName(k.info.kind, name), annotations };
  if (k.info.namespaced && namespace) metadata.namespace = namespace;
  if (resourceVersion) metadata.resourceVersion = resourceVersion;
  if (uid) metadata.uid = convertUID(uid);
  const labels = Object.entries(res.metadata.labels ?? {}).filter(([key]) => isOurs(key));
  if (labels.length > 0) metadata.labels = Object.fromEntries(labels);
  const out: KubeObject & { metadata: NonNullable<KubeObject['metadata']> } = { apiVersion: CRD_API_VERSION, kind: k.crd.kind, metadata };
  out.spec = res.spec ?? {};
  if (res.status !== undefined) out.status = res.status;
  return out;
}

/** The v3 resource a CRD object holds; CorruptValueError (keyed by its API path) when it is not one. */
export function fromCrdObject(k: CrdKind, obj: unknown): Resource {
  const m = isPlainObject(obj) && isPlainObject(obj.metadata) ? (obj.metadata as NonNullable<KubeObject['metadata']>) : undefined;
  const where = describeObject(k, m?.name ?? '<no name>', m?.namespace);
  if (!isPlainObject(obj) || !m || typeof m.name !== 'string') throw new CorruptValueError(where, 'not a Kubernetes object with metadata.name');
  const annotations: Record<string, string> = { ...(m.annotations ?? {}) };
  let stored: Record<string, unknown> = {};
  const text = annotations[METADATA_ANNOTATION];
  delete annotations[METADATA_ANNOTATION];
  if (text !== undefined) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (!isPlainObject(parsed)) throw new Error('not a JSON object');
      stored = parsed;
    } catch (err) {
      throw new CorruptValueError(where, `annotation ${METADATA_ANNOTATION} is not a JSON object`, { cause: err });
    }
  }
  const labels = { ...(m.labels ?? {}), ...(isPlainObject(stored.labels) ? (stored.labels as Record<string, string>) : {}) };
  Object.assign(annotations, isPlainObject(stored.annotations) ? stored.annotations : {});
  const meta: ObjectMeta = { ...stored, name: typeof stored.name === 'string' && stored.name !== '' ? stored.name : m.name };
  delete meta.labels;
  delete meta.annotations;
  if (k.info.namespaced && m.namespace) meta.namespace = m.namespace;
  if (m.resourceVersion) meta.resourceVersion = m.resourceVersion;
  if (m.uid) meta.uid = convertUID(m.uid);
  if (typeof meta.creationTimestamp !== 'string' && m.creationTimestamp) meta.creationTimestamp = m.creationTimestamp;
  if (Object.keys(labels).length > 0) meta.labels = labels;
  if (Object.keys(annotations).length > 0) meta.annotations = annotations;
  if (obj.spec !== undefined && !isPlainObject(obj.spec)) throw new CorruptValueError(where, 'spec is not an object');
  const res: Resource = { apiVersion: API_VERSION, kind: k.info.kind, metadata: meta, spec: obj.spec ?? {} };
  if (obj.status !== undefined) res.status = obj.status;
  return res;
}

export function refOfResource(res: Resource): ResourceRef {
  const ref: ResourceRef = { kind: res.kind, name: res.metadata.name };
  if (res.metadata.namespace) ref.namespace = res.metadata.namespace;
  return ref;
}

/** Calico keeps its own labels and annotations on the CRD object too (`isOurs`). */
function isOurs(key: string): boolean {
  return key.includes('projectcalico.org/') || key.includes('operator.tigera.io/');
}
