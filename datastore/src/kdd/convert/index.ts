/**
 * Calico's Kubernetes-datastore conversions, read side, as pure functions
 * (`import { kdd } from '@cattail/datastore'`): Kubernetes objects as the API server returns them
 * in, Calico v3 resources out, exactly as libcalico-go's KDD backend presents them, so Cattail
 * can read a cluster where Calico ran. Each returns a {@link ConversionResult} and never throws.
 *
 *   Pod                     → WorkloadEndpoint         podToWorkloadEndpoint
 *   Namespace               → Profile kns.<ns>         namespaceToProfile
 *   ServiceAccount          → Profile ksa.<ns>.<sa>    serviceAccountToProfile
 *   NetworkPolicy (k8s)     → NetworkPolicy knp.default.<name>   k8sNetworkPolicyToCalico
 *   Node (k8s)              → Node                     k8sNodeToCalico
 *   Node (Calico)           → annotation merge patch   calicoNodeToK8sAnnotationPatch
 *   Service                 → KubernetesService        serviceToCalico
 *   EndpointSlice           → KubernetesEndpointSlice  endpointSliceToCalico
 *
 * No I/O here; KubeDatastore serves its reads of these kinds through them (../derived-kinds.ts).
 */
export type * from './k8s-types.js';
export type { ConversionResult, Converted, Failed, SkipReason, Skipped } from './result.js';
export { podToWorkloadEndpoint, POD_ENDPOINT, type PodConversionOptions } from './pod.js';
export { namespaceToProfile } from './namespace.js';
export { serviceAccountToProfile } from './service-account.js';
export { k8sNetworkPolicyToCalico, K8S_POLICY_ORDER } from './network-policy.js';
export { k8sNodeToCalico, type NodeConversionOptions } from './node.js';
export { calicoNodeToK8sAnnotationPatch, type NodeAnnotationPatch, type NodePatchResult } from './node-patch.js';
export { NODE_ANNOTATIONS } from './node-annotations.js';
export { convertUID } from './uid.js';
export { serviceToCalico, endpointSliceToCalico, SERVICE_NAME_LABEL } from './service.js';
export {
  ANNOTATION_CONTAINER_ID,
  ANNOTATION_POD_IP,
  ANNOTATION_POD_IPS,
  DEFAULT_INTERFACE_PREFIX,
  K8S_NETWORK_POLICY_PREFIX,
  NAMESPACE_LABEL_PREFIX,
  NAMESPACE_PROFILE_PREFIX,
  SERVICE_ACCOUNT_LABEL_PREFIX,
  SERVICE_ACCOUNT_PROFILE_PREFIX,
  namespaceProfileName,
  serviceAccountProfileName,
  workloadInterfaceName,
} from './names.js';
