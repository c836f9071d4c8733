/**
 * NetworkPolicy (namespaced): an ordered set of rules applied to the workload endpoints of its
 * namespace that match `selector`. Shares its fields, defaults and checks with
 * GlobalNetworkPolicy (`policy.ts`) and its rules with Profile (`rule.ts`).
 */
import type { KindDef } from '../validation/kind-def.js';
import { obj, type Infer } from '../validation/schema.js';
import { checkPolicy, defaultPolicy, policyFields, policyName } from './policy.js';

const spec = obj(policyFields);

export type NetworkPolicySpec = Infer<typeof spec>;

export const networkPolicy: KindDef = {
  kind: 'NetworkPolicy',
  spec,
  name: policyName('namespaced'),
  defaults: defaultPolicy,
  rules: (res, issues) => checkPolicy(res, 'NetworkPolicy', issues),
};
