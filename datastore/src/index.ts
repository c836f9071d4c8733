export * from './datastore.js';
export * from './errors.js';
export * from './etcd-datastore.js';
export * from './etcd-env.js';
export * as etcd from './etcd/index.js';
export * as ipam from './ipam/index.js';
