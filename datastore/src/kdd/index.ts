/**
 * Calico's Kubernetes datastore (KDD). Only the conversions exist so far (`convert/`); the
 * backend that watches the API server and serves the `Datastore` boundary from it is not built.
 */
export * from './convert/index.js';
