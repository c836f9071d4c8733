/**
 * `@cattail/cni/daemon`: the per-node CNI daemon (`cattail cni-daemon`), its configuration and
 * wire protocol. A subpath of its own, so the plugin's index (which the lab imports) does not
 * load the health/metrics kit of @cattail/typha.
 */
export { CniDaemon, claimSocketPath, callDaemon, netnsProblem, type CniDaemonOptions, type CniDaemonStatus, type DaemonConfig } from './daemon.js';
export { CNI_DAEMON_PARAMS, loadCniDaemonConfig, loggableCniDaemonConfig, type CniDaemonConfig } from './daemon-config.js';
export {
  DAEMON_SOCKET_ENV,
  DEFAULT_DAEMON_SOCKET,
  MAX_REQUEST_BYTES,
  decodeAnswer,
  decodeRequest,
  encodeAnswer,
  encodeRequest,
  type DaemonAnswer,
  type DaemonRequest,
} from './daemon-protocol.js';
export { DaemonMetrics, DURATION_BUCKETS, type RequestResult } from './daemon-metrics.js';
export { WarmDatastores, datastoreKey, isBrokenConnection, type DatastoreOpener } from './warm-datastores.js';
export { findShimBinary, shimSourceHash, repoRootOfCni, SHIM_LINK } from './shim-binary.js';
export {
  CniTokenRefresher,
  DEFAULT_TOKEN_VALIDITY_SECS,
  requestServiceAccountToken,
  serviceAccountOfToken,
  writeKubeconfigToken,
  type CniTokenRefresherOptions,
  type CniTokenStatus,
  type IssuedToken,
  type ServiceAccountRef,
} from './cni-token.js';
