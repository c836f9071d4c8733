/**
 * GlobalNetworkPolicy: a cluster-wide policy, selecting workload and host endpoints in every
 * namespace. Beyond NetworkPolicy it has `namespaceSelector` and the host-protection modes:
 * `doNotTrack` and `preDNAT` (not both) need `applyOnForward: true`, and a preDNAT policy may
 * have only ingress rules and type Ingress (libcalico-go `validateGlobalNetworkPolicySpec`).
 */
import type { ValidationIssue } from '../errors.js';
import { selector } from '../validation/fields.js';
import { asArray, isSet, type KindDef, type WithSpec } from '../validation/kind-def.js';
import { bool, obj, type Infer } from '../validation/schema.js';
import { checkPolicy, defaultPolicy, policyFields, policyName } from './policy.js';

/** GlobalNetworkPolicy's fields, shared with StagedGlobalNetworkPolicy. */
export const globalPolicyFields = {
  ...policyFields,
  namespaceSelector: selector(),
  doNotTrack: bool(),
  preDNAT: bool(),
  applyOnForward: bool(),
} as const;

const spec = obj(globalPolicyFields);

export type GlobalNetworkPolicySpec = Infer<typeof spec>;

/** The host-protection rules and the checks every policy makes; shared with the staged kind. */
export function checkGlobalPolicy(res: WithSpec, issues: ValidationIssue[]): void {
  const { doNotTrack, preDNAT, applyOnForward } = res.spec;
  if (doNotTrack === true && preDNAT === true) {
    issues.push({ path: 'spec.preDNAT', message: 'preDNAT and doNotTrack cannot both be true' });
  }
  if (preDNAT === true) {
    if (isSet(res.spec.egress)) issues.push({ path: 'spec.egress', message: 'a preDNAT policy cannot have egress rules' });
    if (asArray(res.spec.types).includes('Egress')) {
      issues.push({ path: 'spec.types', message: 'a preDNAT policy cannot have type Egress' });
    }
  }
  if ((doNotTrack === true || preDNAT === true) && applyOnForward !== true) {
    issues.push({ path: 'spec.applyOnForward', message: 'must be true when preDNAT or doNotTrack is true' });
  }
  checkPolicy(res, 'GlobalNetworkPolicy', issues);
}

export const globalNetworkPolicy: KindDef = {
  kind: 'GlobalNetworkPolicy',
  spec,
  name: policyName('global'),
  defaults: defaultPolicy,
  rules: checkGlobalPolicy,
};
