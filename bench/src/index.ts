/**
 * `@cattail/bench`: what other load tools reuse (the k6 scenarios seed their etcd with it).
 * The fan-out benchmark itself is the `fanout.js` CLI; its parts are not a library surface.
 */
export {
  clusterMix,
  generateCluster,
  k8sWorkloadEndpointName,
  mixTotal,
  withTimestamp,
  MIN_RESOURCES,
  TS_LABEL,
  type ClusterMix,
  type GenerateOptions,
  type GeneratedCluster,
} from './generator.js';
export { seedCluster, writeResources, ETCD_MAX_TXN_OPS, type SeedOptions, type SeedResult, type WriteOptions, type WriteResult } from './seeder.js';
export { churn, type ChurnOptions, type ChurnResult } from './churn.js';
export { createRng, deriveSeed, type Rng } from './rng.js';
export { canonicalJson, digestEntries, keyHash, valueHash, DigestBuilder } from './digest.js';
export { monoMs, monoStamp, stampToMs } from './clock.js';
export { TyphaProcess, parsePrometheus, type TyphaProcessOptions, type ProcStats, type TyphaStatus } from './typha-process.js';
export { machineInfo, type MachineInfo } from './machine.js';
