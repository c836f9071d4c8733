/**
 * Buffers the graph's output for one batch and emits it in dependency order (Calico's
 * EventSequencer); the order is documented in proto/messages.ts.
 *
 * Within a batch, later calls win: a policy activated and deactivated again sends nothing, an
 * IP set member added and removed again sends nothing, a set removed and re-added is sent
 * whole. Across batches, the sequencer remembers what the driver was told and drops updates
 * equal to it. Within each group messages are sorted by id, so the output of a batch does not
 * depend on hash-map order.
 *
 * That comparison is the graph's one guarantee to the driver: it hears of a dataplane object
 * only when the object changed. It is not the input's guarantee again (every input update is a
 * real change, see calc-graph.ts): most input changes leave most outputs as they were (a label
 * change that leaves an endpoint's policies as they were, a node update that moves no route, a
 * config change to a key the dataplane does not read), so the calculators emit freely (routes,
 * VTEPs, config) and rely on this comparison instead of keeping their own.
 */
import { jsonEqual } from '@cattail/typha/common';
import type {
  ConfigUpdate,
  DataplaneMessage,
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
import type { CalcCallbacks } from './callbacks.js';
import { addTo } from './map-of-sets.js';

const REMOVED = Symbol('removed');

/** Pending updates/removals of one kind of keyed state, and what was last sent of it. */
class Pending<T> {
  readonly #pending = new Map<string, T | typeof REMOVED>();
  readonly #sent = new Map<string, T>();

  set(key: string, value: T): void {
    this.#pending.set(key, value);
  }

  delete(key: string): void {
    if (this.#sent.has(key)) this.#pending.set(key, REMOVED);
    else this.#pending.delete(key);
  }

  /**
   * Takes the pending changes: updates that differ from what was sent (with the value they
   * replace), and removals of what was sent; both sorted by key. Records them as sent.
   */
  drain(): { updates: Array<[key: string, value: T, previous: T | undefined]>; removals: Array<[key: string, previous: T]> } {
    const updates: Array<[string, T, T | undefined]> = [];
    const removals: Array<[string, T]> = [];
    if (this.#pending.size === 0) return { updates, removals };
    const keys = [...this.#pending.keys()].sort();
    for (const key of keys) {
      const value = this.#pending.get(key)!;
      const previous = this.#sent.get(key);
      if (value === REMOVED) {
        if (previous === undefined) continue;
        this.#sent.delete(key);
        removals.push([key, previous]);
      } else if (previous === undefined || !jsonEqual(previous, value)) {
        this.#sent.set(key, value);
        updates.push([key, value, previous]);
      }
    }
    this.#pending.clear();
    return { updates, removals };
  }
}

type Config = Omit<ConfigUpdate, 'kind'>;
type Encapsulation = Omit<EncapsulationUpdate, 'kind'>;
type GlobalBgp = Omit<GlobalBGPConfigUpdate, 'kind'>;
type Host = Omit<HostMetadataUpdate, 'kind'>;
type Route = Omit<RouteUpdate, 'kind'>;
type VTEP = Omit<VXLANTunnelEndpointUpdate, 'kind'>;

export class EventSequencer implements CalcCallbacks {
  #config: Config | undefined;
  #sentConfig: Config | undefined;
  #encap: Encapsulation | undefined;
  #sentEncap: Encapsulation | undefined;
  #bgp: GlobalBgp | undefined;
  #sentBgp: GlobalBgp | undefined;

  readonly #addedSets = new Map<string, IPSetType>();
  readonly #removedSets = new Set<string>();
  readonly #addedMembers = new Map<string, Set<string>>();
  readonly #removedMembers = new Map<string, Set<string>>();
  readonly #sentSets = new Set<string>();

  readonly #policies = new Pending<{ id: PolicyId; policy: Policy }>();
  readonly #profiles = new Pending<Profile>();
  readonly #workloads = new Pending<{ id: WorkloadEndpointId; endpoint: WorkloadEndpoint }>();
  readonly #hostEndpoints = new Pending<HostEndpoint>();
  readonly #hosts = new Pending<Host>();
  readonly #pools = new Pending<IPAMPool>();
  readonly #routes = new Pending<Route>();
  readonly #vteps = new Pending<VTEP>();

  onConfigUpdate(config: Config): void {
    this.#config = config;
  }

  onIPSetAdded(id: string, type: IPSetType): void {
    this.#addedSets.set(id, type);
    this.#removedSets.delete(id);
    // An added set starts empty: what was pending for an earlier incarnation is moot.
    this.#addedMembers.delete(id);
    this.#removedMembers.delete(id);
  }

  onIPSetRemoved(id: string): void {
    if (this.#sentSets.has(id)) this.#removedSets.add(id);
    this.#addedSets.delete(id);
    this.#addedMembers.delete(id);
    this.#removedMembers.delete(id);
  }

  onIPSetMemberAdded(id: string, member: string): void {
    if (!this.#removedMembers.get(id)?.delete(member)) addTo(this.#addedMembers, id, member);
  }

  onIPSetMemberRemoved(id: string, member: string): void {
    if (!this.#addedMembers.get(id)?.delete(member)) addTo(this.#removedMembers, id, member);
  }

  onPolicyActive(key: string, id: PolicyId, policy: Policy): void {
    this.#policies.set(key, { id, policy });
  }

  onPolicyInactive(key: string): void {
    this.#policies.delete(key);
  }

  onProfileActive(name: string, profile: Profile): void {
    this.#profiles.set(name, profile);
  }

  onProfileInactive(name: string): void {
    this.#profiles.delete(name);
  }

  onWorkloadEndpointUpdate(id: WorkloadEndpointId, endpoint: WorkloadEndpoint): void {
    this.#workloads.set(`${id.namespace}/${id.name}`, { id, endpoint });
  }

  onWorkloadEndpointRemove(id: WorkloadEndpointId): void {
    this.#workloads.delete(`${id.namespace}/${id.name}`);
  }

  onHostEndpointUpdate(id: HostEndpointId, endpoint: HostEndpoint): void {
    this.#hostEndpoints.set(id.name, endpoint);
  }

  onHostEndpointRemove(id: HostEndpointId): void {
    this.#hostEndpoints.delete(id.name);
  }

  onHostMetadataUpdate(update: Host): void {
    this.#hosts.set(update.hostname, update);
  }

  onHostMetadataRemove(hostname: string): void {
    this.#hosts.delete(hostname);
  }

  onPoolUpdate(id: string, pool: IPAMPool): void {
    this.#pools.set(id, pool);
  }

  onPoolRemove(id: string): void {
    this.#pools.delete(id);
  }

  onEncapsulationUpdate(encap: Encapsulation): void {
    this.#encap = encap;
  }

  onGlobalBGPConfigUpdate(update: GlobalBgp): void {
    this.#bgp = update;
  }

  onRouteUpdate(route: Route): void {
    this.#routes.set(route.dst, route);
  }

  onRouteRemove(dst: string): void {
    this.#routes.delete(dst);
  }

  onVTEPUpdate(vtep: VTEP): void {
    this.#vteps.set(vtep.node, vtep);
  }

  onVTEPRemove(node: string): void {
    this.#vteps.delete(node);
  }

  /** Everything pending, in dependency order; afterwards nothing is pending. */
  flush(): DataplaneMessage[] {
    const out: DataplaneMessage[] = [];
    if (this.#config !== undefined && !jsonEqual(this.#config, this.#sentConfig)) {
      out.push({ kind: 'ConfigUpdate', ...this.#config });
      this.#sentConfig = this.#config;
    }
    this.#config = undefined;

    this.#flushAddedSets(out);
    this.#flushMemberDeltas(out);
    const policies = this.#policies.drain();
    const profiles = this.#profiles.drain();
    const workloads = this.#workloads.drain();
    const hostEndpoints = this.#hostEndpoints.drain();
    for (const [, v] of policies.updates) out.push({ kind: 'ActivePolicyUpdate', id: v.id, policy: v.policy });
    for (const [name, profile] of profiles.updates) out.push({ kind: 'ActiveProfileUpdate', id: { name }, profile });
    for (const [, v] of workloads.updates) out.push({ kind: 'WorkloadEndpointUpdate', id: v.id, endpoint: v.endpoint });
    for (const [name, endpoint] of hostEndpoints.updates) out.push({ kind: 'HostEndpointUpdate', id: { name }, endpoint });

    for (const [, v] of workloads.removals) out.push({ kind: 'WorkloadEndpointRemove', id: v.id });
    for (const [name] of hostEndpoints.removals) out.push({ kind: 'HostEndpointRemove', id: { name } });
    for (const [name] of profiles.removals) out.push({ kind: 'ActiveProfileRemove', id: { name } });
    for (const [, v] of policies.removals) out.push({ kind: 'ActivePolicyRemove', id: v.id });
    // A policy that moved to another tier has a new id: the old one goes once nothing uses it.
    for (const [, v, previous] of policies.updates) {
      if (previous !== undefined && !jsonEqual(previous.id, v.id)) out.push({ kind: 'ActivePolicyRemove', id: previous.id });
    }
    for (const id of [...this.#removedSets].sort()) {
      out.push({ kind: 'IPSetRemove', id });
      this.#sentSets.delete(id);
    }
    this.#removedSets.clear();

    const hosts = this.#hosts.drain();
    for (const [hostname] of hosts.removals) out.push({ kind: 'HostMetadataRemove', hostname });
    for (const [, host] of hosts.updates) out.push({ kind: 'HostMetadataUpdate', ...host });
    const pools = this.#pools.drain();
    for (const [id] of pools.removals) out.push({ kind: 'IPAMPoolRemove', id });
    for (const [id, pool] of pools.updates) out.push({ kind: 'IPAMPoolUpdate', id, pool });
    if (this.#encap !== undefined && !jsonEqual(this.#encap, this.#sentEncap)) {
      out.push({ kind: 'EncapsulationUpdate', ...this.#encap });
      this.#sentEncap = this.#encap;
    }
    this.#encap = undefined;
    if (this.#bgp !== undefined && !jsonEqual(this.#bgp, this.#sentBgp)) {
      out.push({ kind: 'GlobalBGPConfigUpdate', ...this.#bgp });
      this.#sentBgp = this.#bgp;
    }
    this.#bgp = undefined;

    // No route toward a VTEP the driver does not have: route removals, then VTEP removals,
    // then VTEP additions, then route additions.
    const routes = this.#routes.drain();
    const vteps = this.#vteps.drain();
    for (const [dst] of routes.removals) out.push({ kind: 'RouteRemove', dst });
    for (const [node] of vteps.removals) out.push({ kind: 'VXLANTunnelEndpointRemove', node });
    for (const [, vtep] of vteps.updates) out.push({ kind: 'VXLANTunnelEndpointUpdate', ...vtep });
    for (const [, route] of routes.updates) out.push({ kind: 'RouteUpdate', ...route });
    return out;
  }

  #flushAddedSets(out: DataplaneMessage[]): void {
    for (const id of [...this.#addedSets.keys()].sort()) {
      const members = [...(this.#addedMembers.get(id) ?? [])].sort();
      out.push({ kind: 'IPSetUpdate', id, type: this.#addedSets.get(id)!, members });
      this.#sentSets.add(id);
      this.#addedMembers.delete(id);
    }
    this.#addedSets.clear();
  }

  #flushMemberDeltas(out: DataplaneMessage[]): void {
    const ids = new Set([...this.#addedMembers.keys(), ...this.#removedMembers.keys()]);
    for (const id of [...ids].sort()) {
      const added = [...(this.#addedMembers.get(id) ?? [])].sort();
      const removed = [...(this.#removedMembers.get(id) ?? [])].sort();
      if (added.length > 0 || removed.length > 0) out.push({ kind: 'IPSetDeltaUpdate', id, added, removed });
    }
    this.#addedMembers.clear();
    this.#removedMembers.clear();
  }
}
