/**
 * The members of every active IP set (Calico's SelectorAndNamedPortIndex), over ALL endpoints
 * of the cluster (workload and host endpoints on every node) and all network sets.
 *
 *   selector set    the host CIDRs of every matching endpoint, the CIDRs of every matching
 *                   network set
 *   named-port set  `addr,proto:port` for every address of every matching endpoint that has a
 *                   port of that name and protocol (network sets have no ports)
 *
 * Service sets (rules matching a Kubernetes Service) stay empty: the felix syncer carries no
 * Services or EndpointSlices yet.
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

  constructor(out: IPSetOutput) {
    this.#out = out;
    this.#index = new LabelIndex({
      onMatchStarted: (setId, itemId) => this.#apply(setId, itemId, 1),
      onMatchStopped: (setId, itemId) => this.#apply(setId, itemId, -1),
    });
  }

  addIPSet(data: IPSetData): void {
    this.#out.onIPSetAdded(data.id, data.type);
    this.#sets.set(data.id, { data, refs: new Map() });
    // Service sets have no selector: nothing in the felix syncer fills them (yet).
    if (data.selector !== undefined) this.#index.updateSelector(data.id, data.selector);
  }

  removeIPSet(id: string): void {
    if (!this.#sets.delete(id)) return;
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

  /** Current members of a set, for tests and status. */
  members(id: string): string[] {
    return [...(this.#sets.get(id)?.refs.keys() ?? [])].sort();
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
