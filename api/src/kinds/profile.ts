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
