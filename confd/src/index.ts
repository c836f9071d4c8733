/**
 * `@cattail/confd`: renders BIRD 2 configuration from Typha's `bgp` syncer, checks it with
 * `bird -p`, swaps it in atomically and reloads BIRD with `birdc configure`.
 */
export { ConfdDaemon, CONFD_CLIENT_ID, type ConfdDependencies, type ConfdPorts } from './daemon.js';
export { CONFD_PARAMS, loadConfdConfig, loggableConfdConfig, type ConfdConfig, type LoadConfdOptions } from './config.js';
export { ConfdAgent, type ApplyResult, type ConfdAgentOptions, type ConfdCounters, type ConfdStatus, type FailureStage } from './agent/confd-agent.js';
export { birdCommands, lastReply, type BirdCommandOptions, type BirdControl } from './agent/bird-control.js';
export { fileSecretReader } from './agent/file-secrets.js';
export { formatMetrics } from './agent/metrics.js';
export {
  BgpModelStore,
  emptyModel,
  type AffinityView,
  type BgpModel,
  type BgpModelStoreOptions,
  type BlockView,
  type NodeView,
  type WorkloadView,
} from './model/bgp-model.js';
export { renderBirdConfig, type RenderResult, type SecretReader, type SecretResult } from './render/bird-config.js';
export type { SecretRef } from './render/node-facts.js';
export * from './errors.js';
