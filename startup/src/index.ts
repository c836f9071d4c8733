export {
  runStartup,
  reconcileTunnelAddresses,
  updateNodeAddresses,
  clearNodeAddresses,
  type NodeAddresses,
  type KubeApi,
  type StartupDeps,
  type StartupLogger,
  type StartupReport,
} from './startup.js';
export { loadStartupConfig, nodeNameFrom, type StartupConfig, type AddressSetting, type DefaultPoolSetting } from './config.js';
export {
  autodetect,
  parseAutodetectMethod,
  hostInterfaces,
  kernelSourceFor,
  netnsInterfaces,
  netnsSourceFor,
  DEFAULT_INTERFACES_TO_EXCLUDE,
  type AutodetectMethod,
  type HostInterface,
} from './autodetect.js';
export { StartupError } from './errors.js';
export { TunnelAddressController, type TunnelControllerOptions } from './tunnel-controller.js';
export { AddressMonitor, DEFAULT_POLL_MS, type AddressMonitorOptions } from './address-monitor.js';
