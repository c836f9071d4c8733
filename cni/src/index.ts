/**
 * `@cattail/cni`: the CNI plugin (spec 1.0) with Calico-style IPAM from the datastore. The
 * executable is `cattail-cni` (bin/cattail-cni.js → main()); the rest is exported for tests and
 * for the lab, which builds network configs and names the same way.
 */
export { main } from './main.js';
export { runPlugin, defaultDeps, toCniError, DEFAULT_MTU, type PluginDeps, type PluginInput, type PluginOutput } from './plugin.js';
export {
  parseNetConf,
  decodeStdin,
  checkVersion,
  SUPPORTED_VERSIONS,
  DEFAULT_MTU_FILE,
  IPAM_TYPE,
  type NetConf,
  type IpamConf,
  type EtcdSettings,
} from './config.js';
export { parseCniEnv, parseCniArgs, type CniEnv, type CniCommand, type PodIdentity } from './env.js';
export { vethName, handleId, workloadIdentity, VETH_PREFIX, type WorkloadIdentity } from './names.js';
export {
  addResult,
  errorResult,
  versionResult,
  prevResultAddresses,
  HOST_VETH_MAC,
  IPV4_GATEWAY,
  IPV6_GATEWAY,
  type CniResult,
  type PodAddress,
} from './result.js';
export { buildWorkloadEndpoint } from './workload-endpoint.js';
export { linuxWiring, type PodWiring } from './wiring.js';
export { createLogger, type Logger } from './log.js';
export * from './errors.js';
