/**
 * The members of every active IP set (Calico's SelectorAndNamedPortIndex), over ALL endpoints
 * of the cluster (workload and host endpoints on every node) and all network sets.
 *
 *   selector set    the host CIDRs of every matching endpoint, the CIDRs of every matching
 *                   network set
 *   named-port set  `addr,proto:port` for every address of every matching endpoint that has a
 *                   port of that name and protocol (network sets have no ports)
 *
 *   service set     a Kubernetes Service's members, from the ServiceIndex (./service-index.ts):
 *                   cluster IP and endpoint address . protocol . port for a destination, endpoint
 *                   addresses for a source; re-diffed whenever the Service or a slice changes
 *
 * Members are reference counted per set: two endpoints with the same address (a pod being
 * replaced, a host endpoint and a workload) or a network set overlapping an endpoint make one
 * member, which leaves only when its last contributor does. Matching itself is a LabelIndex, so
 * a label change re-evaluates only the sets whose selectors mention the changed keys; a change
 * of addresses or ports alone re-computes only the sets that item is in.
 */
import type { CalcCallbacks } from './callbacks.js';
import type { EndpointPort, Labels, LabeledNets } from './decode.js';
import { LabelIndex } from './label-index.js';
import type { IPSetData } from './rule-parser.js';
import type { IPSetRegistry } from './rule-scanner.js';
import { ServiceIndex, type ServiceData, type SliceData } from './service-index.js';

export type IPSetOutput = Pick<CalcCallbacks, 'onIPSetAdded' | 'onIPSetRemoved' | 'onIPSetMemberAdded' | 'onIPSetMemberRemoved'>;

interface SetState {
  readonly data: IPSetData;
  readonly refs: Map<string, number>;
}

interface ItemState {
  nets: readonly string[];
  ports: readonly EndpointPort[];
}

export class IPSetMemberCalculator implements IPSetRegistry {
  readonly #out: IPSetOutput;
  readonly #index: LabelIndex;
  readonly #sets = new Map<string, SetState>();
  readonly #items = new Map<string, ItemState>();
  readonly #services = new ServiceIndex((svc) => this.#serviceChanged(svc));
  /** Service (`namespace/name`) → ids of the active sets that match it. */
  readonly #serviceSets = new Map<string, Set<string>>();

  constructor(out: IPSetOutput) {
    this.#out = out;
    this.#index = new LabelIndex({
      onMatchStarted: (setId, itemId) => this.#apply(setId, itemId, 1),
      onMatchStopped: (setId, itemId) => this.#apply(setId, itemId, -1),
    });
  }

  addIPSet(data: IPSetData): void {
    this.#out.onIPSetAdded(data.id, data.type);
    const set: SetState = { data, refs: new Map() };
    this.#sets.set(data.id, set);
    if (data.selector !== undefined) this.#index.updateSelector(data.id, data.selector);
    if (data.service !== undefined) {
      let ids = this.#serviceSets.get(data.service);
      if (ids === undefined) this.#serviceSets.set(data.service, (ids = new Set()));
      ids.add(data.id);
      this.#syncServiceSet(set);
    }
  }

  removeIPSet(id: string): void {
    const set = this.#sets.get(id);
    if (set === undefined) return;
    this.#sets.delete(id);
    const service = set.data.service;
    if (service !== undefined) {
      const ids = this.#serviceSets.get(service);
      ids?.delete(id);
      if (ids?.size === 0) this.#serviceSets.delete(service);
    }
    this.#out.onIPSetRemoved(id);
    // The set is gone from #sets, so the match-stopped callbacks below change nothing.
    this.#index.deleteSelector(id);
  }

  /** An endpoint (of any node) or network set appeared or changed. */
  updateItem(key: string, item: LabeledNets): void {
    const old = this.#items.get(key);
    if (old === undefined) {
      this.#items.set(key, { nets: item.nets, ports: item.ports });
    } else if (!sameList(old.nets, item.nets) || !samePorts(old.ports, item.ports)) {
      // Addresses or ports changed: move the members of every set the item is in now. Add the
      // new first so a member both had keeps its count above zero.
      const next: ItemState = { nets: item.nets, ports: item.ports };
      for (const setId of this.#index.selectorsMatching(key)) {
        const set = this.#sets.get(setId);
        if (set === undefined) continue;
        forEachMember(set.data, next, (m) => this.#ref(set, m, 1));
        forEachMember(set.data, old, (m) => this.#ref(set, m, -1));
      }
      old.nets = item.nets;
      old.ports = item.ports;
    }
    this.#index.updateItem(key, item.labels, item.parents);
  }

  deleteItem(key: string): void {
    this.#index.deleteItem(key);
    this.#items.delete(key);
  }

  /** A profile's labelsToApply, inherited by the items that name it. */
  updateParentLabels(profile: string, labels: Labels | undefined): void {
    this.#index.updateParentLabels(profile, labels);
  }

  /** A Kubernetes Service (`namespace/name`) appeared, changed or went. */
  updateService(service: string, data: ServiceData | undefined): void {
    this.#services.updateService(service, data);
  }

  /** An EndpointSlice appeared, changed or went. */
  updateSlice(key: string, data: SliceData | undefined): void {
    this.#services.updateSlice(key, data);
  }

  /** Current members of a set, for tests and status. */
  members(id: string): string[] {
    return [...(this.#sets.get(id)?.refs.keys() ?? [])].sort();
  }

  #serviceChanged(service: string): void {
    for (const id of this.#serviceSets.get(service) ?? []) this.#syncServiceSet(this.#sets.get(id)!);
  }

  /** Brings a service set to the index's members: adds first, then removes. */
  #syncServiceSet(set: SetState): void {
    const want = this.#services.members(set.data.service!, set.data.type === 'ip-port');
    for (const m of want) if (!set.refs.has(m)) this.#ref(set, m, 1);
    for (const m of [...set.refs.keys()]) if (!want.has(m)) this.#ref(set, m, -1);
  }

  #apply(setId: string, itemId: string, delta: 1 | -1): void {
    const set = this.#sets.get(setId);
    const item = this.#items.get(itemId);
    if (set === undefined || item === undefined) return;
    forEachMember(set.data, item, (m) => this.#ref(set, m, delta));
  }

  #ref(set: SetState, member: string, delta: 1 | -1): void {
    const had = set.refs.get(member) ?? 0;
    if (had === 0 && delta < 0) return;
    const n = had + delta;
    if (n > 0) {
      set.refs.set(member, n);
      if (n === 1 && delta === 1) this.#out.onIPSetMemberAdded(set.data.id, member);
    } else {
      set.refs.delete(member);
      this.#out.onIPSetMemberRemoved(set.data.id, member);
    }
  }
}

/** Calls `f` with each member `item` contributes to the set. */
function forEachMember(data: IPSetData, item: ItemState, f: (member: string) => void): void {
  if (data.namedPort === undefined) {
    for (const net of item.nets) f(net);
    return;
  }
  for (const p of item.ports) {
    if (p.name !== data.namedPort || p.protocol !== data.namedPortProtocol) continue;
    for (const net of item.nets) {
      const slash = net.indexOf('/');
      f(`${net.slice(0, slash)},${p.protocol}:${p.port}`);
    }
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function samePorts(a: readonly EndpointPort[], b: readonly EndpointPort[]): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i].name && p.protocol === b[i].protocol && p.port === b[i].port);
}
