/**
 * Tier: an ordered group of policies. Tier names are DNS-1123 labels (they appear inside other
 * names). Calico keeps three built-in tiers at fixed places — `kube-admin` (order 1000, default
 * action Pass), `default` (1,000,000, Deny) and `kube-baseline` (10,000,000, Pass) — and rejects
 * any other order or action for them; we fill those values in when left out, so a hand-written
 * `default` tier need not repeat them. Other tiers default their action to Deny, as the v3 CRD
 * does.
 */
import type { ValidationIssue } from '../errors.js';
import { dnsLabel } from '../validation/formats.js';
import type { KindDef, WithSpec } from '../validation/kind-def.js';
import { any, arr, num, obj, oneOf, type Infer } from '../validation/schema.js';

const spec = obj({
  order: num(),
  defaultAction: oneOf(['Deny', 'Pass'] as const),
});

export type TierSpec = Infer<typeof spec>;

export const BUILT_IN_TIERS: Readonly<Record<string, { order: number; defaultAction: 'Deny' | 'Pass' }>> = {
  'kube-admin': { order: 1_000, defaultAction: 'Pass' },
  default: { order: 1_000_000, defaultAction: 'Deny' },
  'kube-baseline': { order: 10_000_000, defaultAction: 'Pass' },
};

function defaults(res: WithSpec): void {
  const builtIn = BUILT_IN_TIERS[res.metadata.name];
  if (res.spec.defaultAction === undefined) res.spec.defaultAction = builtIn?.defaultAction ?? 'Deny';
  if (builtIn && res.spec.order === undefined) res.spec.order = builtIn.order;
}

function rules(res: WithSpec, issues: ValidationIssue[]): void {
  const builtIn = BUILT_IN_TIERS[res.metadata.name];
  if (!builtIn) return;
  if (res.spec.order !== builtIn.order) {
    issues.push({ path: 'spec.order', message: `the ${res.metadata.name} tier's order must be ${builtIn.order}` });
  }
  if (res.spec.defaultAction !== undefined && res.spec.defaultAction !== builtIn.defaultAction) {
    issues.push({
      path: 'spec.defaultAction',
      message: `the ${res.metadata.name} tier's default action must be ${builtIn.defaultAction}`,
    });
  }
}

export const tier: KindDef = {
  kind: 'Tier',
  spec,
  status: obj({ conditions: arr(any()) }),
  name: (name) => dnsLabel(name),
  defaults,
  rules,
};
