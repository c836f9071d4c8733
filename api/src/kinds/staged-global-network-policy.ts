/**
 * StagedGlobalNetworkPolicy: a GlobalNetworkPolicy not yet enforced, with a `stagedAction`
 * (`staged-policy.ts`). Its fields, name rule and checks are GlobalNetworkPolicy's.
 */
import type { KindDef } from '../validation/kind-def.js';
import { obj, type Infer } from '../validation/schema.js';
import { checkGlobalPolicy, globalPolicyFields } from './global-network-policy.js';
import { policyName } from './policy.js';
import { checkStagedDelete, defaultStagedPolicy, isStagedDelete, stagedAction } from './staged-policy.js';

const spec = obj({ stagedAction: stagedAction(), ...globalPolicyFields });

export type StagedGlobalNetworkPolicySpec = Infer<typeof spec>;

export const stagedGlobalNetworkPolicy: KindDef = {
  kind: 'StagedGlobalNetworkPolicy',
  spec,
  name: policyName('global'),
  defaults: defaultStagedPolicy,
  rules: (res, issues) => (isStagedDelete(res) ? checkStagedDelete(res, ['tier'], issues) : checkGlobalPolicy(res, issues)),
};
