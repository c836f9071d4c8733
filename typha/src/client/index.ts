/**
 * `@cattail/typha/client`: what agents use to follow Typha, and nothing else. Discovery (static
 * list, DNS, the Kubernetes Service's EndpointSlices, with the last known list kept), connect
 * with same-node preference, resume, reconnect with backoff, and a local map so the agent sees
 * only real changes. `agentSyncClient` builds it from an agent's Typha settings. The kit the
 * agents share with Typha (clock, logger, HTTP endpoints, JSON equality) is
 * `@cattail/typha/common`.
 */
export { SyncClient, type ClientState, type ResumePoint } from './sync-client.js';
export { DEFAULT_BACKOFF, type SyncClientOptions } from './options.js';
export { agentSyncClient, type AgentSyncOptions, type AgentTyphaConfig } from './agent-sync-client.js';
export type { ClientCallbacks, ClientStatus, StatusDetail } from './callbacks.js';
export { LocalState } from './local-state.js';
export { updateKey } from '../common/update-key.js';
export { orderEndpoints, toUrl, type AddressOptions, type Discovery, type Endpoint } from './endpoint.js';
export { staticDiscovery } from './static-discovery.js';
export { dnsDiscovery, type DnsDiscoveryOptions, type DnsResolver } from './dns-discovery.js';
export { k8sServiceDiscovery, DEFAULT_TYPHA_PORT_NAME, type FetchLike, type FetchResponse, type K8sServiceDiscoveryOptions } from './k8s-discovery.js';
export { cachingDiscovery } from './caching-discovery.js';
export { agentDiscovery, type AgentDiscoveryConfig } from './agent-discovery.js';
export { checkTyphaIdentity, type TlsOptions } from './tls.js';
export * from './errors.js';
export type { BackoffPolicy } from '@cattail/datastore/backoff';
export type { Clock, TimerHandle } from '../common/clock.js';
export type { Logger, LogFn } from '../common/logger.js';
export type { Update, ProjectedValue, SyncerType } from '../protocol/messages.js';
export type { SyncerUpdate, KindUpdate, KindOf, ViewOf } from '../protocol/views/index.js';
