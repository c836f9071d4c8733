/**
 * The names and keys Calico's Kubernetes datastore uses (libcalico-go
 * `lib/backend/k8s/conversion/constants.go` and `lib/names`), in one place so every conversion
 * and, later, the Kubernetes backend spell them the same way.
 */
import { createHash } from 'node:crypto';
import { isPlainObject } from '@cattail/api';

import { NAMESPACE_PROFILE_PREFIX, SERVICE_ACCOUNT_PROFILE_PREFIX } from '@cattail/api';

export { NAMESPACE_PROFILE_PREFIX, SERVICE_ACCOUNT_PROFILE_PREFIX, NAMESPACE_LABEL_PREFIX, SERVICE_ACCOUNT_LABEL_PREFIX } from '@cattail/api';
/** Added to a profile's labelsToApply (under the prefix above) so a selector can match a name exactly. */
export const NAME_LABEL = 'projectcalico.org/name';
export const K8S_NETWORK_POLICY_PREFIX = 'knp.default.';
export const ORCHESTRATOR_K8S = 'k8s';

export const ANNOTATION_POD_IP = 'cni.projectcalico.org/podIP';
export const ANNOTATION_POD_IPS = 'cni.projectcalico.org/podIPs';
export const ANNOTATION_AWS_POD_IPS = 'vpc.amazonaws.com/pod-ips';
export const ANNOTATION_CONTAINER_ID = 'cni.projectcalico.org/containerID';
export const ANNOTATION_FLOATING_IPS = 'cni.projectcalico.org/floatingIPs';
export const ANNOTATION_ALLOWED_SOURCE_PREFIXES = 'cni.projectcalico.org/allowedSourcePrefixes';
export const ANNOTATION_NETWORK_STATUS = 'k8s.v1.cni.cncf.io/network-status';

/** Calico's default `FELIX_INTERFACEPREFIX`, whose first entry names the host-side veth. */
export const DEFAULT_INTERFACE_PREFIX = 'cali';

export function namespaceProfileName(namespace: string): string {
  return NAMESPACE_PROFILE_PREFIX + namespace;
}

/** `ksa.<namespace>.<name>`; an empty namespace is `default`, as in Calico. */
export function serviceAccountProfileName(namespace: string, serviceAccount: string): string {
  return `${SERVICE_ACCOUNT_PROFILE_PREFIX}${namespace || 'default'}.${serviceAccount}`;
}

/**
 * The host-side interface of a pod: the prefix and the first 11 hex digits of
 * SHA-1("<namespace>.<pod>"), 15 characters with "cali", the kernel's limit. It must equal what
 * the CNI plugin created, so the CNI plugin names its veth with this function too.
 */
export function workloadInterfaceName(namespace: string, pod: string, prefix = DEFAULT_INTERFACE_PREFIX): string {
  return prefix + createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11);
}

/** `Kind namespace/name` of a Kubernetes object for messages, without trusting its shape. */
export function describeInput(kind: string, input: unknown): string {
  const meta = isPlainObject(input) && isPlainObject(input.metadata) ? input.metadata : {};
  const name = typeof meta.name === 'string' && meta.name !== '' ? meta.name : '<no name>';
  return typeof meta.namespace === 'string' && meta.namespace !== '' ? `${kind} ${meta.namespace}/${name}` : `${kind} ${name}`;
}
