/**
 * `metadata` of every kind: Kubernetes ObjectMeta as Calico validates it. Names are DNS-1123
 * subdomains unless the kind says otherwise; namespaced kinds need a namespace (a DNS-1123
 * label) and cluster-scoped kinds must not have one; label keys and values and annotation keys
 * follow Kubernetes' rules, annotations total at most 256 KiB.
 *
 * Every ObjectMeta field is accepted by strict decoding (a document exported from Kubernetes
 * carries them); only the ones Calico reads are checked beyond their JSON type.
 */
import type { ValidationIssue } from '../errors.js';
import type { KindInfo } from '../kinds.js';
import type { Resource } from '../resource.js';
import { annotations, labels } from './fields.js';
import { dnsLabel, dnsSubdomain } from './formats.js';
import type { KindDef } from './kind-def.js';
import { any, arr, checkValues, describe, int, obj, str } from './schema.js';

export const metadataSchema = obj({
  name: str(),
  generateName: str(),
  namespace: str(),
  selfLink: str(),
  uid: str(),
  resourceVersion: str(),
  generation: int(0),
  creationTimestamp: str(),
  deletionTimestamp: str(),
  deletionGracePeriodSeconds: int(0),
  labels: labels(),
  annotations: annotations(),
  ownerReferences: arr(any()),
  finalizers: arr(str()),
  managedFields: arr(any()),
  clusterName: str(),
});

export function checkMetadata(res: Resource, info: KindInfo, def: KindDef, issues: ValidationIssue[]): void {
  const meta: unknown = res.metadata;
  if (meta === undefined || meta === null) {
    issues.push({ path: 'metadata', message: 'is required: an object with at least a name' });
    return;
  }
  if (typeof meta !== 'object' || Array.isArray(meta)) {
    issues.push({ path: 'metadata', message: `expected an object with at least a name, got ${describe(meta)}` });
    return;
  }
  checkValues(meta, metadataSchema, 'metadata', issues);
  const { name, namespace } = meta as Record<string, unknown>;

  if (name === undefined || name === '') {
    issues.push({ path: 'metadata.name', message: 'is required' });
  } else if (typeof name === 'string') {
    const problem = def.name ? def.name(name, res) : dnsSubdomain(name);
    if (problem) issues.push({ path: 'metadata.name', message: problem });
  }

  if (info.namespaced) {
    if (namespace === undefined || namespace === '') {
      issues.push({ path: 'metadata.namespace', message: `is required: ${info.kind} is a namespaced kind` });
    } else if (typeof namespace === 'string') {
      const problem = dnsLabel(namespace);
      if (problem) issues.push({ path: 'metadata.namespace', message: problem });
    }
  } else if (namespace !== undefined && namespace !== '') {
    issues.push({ path: 'metadata.namespace', message: `${info.kind} is cluster-scoped: remove metadata.namespace` });
  }
}
