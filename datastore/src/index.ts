export * from './datastore.js';
export * from './errors.js';
export { backoffDelay, jittered, realDelay, type BackoffPolicy, type DelayFn } from './backoff.js';
export * from './etcd-datastore.js';
export * from './etcd-env.js';
export { ensureInitialized, type InitializeOptions, type InitializeReport } from './initialize.js';
export * as etcd from './etcd/index.js';
export * as ipam from './ipam/index.js';
export * as kdd from './kdd/index.js';
