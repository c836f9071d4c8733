/**
 * Calico's Kubernetes datastore (KDD): the pure conversions of Kubernetes objects (`convert/`),
 * and `KubeDatastore`, the Datastore boundary served from Calico's CRDs on the API server
 * (`crd.projectcalico.org/v1`) and, read through the conversions, from Kubernetes' own objects
 * (WorkloadEndpoint, Profile, Node, knp.default.* NetworkPolicies; `derived-kinds.ts`), and
 * `KubeSyncStream`, Typha's one merged stream of every collection (CRD kinds and the Kubernetes
 * objects Calico kinds are derived from).
 */
export * from './convert/index.js';
export { KubeDatastore, type KubeDatastoreOptions } from './kube-datastore.js';
export { KindWatcher, type KindWatcherOptions } from './kind-watcher.js';
export { backendName, crdKind, fromCrdObject, toCrdObject, METADATA_ANNOTATION, CRD_API_VERSION, type CrdKind, type KubeObject } from './crd-codec.js';
export { KubeSyncStream, sourcesForKinds, type KubeSyncStreamOptions, type SourceStats } from './sync-stream.js';
export {
  crdSource,
  podSource,
  namespaceSource,
  serviceAccountSource,
  k8sPolicySource,
  nodeSource,
  serviceSource,
  endpointSliceSource,
  type KubeSource,
  type Decoded,
} from './kube-source.js';
export {
  KubeClient,
  KubeHttpError,
  LIST_PAGE_SIZE,
  inClusterConfig,
  listPaged,
  loadKubeConfig,
  type KubeClientConfig,
  type PagedListOptions,
} from './kube-client.js';
export { DEFAULT_ALLOW_PROFILE, defaultAllowProfile } from './derived-kinds.js';
