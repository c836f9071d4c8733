/**
 * Test helpers of @cattail/datastore (subpath `@cattail/datastore/testing`): a real etcd per
 * test file, a real kube-apiserver on its own etcd (for the Kubernetes datastore), a TCP proxy
 * that can reset, cut or freeze the connections through it, and the small kit every
 * integration test uses (one etcd per test file with a datastore on it, a cleanup stack,
 * poll-until with a deadline).
 */
export { startEtcd, findBinary, freePort } from './etcd-server.js';
export type { EtcdServer, StartEtcdOptions } from './etcd-server.js';
export { startKubeApiServer, findKubeBinary, makeKubePki, kubeApiServerArgs, adminKubeconfig, runKubectl, whoAmI } from './kube-apiserver.js';
export type { KubeApiServer, KubePki, StartKubeApiServerOptions } from './kube-apiserver.js';
export { startTcpProxy } from './tcp-proxy.js';
export type { TcpProxy, LinkState } from './tcp-proxy.js';
export { Cleanup } from './cleanup.js';
export { until } from './poll-until.js';
export { sharedEtcd, type SharedEtcd } from './shared-etcd.js';
export { makeTestCertificates, makeSigningKeyPair } from './tls-certs.js';
export type { TlsFiles, TestCertificateOptions } from './tls-certs.js';
export { EtcdNotFoundError, EtcdStartError, KubeNotFoundError, KubeStartError, PollTimeoutError } from './errors.js';
export { exposeLoopbackPorts, listenRelay, joinSockets, LOOPBACK_RELAY_MAIN } from './loopback-relay.js';
export type { LoopbackExposure, RelayAddress } from './loopback-relay.js';
export { applyCalicoCrds, calicoCrdDir } from './kube-crds.js';
