/**
 * The shape every Calico v3 resource shares: `apiVersion`, `kind`, Kubernetes-style `metadata`,
 * and a kind-specific `spec`. Specs stay plain JSON objects here; the per-kind TypeScript types
 * live beside each kind's validator and are structural views of the same data, so a resource
 * read from etcd, decoded from YAML or received from Typha is one type everywhere.
 */

export const API_GROUP = 'projectcalico.org';
export const API_VERSION = 'projectcalico.org/v3';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  /** etcd mod revision as a decimal string; never stored in the value, filled in on read. */
  resourceVersion?: string;
  uid?: string;
  creationTimestamp?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [extra: string]: unknown;
}

export interface Resource<Spec = Record<string, unknown>> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Spec;
  status?: unknown;
}

/** Identifies one resource without its contents. */
export interface ResourceRef {
  kind: string;
  name: string;
  namespace?: string;
}

export function refOf(res: Resource): ResourceRef {
  const ref: ResourceRef = { kind: res.kind, name: res.metadata.name };
  if (res.metadata.namespace) ref.namespace = res.metadata.namespace;
  return ref;
}

/** `Kind(name)` or `Kind(ns/name)`: the form used in every error and log line. */
export function describeRef(ref: ResourceRef): string {
  return ref.namespace ? `${ref.kind}(${ref.namespace}/${ref.name})` : `${ref.kind}(${ref.name})`;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
