/**
 * StagedNetworkPolicy (namespaced): a NetworkPolicy not yet enforced, with a `stagedAction`
 * (`staged-policy.ts`). Its fields, name rule and checks are NetworkPolicy's.
 */
import type { KindDef } from '../validation/kind-def.js';
import { obj, type Infer } from '../validation/schema.js';
import { checkPolicy, policyFields, policyName } from './policy.js';
import { checkStagedDelete, defaultStagedPolicy, isStagedDelete, stagedAction } from './staged-policy.js';

const spec = obj({ stagedAction: stagedAction(), ...policyFields });

export type StagedNetworkPolicySpec = Infer<typeof spec>;

export const stagedNetworkPolicy: KindDef = {
  kind: 'StagedNetworkPolicy',
  spec,
  name: policyName('namespaced'),
  defaults: defaultStagedPolicy,
  rules: (res, issues) => (isStagedDelete(res) ? checkStagedDelete(res, ['tier'], issues) : checkPolicy(res, 'NetworkPolicy', issues)),
};
