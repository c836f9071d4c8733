/**
 * `@cattail/typha`: the server side. Agents import only `@cattail/typha/client` and
 * `@cattail/typha/protocol`.
 */
export { TyphaDaemon, type TyphaFactories, type TyphaPorts, type TyphaTuning } from './daemon/daemon.js';
export { TYPHA_PARAMS, loadTyphaConfig, loggableTyphaConfig, type TyphaConfig } from './config.js';
export { planRebalance, handoffTarget, type RebalancePlan } from './daemon/rebalance.js';
export { ReplicaRegistry, REPLICA_PREFIX, type ReplicaInfo, type ReplicaView } from './daemon/replica-registry.js';
export { DatastoreWatcher, type DatastoreWatcherOptions, type WatcherStats } from './watcher/datastore-watcher.js';
export * from './cache/index.js';
export * from './pipeline/index.js';
export { SyncServer, type SyncServerOptions, type ServerTlsOptions, type GoodbyeHint, type ServerStatus } from './server/index.js';
export * from './metrics/index.js';
