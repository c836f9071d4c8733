/**
 * The one callbacks interface through the calculation graph (Calico's `PipelineCallbacks`).
 *
 *            ┌─ ActiveRulesCalculator ─▶ RuleScanner ──────┐
 *   Update ──┼─ IPSetMemberCalculator ────────────────────┤
 *            ├─ PolicyResolver ───────────────────────────┼─▶ CalcCallbacks ─▶ EventSequencer
 *            ├─ RouteCalculator, VXLANResolver ────────────┤        (implements all of it, buffers,
 *            └─ ConfigCalculator, PoolTracker, hosts ─────┘         orders, emits per batch)
 *
 * Each calculator declares the slice it calls (`Pick<CalcCallbacks, …>`), so a unit test fakes
 * just that slice. Calls describe the desired state ("this policy is active with these rules",
 * "this IP set gained a member"); the sequencer coalesces calls within a batch, drops those
 * that change nothing the driver was already told, and turns the rest into messages.
 */
import type {
  ConfigUpdate,
  EncapsulationUpdate,
  GlobalBGPConfigUpdate,
  HostEndpoint,
  HostEndpointId,
  HostMetadataUpdate,
  IPAMPool,
  IPSetType,
  Policy,
  PolicyId,
  Profile,
  RouteUpdate,
  VXLANTunnelEndpointUpdate,
  WorkloadEndpoint,
  WorkloadEndpointId,
} from '../proto/messages.js';

export interface CalcCallbacks {
  onConfigUpdate(config: Omit<ConfigUpdate, 'kind'>): void;

  onIPSetAdded(id: string, type: IPSetType): void;
  onIPSetRemoved(id: string): void;
  onIPSetMemberAdded(id: string, member: string): void;
  onIPSetMemberRemoved(id: string, member: string): void;

  /** `key` is the policy's stable identity (`ns/name` or `name`); `id` may change tier. */
  onPolicyActive(key: string, id: PolicyId, policy: Policy): void;
  onPolicyInactive(key: string): void;
  onProfileActive(name: string, profile: Profile): void;
  onProfileInactive(name: string): void;

  onWorkloadEndpointUpdate(id: WorkloadEndpointId, endpoint: WorkloadEndpoint): void;
  onWorkloadEndpointRemove(id: WorkloadEndpointId): void;
  onHostEndpointUpdate(id: HostEndpointId, endpoint: HostEndpoint): void;
  onHostEndpointRemove(id: HostEndpointId): void;

  onHostMetadataUpdate(update: Omit<HostMetadataUpdate, 'kind'>): void;
  onHostMetadataRemove(hostname: string): void;
  onPoolUpdate(id: string, pool: IPAMPool): void;
  onPoolRemove(id: string): void;
  onEncapsulationUpdate(encap: Omit<EncapsulationUpdate, 'kind'>): void;
  /** BGPConfiguration `default`'s service ranges (service loop prevention). */
  onGlobalBGPConfigUpdate(update: Omit<GlobalBGPConfigUpdate, 'kind'>): void;

  onRouteUpdate(route: Omit<RouteUpdate, 'kind'>): void;
  onRouteRemove(dst: string): void;
  onVTEPUpdate(vtep: Omit<VXLANTunnelEndpointUpdate, 'kind'>): void;
  onVTEPRemove(node: string): void;
}
