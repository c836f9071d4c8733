/**
 * Profile: rules and labels attached to endpoints by name (Calico's Kubernetes integration
 * makes one per namespace and service account). Profile rules are not restricted by direction
 * the way policy rules are; `labelsToApply` follows Kubernetes label rules.
 */
import { labels } from '../validation/fields.js';
import type { KindDef } from '../validation/kind-def.js';
import { obj, type Infer } from '../validation/schema.js';
import { checkRules, rulesSchema } from './rule.js';

const spec = obj({
  ingress: rulesSchema(),
  egress: rulesSchema(),
  labelsToApply: labels(),
});

export type ProfileSpec = Infer<typeof spec>;

export const profile: KindDef = {
  kind: 'Profile',
  spec,
  rules: (res, issues) => {
    checkRules(res.spec.ingress, 'spec.ingress', { direction: 'ingress', owner: 'Profile' }, issues);
    checkRules(res.spec.egress, 'spec.egress', { direction: 'egress', owner: 'Profile' }, issues);
  },
};

/**
 * The profiles Calico derives in Kubernetes mode, and the prefixes of the labels they apply:
 * `kns.<namespace>` (labels `pcns.<key>`), `ksa.<namespace>.<serviceaccount>` (labels `pcsa.<key>`).
 * Felix's selector rewriting and the Kubernetes conversions both spell them from here.
 */
export const NAMESPACE_PROFILE_PREFIX = 'kns.';
export const SERVICE_ACCOUNT_PROFILE_PREFIX = 'ksa.';
export const NAMESPACE_LABEL_PREFIX = 'pcns.';
export const SERVICE_ACCOUNT_LABEL_PREFIX = 'pcsa.';
