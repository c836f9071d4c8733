/**
 * Calico's Kubernetes datastore (KDD): the pure conversions of Kubernetes objects (`convert/`),
 * and `KubeDatastore`, the Datastore boundary served from Calico's CRDs on the API server
 * (`crd.projectcalico.org/v1`). Node, Profile and WorkloadEndpoint (derived from Kubernetes'
 * own objects) are not served by it yet.
 */
export * from './convert/index.js';
export { KubeDatastore, type KubeDatastoreOptions } from './kube-datastore.js';
export { KindWatcher, type KindWatcherOptions } from './kind-watcher.js';
export { backendName, crdKind, fromCrdObject, toCrdObject, METADATA_ANNOTATION, CRD_API_VERSION, type CrdKind, type KubeObject } from './crd-codec.js';
