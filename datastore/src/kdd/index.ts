/**
 * Calico's Kubernetes datastore (KDD): the pure conversions of Kubernetes objects (`convert/`),
 * and `KubeDatastore`, the Datastore boundary served from Calico's CRDs on the API server
 * (`crd.projectcalico.org/v1`) and, read through the conversions, from Kubernetes' own objects
 * (WorkloadEndpoint, Profile, Node, knp.default.* NetworkPolicies; `derived-kinds.ts`).
 */
export * from './convert/index.js';
export { KubeDatastore, type KubeDatastoreOptions } from './kube-datastore.js';
export { KindWatcher, type KindWatcherOptions } from './kind-watcher.js';
export { backendName, crdKind, fromCrdObject, toCrdObject, METADATA_ANNOTATION, CRD_API_VERSION, type CrdKind, type KubeObject } from './crd-codec.js';
export { DEFAULT_ALLOW_PROFILE } from './derived-kinds.js';
export { inClusterConfig, loadKubeConfig, type KubeClientConfig } from './kube-client.js';
