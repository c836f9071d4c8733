/**
 * Evaluating a selector tree against a resource's labels.
 *
 * Labels come either as a plain record or through `LabelLookup`, the one-method interface that
 * lets Felix layer a workload's own labels over inherited namespace/profile labels without
 * building a merged object per evaluation (`Map<string, string>` already satisfies it).
 *
 * Semantics are Calico's, including the ones that surprise people:
 *
 *   operator           label present with value v     label absent
 *   has(k)             true                           false
 *   k == "x"           v === "x"                      false
 *   k != "x"           v !== "x"                      TRUE
 *   k in {...}         v in set                       false
 *   k not in {...}     v not in set                   TRUE   (also for `k not in {}`)
 *   k contains "x"     v includes "x"                 false
 *   k starts with "x"  v startsWith "x"               false
 *   k ends with "x"    v endsWith "x"                 false
 *
 * `global()`: Calico's AST evaluates it to true and gives it meaning elsewhere, by rewriting a
 * rule's `namespaceSelector: global()` to `!has(projectcalico.org/namespace)` when converting
 * policy (updateprocessors.getEndpointSelector). Here the caller can say directly whether the
 * resource is namespaced via `EvaluateOptions.namespaced`; `global()` is then `!namespaced`.
 * When the option is left out, `global()` is true, as in Calico's parser, so evaluating a
 * rewritten/plain selector behaves exactly like Calico.
 */

import { setContains, type SelectorNode } from './ast.js';

/** Read access to a label set, possibly computed or layered. `undefined` means absent. */
export interface LabelLookup {
  get(key: string): string | undefined;
}

export type LabelSource = Readonly<Record<string, string>> | LabelLookup;

export interface EvaluateOptions {
  /**
   * Whether the resource being matched lives in a namespace (WorkloadEndpoint, NetworkSet) or
   * not (HostEndpoint, GlobalNetworkSet, Node). Only `global()` reads it: it matches when this is
   * false. Leave it out to get Calico's parser behaviour, where `global()` always matches.
   */
  readonly namespaced?: boolean;
}

/**
 * Evaluates `node`. `isLookup` says which kind of source `labels` is, decided once per call by
 * the caller so the recursion does not re-check it or allocate an adapter.
 */
export function evaluateNode(node: SelectorNode, labels: LabelSource, isLookup: boolean, globalMatches: boolean): boolean {
  switch (node.kind) {
    case 'all':
      return true;
    case 'global':
      return globalMatches;
    case 'has':
      return read(labels, isLookup, node.key) !== undefined;
    case 'eq': {
      const v = read(labels, isLookup, node.key);
      return v !== undefined && v === node.value;
    }
    case 'ne': {
      const v = read(labels, isLookup, node.key);
      return v === undefined || v !== node.value;
    }
    case 'contains': {
      const v = read(labels, isLookup, node.key);
      return v !== undefined && v.includes(node.value);
    }
    case 'startsWith': {
      const v = read(labels, isLookup, node.key);
      return v !== undefined && v.startsWith(node.value);
    }
    case 'endsWith': {
      const v = read(labels, isLookup, node.key);
      return v !== undefined && v.endsWith(node.value);
    }
    case 'in': {
      const v = read(labels, isLookup, node.key);
      return v !== undefined && setContains(node.values, v);
    }
    case 'notIn': {
      const v = read(labels, isLookup, node.key);
      return v === undefined || !setContains(node.values, v);
    }
    case 'not':
      return !evaluateNode(node.operand, labels, isLookup, globalMatches);
    case 'and':
      for (const operand of node.operands) {
        if (!evaluateNode(operand, labels, isLookup, globalMatches)) return false;
      }
      return true;
    case 'or':
      for (const operand of node.operands) {
        if (evaluateNode(operand, labels, isLookup, globalMatches)) return true;
      }
      return false;
  }
}

/** True when `labels` is a LabelLookup rather than a plain record. */
export function isLabelLookup(labels: LabelSource): labels is LabelLookup {
  // A record's values are strings, so a function-valued `get` can only come from a lookup.
  return typeof (labels as { get?: unknown }).get === 'function';
}

function read(labels: LabelSource, isLookup: boolean, key: string): string | undefined {
  if (isLookup) return (labels as LabelLookup).get(key);
  // Own properties only: label keys such as `constructor` or `toString` are legal and must not
  // pick up Object.prototype members.
  const record = labels as Readonly<Record<string, string>>;
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
