/**
 * Test helpers of @cattail/datastore (subpath `@cattail/datastore/testing`): a real etcd per
 * test file, and a TCP proxy that can drop every connection on demand.
 */
export { startEtcd, findBinary, freePort } from './etcd-server.js';
export type { EtcdServer, StartEtcdOptions } from './etcd-server.js';
export { startTcpProxy } from './tcp-proxy.js';
export type { TcpProxy } from './tcp-proxy.js';
export { makeTestCertificates } from './tls-certs.js';
export type { TlsFiles } from './tls-certs.js';
export { EtcdNotFoundError, EtcdStartError } from './errors.js';
export { exposeLoopbackPorts, listenRelay, joinSockets, LOOPBACK_RELAY_MAIN } from './loopback-relay.js';
export type { LoopbackExposure, RelayAddress } from './loopback-relay.js';
