/**
 * Which IP sets the active rules need (Calico's RuleScanner). Every active policy and profile
 * holds a reference on each IP set its rules name; a set is added to the IP set member
 * calculator on its first reference and removed on its last, so two policies with the same
 * selector share one set and a policy edit that keeps a selector does not churn it.
 *
 * It also turns active policies and profiles into dataplane messages. A profile that an
 * endpoint names but the datastore does not have gets deny-all rules (Calico's
 * DummyDropRules), so a missing namespace profile fails closed.
 */
import type { Policy, Profile, Rule } from '../proto/messages.js';
import type { CalcCallbacks } from './callbacks.js';
import type { PolicyData, ProfileData } from './decode.js';
import type { IPSetData } from './rule-parser.js';

/** The IP set member calculator, as the scanner sees it. */
export interface IPSetRegistry {
  addIPSet(data: IPSetData): void;
  removeIPSet(id: string): void;
}

export type RuleScannerOutput = Pick<CalcCallbacks, 'onPolicyActive' | 'onPolicyInactive' | 'onProfileActive' | 'onProfileInactive'>;

const DENY_ALL: readonly Rule[] = Object.freeze([Object.freeze({ action: 'Deny', position: 0 } as Rule)]);
const NO_SETS: ReadonlyMap<string, IPSetData> = new Map();

export class RuleScanner {
  readonly #registry: IPSetRegistry;
  readonly #out: RuleScannerOutput;
  /** Owner (`pol:<key>`, `prof:<name>`) → the IP set ids its rules use. */
  readonly #ownerSets = new Map<string, readonly string[]>();
  /** IP set id → number of owners using it. */
  readonly #refs = new Map<string, number>();

  constructor(registry: IPSetRegistry, out: RuleScannerOutput) {
    this.#registry = registry;
    this.#out = out;
  }

  policyActive(p: PolicyData): void {
    this.#use(`pol:${p.key}`, p.ipSets);
    const policy: Policy = { inboundRules: p.inboundRules, outboundRules: p.outboundRules };
    if (p.id.namespace !== undefined) policy.namespace = p.id.namespace;
    if (p.doNotTrack) policy.untracked = true;
    if (p.preDNAT) policy.preDnat = true;
    this.#out.onPolicyActive(p.key, p.id, policy);
  }

  policyInactive(key: string): void {
    this.#use(`pol:${key}`, NO_SETS);
    this.#out.onPolicyInactive(key);
  }

  /** `profile` undefined: the endpoints name a profile the datastore does not have. */
  profileActive(name: string, profile: ProfileData | undefined): void {
    this.#use(`prof:${name}`, profile?.ipSets ?? NO_SETS);
    const msg: Profile = profile
      ? { inboundRules: profile.inboundRules, outboundRules: profile.outboundRules }
      : { inboundRules: [...DENY_ALL], outboundRules: [...DENY_ALL] };
    this.#out.onProfileActive(name, msg);
  }

  profileInactive(name: string): void {
    this.#use(`prof:${name}`, NO_SETS);
    this.#out.onProfileInactive(name);
  }

  /** The number of IP sets in use, for status. */
  get activeIPSets(): number {
    return this.#refs.size;
  }

  #use(owner: string, sets: ReadonlyMap<string, IPSetData>): void {
    const old = this.#ownerSets.get(owner) ?? [];
    for (const [id, data] of sets) {
      if (old.includes(id)) continue;
      const n = this.#refs.get(id) ?? 0;
      this.#refs.set(id, n + 1);
      if (n === 0) this.#registry.addIPSet(data);
    }
    for (const id of old) {
      if (sets.has(id)) continue;
      const n = this.#refs.get(id)! - 1;
      if (n > 0) {
        this.#refs.set(id, n);
      } else {
        this.#refs.delete(id);
        this.#registry.removeIPSet(id);
      }
    }
    if (sets.size === 0) this.#ownerSets.delete(owner);
    else this.#ownerSets.set(owner, [...sets.keys()]);
  }
}
