/** Public surface of @cattail/lab: the Lab class (used by `cattail lab` and the e2e tests) and its parts. */
export { Lab, downLab, REQUIRED_TOOLS, type LabOptions, type UpOptions, type DownReport } from './lab.js';
export { LabNames, LAB_PREFIX, POD_NAMESPACES, checkLabId, type LabMode, type PodName } from './names.js';
export {
  readState,
  parseState,
  writeState,
  statePath,
  etcdEndpoint,
  typhaAddrs,
  STATE_VERSION,
  type LabState,
  type NodeRecord,
  type PodRecord,
  type ProcessRecord,
} from './state.js';
export { probe, formatProbeTable, podKey, ping, mapLimit, type ProbeResult, type ProbeOptions } from './probe.js';
export { probeExternal, formatExternalTable, parseEchoSources, ensureExternalHost, type ExternalProbe, type ExternalResult } from './external.js';
export { collectStatus, formatStatus, kernelRoutes, type LabStatus, type NodeStatus, type RouteInfo } from './status.js';
export { parseBgpSessions, bgpSessions, type BgpSession } from './node-agents.js';
export { applyResource, openDatastore, POOL_NAME, DEFAULT_POOL_CIDR } from './node-setup.js';
export { parseCniResult, cniConfig, containerId } from './pods.js';
export { formatTable } from './table.js';
export { LabError, LabToolMissingError, LabStateError, LabTimeoutError, LabCommandError, LabUsageError } from './errors.js';
export { requireTools, until, run } from './exec.js';
export { isOurs, isAlive, findLabProcesses, stopProcess, spawnDetached, LAB_ENV, ROLE_ENV } from './processes.js';
export type { LabLogger } from './context.js';
export {
  upKubernetes,
  checkStateDir,
  kubeStatus,
  formatKubeStatus,
  nodeReadiness,
  waitNodesReady,
  KUBE_ENGINE_TOOLS,
  type KubeLabStatus,
  type KubeNodeStatus,
} from './kube-cluster.js';
export { containerdSocket, ctr, nodeCgroup, nodeExec, SANDBOX_IMAGE, findClusterBinary, type LabCni } from './kube-node.js';
export { BUSYBOX_IMAGE, writeOciArchive, ensureImageArchives, type ImageSpec } from './kube-images.js';
export { cgroupMounts, cgroupPids, removeCgroupTree } from './cgroups.js';
export { inClusterApiserver, APISERVER_PORT } from './kube-control-plane.js';
export {
  installCattail,
  labValues,
  isFullyQualified,
  splitRef,
  DEFAULT_RELEASE,
  DEFAULT_NAMESPACE,
  LAB_IMAGE_DOMAIN,
  type InstallOptions,
  type InstallReport,
} from './kube-chart.js';
export { kubePods, podCgroup } from './kube-pods.js';
export { engineOf, type LabEngine } from './state.js';
