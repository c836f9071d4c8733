/**
 * What NetworkPolicy and GlobalNetworkPolicy share: the common spec fields, the defaults
 * libcalico-go's clientv3 fills on create (tier `default`; `types` inferred from the rules, as
 * `defaultPolicyTypesField` does), the name rules, and the checks both kinds make.
 *
 * Policy names: a DNS-1123 label, optionally with one dot-separated prefix (`security.allow-dns`),
 * as Calico's validator allows since tiers exist; namespaced policies also accept the
 * `knp.default.` / `ossg.default.` prefixes Calico gives converted Kubernetes policies. Current
 * Calico (3.32) no longer requires the prefix to be the tier's name, so neither do we.
 */
import type { ValidationIssue } from '../errors.js';
import { selector } from '../validation/fields.js';
import { DNS1123_SUBDOMAIN_MAX, dnsLabel } from '../validation/formats.js';
import { asArray, asObject, asString, type WithSpec } from '../validation/kind-def.js';
import { arr, num, oneOf, str, test } from '../validation/schema.js';
import { checkRules, rulesSchema } from './rule.js';

const POLICY_TYPES = ['Ingress', 'Egress'] as const;
const DEFAULT_TIER = 'default';

export const policyFields = {
  tier: str({ check: test((s: string) => dnsLabel(s) && `${dnsLabel(s)} (tier names are DNS-1123 labels)`) }),
  order: num(),
  selector: selector(),
  serviceAccountSelector: selector(),
  types: arr(oneOf(POLICY_TYPES), {
    maxItems: 2,
    check: (types, path, issues) => {
      const seen = new Set<unknown>();
      types.forEach((t, i) => {
        if (seen.has(t)) issues.push({ path: `${path}[${i}]`, message: `"${String(t)}" is listed more than once` });
        seen.add(t);
      });
    },
  }),
  ingress: rulesSchema(),
  egress: rulesSchema(),
  performanceHints: arr(oneOf(['AssumeNeededOnEveryNode'] as const), { unique: true }),
} as const;

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const SUBDOMAIN = `${LABEL}(\\.${LABEL})*`;
const NAMESPACED_NAME = new RegExp(`^(${LABEL}(\\.${LABEL})?|(knp|ossg)\\.default\\.${SUBDOMAIN})$`);
const GLOBAL_NAME = new RegExp(`^(${LABEL}\\.)?${LABEL}$`);

export function policyName(scope: 'namespaced' | 'global') {
  return (name: string): string | undefined => {
    if (name.length > DNS1123_SUBDOMAIN_MAX) return `is ${name.length} characters long; at most ${DNS1123_SUBDOMAIN_MAX} are allowed`;
    const ok = scope === 'namespaced' ? NAMESPACED_NAME : GLOBAL_NAME;
    if (ok.test(name)) return undefined;
    return (
      `"${name}" is not a policy name: lower case letters, digits and '-', starting and ending with a letter ` +
      `or digit, optionally with one '.'-separated prefix (e.g. "platform.allow-dns")`
    );
  };
}

/** The label clientv3 puts on every tiered policy, so policies can be listed by tier. */
export const TIER_LABEL = 'projectcalico.org/tier';

/**
 * The tier default and the tier label: `spec.tier` (default `default`) copied into the
 * `projectcalico.org/tier` label, replacing any value the user gave, as clientv3's
 * `addTierLabel` does. (clientv3 writes the label for other tiers and adds `default` when it
 * reads a policy without one; we store it for every tier, which reads back the same.)
 */
export function defaultTier(res: WithSpec): void {
  const spec = res.spec;
  if (spec.tier === undefined || spec.tier === '') spec.tier = DEFAULT_TIER;
  const labels: unknown = res.metadata.labels;
  // Labels of the wrong type are left for the validator to report.
  if (typeof spec.tier === 'string' && (labels === undefined || asObject(labels))) {
    res.metadata.labels = { ...(labels as Record<string, string> | undefined), [TIER_LABEL]: spec.tier };
  }
}

/** Calico's `defaultPolicyTypesField` plus the tier default. */
export function defaultPolicy(res: WithSpec): void {
  const spec = res.spec;
  defaultTier(res);
  if (spec.types === undefined || (Array.isArray(spec.types) && spec.types.length === 0)) {
    const hasIngress = asArray(spec.ingress).length > 0;
    const hasEgress = asArray(spec.egress).length > 0;
    if (!hasEgress) spec.types = ['Ingress'];
    else if (!hasIngress) spec.types = ['Egress'];
    else spec.types = ['Ingress', 'Egress'];
  }
}

/** Checks both policy kinds make; `owner` decides the service and namespace rules. */
export function checkPolicy(res: WithSpec, owner: 'NetworkPolicy' | 'GlobalNetworkPolicy', issues: ValidationIssue[]): void {
  const spec = res.spec;
  const selectorFields = ['selector', 'serviceAccountSelector'];
  if (owner === 'GlobalNetworkPolicy') selectorFields.push('namespaceSelector');
  for (const field of selectorFields) {
    const s = asString(spec[field]);
    if (s?.includes('global(')) {
      issues.push({ path: `spec.${field}`, message: 'global() can only be used in a rule namespaceSelector' });
    }
  }
  checkRules(spec.ingress, 'spec.ingress', { direction: 'ingress', owner }, issues);
  checkRules(spec.egress, 'spec.egress', { direction: 'egress', owner }, issues);
}
