/** The dataplane drivers (`linux`, `dry-run`) and their pure building blocks. */
export { applyMessages, emptyDesiredState, endpointKey, policyKey, type DesiredState, type DesiredIPSet } from './desired-state.js';
export { DataplaneCommandError, EndpointNotReadyError } from './errors.js';
export { inNetns, processExec, type Exec, type ExecResult, type ProcessExecOptions } from './exec.js';
export { DEFAULT_NFT_OPTIONS, MARK_ACCEPT, MARK_PASS, nftOptionsFromConfig, renderModel, renderRuleset, type NftRenderOptions } from './nft-render.js';
export { desiredRoutes, routeBatch, parseKernelRoutes, ROUTE_PROTO, VXLAN_DEVICE, type DesiredRoute, type KernelRoute } from './routes.js';
export { LinkMonitor, parseLinkEvent, type LinkEvents, type LinkMonitorOptions, type Spawn } from './link-monitor.js';
export { LinuxDataplane, type ApplyReport, type DataplaneTimers, type EndpointStatus, type LinuxDataplaneOptions } from './linux-dataplane.js';
export { DryRunDataplane, formatDryRunSnapshot, type DryRunOptions, type DryRunSnapshot } from './dry-run-dataplane.js';
export { hostEndpointRuleset, DEFAULT_FAILSAFE_INBOUND, DEFAULT_FAILSAFE_OUTBOUND, type FailsafePort } from './nft-host-endpoints.js';
export { natOutgoingRuleset, parseNatPortRange, NAT_CHAIN, type NatOutgoingOptions } from './nft-nat.js';
export { endpointStatusReport, linkOperUp, type EndpointOperStatus, type EndpointStatusListener, type EndpointStatusReport } from './endpoint-status.js';
export { ApplyTimes, dataplaneStats, type DataplaneStats } from './stats.js';
export { emptyModel, modelDelta, modelText, normaliseCidrs, type NftChain, type NftModel, type NftSet } from './nft-model.js';
export { RenderCache } from './nft-render-cache.js';
