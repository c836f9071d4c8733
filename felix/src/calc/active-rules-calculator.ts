/**
 * Which policies and profiles are active on this node (Calico's ActiveRulesCalculator): a
 * policy is active while its selector matches at least one local endpoint, a profile while a
 * local endpoint names it. Only the policy's own selector matters here; the selectors inside
 * its rules are the RuleScanner's business.
 *
 * A policy with the performance hint AssumeNeededOnEveryNode is active everywhere, matching or
 * not, so its rules and IP sets are in place before the first endpoint it selects arrives.
 *
 * Local endpoints inherit their profiles' labels (labelsToApply), so a policy can select on
 * namespace (`pcns.`) and service account (`pcsa.`) labels. Every match that starts or stops
 * is also passed to the PolicyResolver, which orders the policies per endpoint.
 */
import { jsonEqual } from '@cattail/typha/common';
import type { Labels, PolicyData, ProfileData } from './decode.js';
import { LabelIndex } from './label-index.js';

/** The RuleScanner, as the calculator sees it. */
export interface ActiveRulesSink {
  policyActive(policy: PolicyData): void;
  policyInactive(key: string): void;
  profileActive(name: string, profile: ProfileData | undefined): void;
  profileInactive(name: string): void;
}

/** The PolicyResolver, as the calculator sees it. */
export interface PolicyMatchListener {
  onPolicyMatch(policyKey: string, endpointKey: string): void;
  onPolicyMatchStopped(policyKey: string, endpointKey: string): void;
}

const NONE: readonly string[] = [];

export class ActiveRulesCalculator {
  readonly #sink: ActiveRulesSink;
  readonly #listener: PolicyMatchListener;
  readonly #index: LabelIndex;
  readonly #policies = new Map<string, PolicyData>();
  readonly #profiles = new Map<string, ProfileData>();
  /** Active policy → the local endpoints it matches. */
  readonly #policyEndpoints = new Map<string, Set<string>>();
  /** Policies active regardless of matches (AssumeNeededOnEveryNode). */
  readonly #forced = new Set<string>();
  readonly #endpointProfiles = new Map<string, readonly string[]>();
  /** Active profile → the local endpoints that name it. */
  readonly #profileEndpoints = new Map<string, Set<string>>();

  constructor(sink: ActiveRulesSink, listener: PolicyMatchListener) {
    this.#sink = sink;
    this.#listener = listener;
    this.#index = new LabelIndex({
      onMatchStarted: (policyKey, endpointKey) => this.#matchStarted(policyKey, endpointKey),
      onMatchStopped: (policyKey, endpointKey) => this.#matchStopped(policyKey, endpointKey),
    });
  }

  /** A local endpoint appeared or changed. */
  updateEndpoint(key: string, labels: Labels, profileIds: readonly string[]): void {
    this.#setProfiles(key, profileIds);
    this.#index.updateItem(key, labels, profileIds);
  }

  /** A local endpoint went away (deleted, or moved to another node). */
  deleteEndpoint(key: string): void {
    this.#setProfiles(key, NONE);
    this.#index.deleteItem(key);
  }

  updatePolicy(key: string, policy: PolicyData | undefined): void {
    if (policy === undefined) {
      if (!this.#policies.delete(key)) return;
      // A forced policy without matches goes here; one with matches when its last one stops.
      const forcedOnly = this.#forced.delete(key) && !this.#policyEndpoints.has(key);
      this.#index.deleteSelector(key);
      if (forcedOnly) this.#sink.policyInactive(key);
      return;
    }
    const wasActive = this.#isActive(key);
    this.#policies.set(key, policy);
    if (policy.forceActive) {
      this.#forced.add(key);
      if (!wasActive) this.#sink.policyActive(policy);
    }
    this.#index.updateSelector(key, policy.selector);
    if (!policy.forceActive && this.#forced.delete(key) && !this.#policyEndpoints.has(key)) {
      this.#sink.policyInactive(key);
      return;
    }
    // Newly active policies were sent above or by #matchStarted; still-active ones need their
    // new rules.
    if (wasActive && this.#isActive(key)) this.#sink.policyActive(policy);
  }

  updateProfile(name: string, profile: ProfileData | undefined): void {
    const old = this.#profiles.get(name);
    if (profile === undefined) this.#profiles.delete(name);
    else this.#profiles.set(name, profile);
    this.#index.updateParentLabels(name, profile?.labels);
    const rulesChanged =
      !jsonEqual(old?.inboundRules, profile?.inboundRules) ||
      !jsonEqual(old?.outboundRules, profile?.outboundRules) ||
      (old === undefined) !== (profile === undefined);
    if (rulesChanged && this.#profileEndpoints.has(name)) this.#sink.profileActive(name, profile);
  }

  /** Counts for status and metrics. */
  stats(): { policies: number; profiles: number; activePolicies: number; activeProfiles: number } {
    return {
      policies: this.#policies.size,
      profiles: this.#profiles.size,
      activePolicies: new Set([...this.#policyEndpoints.keys(), ...this.#forced]).size,
      activeProfiles: this.#profileEndpoints.size,
    };
  }

  #isActive(key: string): boolean {
    return this.#policyEndpoints.has(key) || this.#forced.has(key);
  }

  #setProfiles(key: string, profileIds: readonly string[]): void {
    const old = this.#endpointProfiles.get(key) ?? NONE;
    for (const id of profileIds) {
      if (old.includes(id)) continue;
      let eps = this.#profileEndpoints.get(id);
      if (eps === undefined) {
        eps = new Set();
        this.#profileEndpoints.set(id, eps);
        eps.add(key);
        this.#sink.profileActive(id, this.#profiles.get(id));
      } else {
        eps.add(key);
      }
    }
    for (const id of old) {
      if (profileIds.includes(id)) continue;
      const eps = this.#profileEndpoints.get(id);
      if (eps === undefined || !eps.delete(key) || eps.size > 0) continue;
      this.#profileEndpoints.delete(id);
      this.#sink.profileInactive(id);
    }
    if (profileIds.length === 0) this.#endpointProfiles.delete(key);
    else this.#endpointProfiles.set(key, profileIds);
  }

  #matchStarted(policyKey: string, endpointKey: string): void {
    let eps = this.#policyEndpoints.get(policyKey);
    if (eps === undefined) {
      eps = new Set([endpointKey]);
      this.#policyEndpoints.set(policyKey, eps);
      if (!this.#forced.has(policyKey)) this.#sink.policyActive(this.#policies.get(policyKey)!);
    } else {
      eps.add(endpointKey);
    }
    this.#listener.onPolicyMatch(policyKey, endpointKey);
  }

  #matchStopped(policyKey: string, endpointKey: string): void {
    const eps = this.#policyEndpoints.get(policyKey);
    if (eps !== undefined && eps.delete(endpointKey) && eps.size === 0) {
      this.#policyEndpoints.delete(policyKey);
      if (!this.#forced.has(policyKey)) this.#sink.policyInactive(policyKey);
    }
    this.#listener.onPolicyMatchStopped(policyKey, endpointKey);
  }
}
