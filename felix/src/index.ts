/**
 * @cattail/felix: the calculation graph (felix syncer updates → dataplane messages) and its
 * message schema. The Linux dataplane and the agent build on these.
 */
export { CalcGraph, type CalcGraphOptions } from './calc/calc-graph.js';
export type { CalcCallbacks } from './calc/callbacks.js';
export { derivedVXLANMac } from './calc/vxlan-resolver.js';
export { FelixError, InvalidResourceError } from './errors.js';
export type * from './proto/messages.js';
export * from './dataplane/index.js';
export { FelixAgent, type FelixAgentOptions, type FelixAgentStatus } from './agent/felix-agent.js';
export {
  FELIX_PARAMS,
  RESTART_REQUIRED,
  changedParams,
  dataplaneConfig,
  loadFelixConfig,
  loadFelixLayers,
  loggableFelixConfig,
  parseConfigFile,
  parseFailsafePorts,
  resolveFelixConfig,
  type FelixConfig,
  type FelixLayers,
  type FelixParam,
  type LoadFelixOptions,
  type ResolvedFelixConfig,
} from './config.js';
export {
  FELIX_CLIENT_ID,
  FelixDaemon,
  type DataplaneFactoryOptions,
  type FelixDependencies,
  type FelixPorts,
  type FelixStatus,
  type ManagedDataplane,
} from './daemon.js';
export {
  STATUS_PREFIX,
  StatusReporter,
  lastStatusKey,
  statusKey,
  type NodeStatus,
  type StatusReporterOptions,
  type StatusStore,
} from './agent/status-reporter.js';
export {
  EndpointStatusReporter,
  etcdEndpointStatusStore,
  hostEndpointStatusKey,
  hostEndpointStatusPrefix,
  workloadStatusKey,
  workloadStatusPrefix,
  type EndpointStatusReporterOptions,
  type EndpointStatusReporterStats,
  type EndpointStatusStore,
  type EtcdKeyValues,
} from './agent/endpoint-status-reporter.js';
