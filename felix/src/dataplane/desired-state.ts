/**
 * The dataplane's desired state: what the calculation graph has told us, folded into maps keyed
 * by id. Pure (no I/O): `applyMessages` mutates the state it is given and returns whether
 * anything changed, so a driver can skip an apply for a batch that changed nothing it programs.
 * Every renderer (nftables, routes, VXLAN) reads only this.
 */
import type {
  DataplaneMessage,
  HostEndpoint,
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

export interface DesiredIPSet {
  type: IPSetType;
  members: Set<string>;
  /** Bumped by every delta that changes `members` (which is changed in place), for caches. */
  generation?: number;
}

export interface DesiredState {
  config: Record<string, unknown>;
  /** True once the snapshot's InSync arrived; nothing is programmed before. */
  inSync: boolean;
  ipSets: Map<string, DesiredIPSet>;
  /** Keyed by `policyKey(id)`. */
  policies: Map<string, { id: PolicyId; policy: Policy }>;
  profiles: Map<string, Profile>;
  /** Keyed by `endpointKey(id)` (`namespace/name`). */
  workloads: Map<string, { id: WorkloadEndpointId; endpoint: WorkloadEndpoint }>;
  hostEndpoints: Map<string, HostEndpoint>;
  hosts: Map<string, HostMetadataUpdate>;
  pools: Map<string, IPAMPool>;
  encapsulation: { ipipEnabled: boolean; vxlanEnabled: boolean; vxlanEnabledV6: boolean };
  /** Keyed by destination CIDR. */
  routes: Map<string, RouteUpdate>;
  /** Keyed by node name. */
  vteps: Map<string, VXLANTunnelEndpointUpdate>;
  /** BGPConfiguration `default`'s advertised service CIDRs (cluster, external, LoadBalancer), sorted: service loop prevention. */
  serviceCidrs: string[];
}

export function emptyDesiredState(): DesiredState {
  return {
    config: {},
    inSync: false,
    ipSets: new Map(),
    policies: new Map(),
    profiles: new Map(),
    workloads: new Map(),
    hostEndpoints: new Map(),
    hosts: new Map(),
    pools: new Map(),
    encapsulation: { ipipEnabled: false, vxlanEnabled: false, vxlanEnabledV6: false },
    routes: new Map(),
    vteps: new Map(),
    serviceCidrs: [],
  };
}

/**
 * Whether IPv4 VXLAN is on: FelixConfiguration `vxlanEnabled` when it is set (true or false),
 * else whether a pool uses VXLAN, as Calico's EncapsulationCalculator decides.
 */
export function vxlanEnabled(state: Pick<DesiredState, 'config' | 'encapsulation'>): boolean {
  const forced = state.config.vxlanEnabled;
  return typeof forced === 'boolean' ? forced : state.encapsulation.vxlanEnabled;
}

/**
 * Whether IPv6 VXLAN is on: `vxlanEnabledV6` when set (as Calico's VXLANEnabledV6), else whether
 * an IPv6 pool uses VXLAN.
 */
export function vxlanEnabledV6(state: Pick<DesiredState, 'config' | 'encapsulation'>): boolean {
  const forced = state.config.vxlanEnabledV6;
  return typeof forced === 'boolean' ? forced : state.encapsulation.vxlanEnabledV6;
}

/** A stable key for a policy id: `tier/namespace/name` (namespace empty for global policies). */
export function policyKey(id: PolicyId): string {
  return `${id.tier}/${id.namespace ?? ''}/${id.name}`;
}

export function endpointKey(id: WorkloadEndpointId): string {
  return `${id.namespace}/${id.name}`;
}

/** Applies one batch in order. Returns true when the state changed. */
export function applyMessages(state: DesiredState, msgs: readonly DataplaneMessage[]): boolean {
  let changed = false;
  for (const msg of msgs) {
    if (applyMessage(state, msg)) changed = true;
  }
  return changed;
}

function applyMessage(state: DesiredState, msg: DataplaneMessage): boolean {
  switch (msg.kind) {
    case 'ConfigUpdate':
      state.config = { ...msg.config };
      return true;
    case 'InSync': {
      const was = state.inSync;
      state.inSync = true;
      return !was;
    }
    case 'IPSetUpdate':
      state.ipSets.set(msg.id, { type: msg.type, members: new Set(msg.members) });
      return true;
    case 'IPSetDeltaUpdate': {
      const set = state.ipSets.get(msg.id);
      if (!set) return false;
      for (const m of msg.removed) set.members.delete(m);
      for (const m of msg.added) set.members.add(m);
      if (msg.added.length + msg.removed.length === 0) return false;
      set.generation = (set.generation ?? 0) + 1;
      return true;
    }
    case 'IPSetRemove':
      return state.ipSets.delete(msg.id);
    case 'ActivePolicyUpdate':
      state.policies.set(policyKey(msg.id), { id: msg.id, policy: msg.policy });
      return true;
    case 'ActivePolicyRemove':
      return state.policies.delete(policyKey(msg.id));
    case 'ActiveProfileUpdate':
      state.profiles.set(msg.id.name, msg.profile);
      return true;
    case 'ActiveProfileRemove':
      return state.profiles.delete(msg.id.name);
    case 'WorkloadEndpointUpdate':
      state.workloads.set(endpointKey(msg.id), { id: msg.id, endpoint: msg.endpoint });
      return true;
    case 'WorkloadEndpointRemove':
      return state.workloads.delete(endpointKey(msg.id));
    case 'HostEndpointUpdate':
      state.hostEndpoints.set(msg.id.name, msg.endpoint);
      return true;
    case 'HostEndpointRemove':
      return state.hostEndpoints.delete(msg.id.name);
    case 'HostMetadataUpdate':
      state.hosts.set(msg.hostname, msg);
      return true;
    case 'HostMetadataRemove':
      return state.hosts.delete(msg.hostname);
    case 'IPAMPoolUpdate':
      state.pools.set(msg.id, msg.pool);
      return true;
    case 'IPAMPoolRemove':
      return state.pools.delete(msg.id);
    case 'EncapsulationUpdate':
      state.encapsulation = {
        ipipEnabled: msg.ipipEnabled,
        vxlanEnabled: msg.vxlanEnabled,
        vxlanEnabledV6: msg.vxlanEnabledV6,
      };
      return true;
    case 'GlobalBGPConfigUpdate': {
      const cidrs = [...new Set([...msg.serviceClusterCidrs, ...msg.serviceExternalCidrs, ...msg.serviceLoadBalancerCidrs])].sort();
      if (cidrs.join(',') === state.serviceCidrs.join(',')) return false;
      state.serviceCidrs = cidrs;
      return true;
    }
    case 'RouteUpdate':
      state.routes.set(msg.dst, msg);
      return true;
    case 'RouteRemove':
      return state.routes.delete(msg.dst);
    case 'VXLANTunnelEndpointUpdate':
      state.vteps.set(msg.node, msg);
      return true;
    case 'VXLANTunnelEndpointRemove':
      return state.vteps.delete(msg.node);
  }
}
