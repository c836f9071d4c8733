/**
 * NetworkSet (namespaced) and GlobalNetworkSet: named lists of CIDRs that policy selects by
 * label. Nets may be CIDRs (host bits allowed, as Calico's `cidr` validator allows) or bare
 * addresses. The label `projectcalico.org/namespace` is reserved for Calico's own use.
 */
import type { ValidationIssue } from '../errors.js';
import { cidr } from '../validation/fields.js';
import type { KindDef, WithSpec } from '../validation/kind-def.js';
import { arr, obj, type Infer } from '../validation/schema.js';

const spec = obj({ nets: arr(cidr({ bareIP: true })) });

export type NetworkSetSpec = Infer<typeof spec>;
export type GlobalNetworkSetSpec = NetworkSetSpec;

const RESERVED_LABEL = 'projectcalico.org/namespace';

function rules(res: WithSpec, issues: ValidationIssue[]): void {
  const labels = res.metadata.labels;
  if (labels && typeof labels === 'object' && Object.hasOwn(labels, RESERVED_LABEL)) {
    issues.push({
      path: `metadata.labels["${RESERVED_LABEL}"]`,
      message: 'is reserved for Calico: use another label key',
    });
  }
}

export const networkSet: KindDef = { kind: 'NetworkSet', spec, rules };
export const globalNetworkSet: KindDef = { kind: 'GlobalNetworkSet', spec, rules };
