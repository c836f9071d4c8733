/**
 * The ordered policies of each local endpoint (Calico's PolicyResolver + PolicySorter).
 *
 * The ActiveRulesCalculator says which policies match which local endpoint; this puts them in
 * Calico's order and groups them into tiers:
 *
 *   tiers      Tier resources first (a tier that no Tier resource defines sorts after them, with
 *              end-of-tier action Deny; the built-in `default`, `kube-admin` and `kube-baseline`
 *              count as defined, with their fixed order and action), then by `order`, a tier
 *              without order after every tier with one, then by name
 *   policies   by `order` (none = +Inf), ties by `name/namespace/kind`
 *   per tier   only tiers with at least one policy matching the endpoint are listed; each lists
 *              its policies twice, for ingress and egress, each policy under the directions its
 *              `types` name (no types = both)
 *
 * Host endpoints also get Calico's special lists: doNotTrack policies in `untrackedTiers`,
 * preDNAT policies (ingress only) in `preDnatTiers`, both ending in Pass so normal policy still
 * runs; applyOnForward policies also in `forwardTiers`. Workload endpoints only get `tiers`.
 *
 * Work is deferred: changes mark endpoints dirty and `flush()` recomputes those, once per batch.
 */
import type { HostEndpoint, PolicyId, TierInfo } from '../proto/messages.js';
import type { CalcCallbacks } from './callbacks.js';
import { BUILT_IN_TIERS, type EndpointData, type PolicyData, type TierData } from './decode.js';
import type { PolicyMatchListener } from './active-rules-calculator.js';
import { addTo, removeFrom } from './map-of-sets.js';

export type PolicyResolverOutput = Pick<
  CalcCallbacks,
  'onWorkloadEndpointUpdate' | 'onWorkloadEndpointRemove' | 'onHostEndpointUpdate' | 'onHostEndpointRemove'
>;

interface TierRank {
  readonly defined: boolean;
  readonly order: number | undefined;
  readonly defaultAction: 'Deny' | 'Pass';
}

export class PolicyResolver implements PolicyMatchListener {
  readonly #out: PolicyResolverOutput;
  readonly #endpoints = new Map<string, EndpointData>();
  readonly #policies = new Map<string, PolicyData>();
  readonly #tiers = new Map<string, TierData>();
  readonly #endpointPolicies = new Map<string, Set<string>>();
  readonly #policyEndpoints = new Map<string, Set<string>>();
  readonly #dirty = new Set<string>();

  constructor(out: PolicyResolverOutput) {
    this.#out = out;
  }

  updateEndpoint(key: string, endpoint: EndpointData): void {
    this.#endpoints.set(key, endpoint);
    this.#dirty.add(key);
  }

  deleteEndpoint(key: string): void {
    const ep = this.#endpoints.get(key);
    if (ep === undefined) return;
    this.#endpoints.delete(key);
    this.#dirty.delete(key);
    if (ep.kind === 'WorkloadEndpoint') this.#out.onWorkloadEndpointRemove({ namespace: ep.namespace, name: ep.name });
    else this.#out.onHostEndpointRemove({ name: ep.name });
  }

  /** Every policy's metadata (not only active ones): tier, order, types and flags. */
  updatePolicy(key: string, policy: PolicyData | undefined): void {
    const old = this.#policies.get(key);
    if (policy === undefined) this.#policies.delete(key);
    else this.#policies.set(key, policy);
    if (old !== undefined && policy !== undefined && sameMetadata(old, policy)) return;
    for (const ep of this.#policyEndpoints.get(key) ?? []) this.#dirty.add(ep);
  }

  updateTier(name: string, tier: TierData | undefined): void {
    if (tier === undefined) this.#tiers.delete(name);
    else this.#tiers.set(name, tier);
    // Tiers change rarely; re-resolving every local endpoint is simpler than tracking which.
    for (const key of this.#endpoints.keys()) this.#dirty.add(key);
  }

  onPolicyMatch(policyKey: string, endpointKey: string): void {
    addTo(this.#policyEndpoints, policyKey, endpointKey);
    addTo(this.#endpointPolicies, endpointKey, policyKey);
    this.#dirty.add(endpointKey);
  }

  onPolicyMatchStopped(policyKey: string, endpointKey: string): void {
    removeFrom(this.#policyEndpoints, policyKey, endpointKey);
    removeFrom(this.#endpointPolicies, endpointKey, policyKey);
    this.#dirty.add(endpointKey);
  }

  /** Recomputes and reports every endpoint marked dirty since the last flush. */
  flush(): void {
    for (const key of this.#dirty) {
      const ep = this.#endpoints.get(key);
      if (ep !== undefined) this.#send(key, ep);
    }
    this.#dirty.clear();
  }

  #send(key: string, ep: EndpointData): void {
    const policies = this.#sortedPolicies(key);
    if (ep.kind === 'WorkloadEndpoint') {
      const tiers = this.#tierInfos(policies, (p) => !p.doNotTrack && !p.preDNAT, true, false);
      this.#out.onWorkloadEndpointUpdate({ namespace: ep.namespace, name: ep.name }, { ...ep.endpoint, tiers });
      return;
    }
    const endpoint: HostEndpoint = {
      ...ep.endpoint,
      tiers: this.#tierInfos(policies, (p) => !p.doNotTrack && !p.preDNAT, true, false),
      untrackedTiers: this.#tierInfos(policies, (p) => p.doNotTrack, true, true),
      preDnatTiers: this.#tierInfos(policies, (p) => p.preDNAT && !p.doNotTrack, false, true),
      forwardTiers: this.#tierInfos(policies, (p) => p.applyOnForward && !p.doNotTrack && !p.preDNAT, true, false),
    };
    this.#out.onHostEndpointUpdate({ name: ep.name }, endpoint);
  }

  /**
   * Groups the (sorted) policies that `include` accepts by tier. `egress` false leaves egress
   * lists empty (preDNAT); `pass` makes every tier end in Pass (untracked, preDNAT).
   */
  #tierInfos(policies: readonly PolicyData[], include: (p: PolicyData) => boolean, egress: boolean, pass: boolean): TierInfo[] {
    const out: TierInfo[] = [];
    let current: TierInfo | undefined;
    for (const p of policies) {
      if (!include(p)) continue;
      if (current === undefined || current.name !== p.id.tier) {
        current = { name: p.id.tier, defaultAction: pass ? 'Pass' : this.#rank(p.id.tier).defaultAction, ingressPolicies: [], egressPolicies: [] };
        out.push(current);
      }
      if (p.ingress) current.ingressPolicies.push(p.id);
      if (egress && p.egress) current.egressPolicies.push(p.id);
    }
    return out.filter((t) => t.ingressPolicies.length > 0 || t.egressPolicies.length > 0);
  }

  #sortedPolicies(endpointKey: string): PolicyData[] {
    const keys = this.#endpointPolicies.get(endpointKey);
    if (keys === undefined) return [];
    const list: PolicyData[] = [];
    for (const k of keys) {
      const p = this.#policies.get(k);
      if (p !== undefined) list.push(p);
    }
    return list.sort((a, b) => this.#compare(a, b));
  }

  #compare(a: PolicyData, b: PolicyData): number {
    if (a.id.tier !== b.id.tier) return compareTiers(a.id.tier, this.#rank(a.id.tier), b.id.tier, this.#rank(b.id.tier));
    const ao = a.order ?? Infinity;
    const bo = b.order ?? Infinity;
    if (ao !== bo) return ao < bo ? -1 : 1;
    return compareStrings(tieBreak(a.id), tieBreak(b.id));
  }

  #rank(tier: string): TierRank {
    const t = this.#tiers.get(tier) ?? BUILT_IN_TIERS[tier];
    return t === undefined ? { defined: false, order: undefined, defaultAction: 'Deny' } : { defined: true, order: t.order, defaultAction: t.defaultAction };
  }
}

function compareTiers(aName: string, a: TierRank, bName: string, b: TierRank): number {
  if (a.defined !== b.defined) return a.defined ? -1 : 1;
  if ((a.order === undefined) !== (b.order === undefined)) return a.order !== undefined ? -1 : 1;
  if (a.order !== undefined && b.order !== undefined && a.order !== b.order) return a.order < b.order ? -1 : 1;
  return compareStrings(aName, bName);
}

/** Calico's tie-break between policies of equal order: `name/namespace/kind`. */
function tieBreak(id: PolicyId): string {
  return id.namespace === undefined ? `${id.name}//GlobalNetworkPolicy` : `${id.name}/${id.namespace}/NetworkPolicy`;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sameMetadata(a: PolicyData, b: PolicyData): boolean {
  return (
    a.id.tier === b.id.tier &&
    a.order === b.order &&
    a.ingress === b.ingress &&
    a.egress === b.egress &&
    a.doNotTrack === b.doNotTrack &&
    a.preDNAT === b.preDNAT &&
    a.applyOnForward === b.applyOnForward
  );
}
