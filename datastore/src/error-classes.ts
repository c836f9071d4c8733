/**
 * The datastore's error classes alone (subpath `@cattail/datastore/errors`), for code that only
 * classifies errors and must not pay for loading a backend: the CNI plugin maps errors to CNI
 * codes on every call, but loads the etcd client (gRPC) or the Kubernetes client (YAML) only
 * for the datastore its configuration names.
 */
export * from './errors.js';
export { KubeHttpError } from './kdd/kube-http-error.js';
