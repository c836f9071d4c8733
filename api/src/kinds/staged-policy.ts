/**
 * What the three staged policy kinds share: the `stagedAction` (what would happen to the
 * enforced policy of the same name were the staged one committed) and the rule for `Delete`.
 *
 * Calico (libcalico-go `validateStaged*Policy`): a staged `Delete` carries no policy, so every
 * spec field but `stagedAction` (and `tier`, for the Calico kinds) must be empty; any other
 * action is validated as the enforced policy would be. The action defaults to `Set`, as the
 * v3 CRDs' `+kubebuilder:default=Set` does (libcalico-go's validator applies CRD defaults in
 * etcd mode). Policy types are defaulted only when the action is not `Delete`, or a staged
 * deletion would never validate.
 *
 * Felix never enforces a staged policy. Calico's felix syncer does carry the Calico kinds (as
 * `staged:`-prefixed policies, for flow logs that report what they would have done); Cattail's
 * Felix view does not, since Cattail has no flow logs to feed.
 */
import type { ValidationIssue } from '../errors.js';
import type { WithSpec } from '../validation/kind-def.js';
import { oneOf } from '../validation/schema.js';
import { defaultPolicy, defaultTier } from './policy.js';

export const STAGED_ACTIONS = ['Set', 'Delete', 'Learn', 'Ignore'] as const;

export const stagedAction = () => oneOf(STAGED_ACTIONS);

export function isStagedDelete(res: WithSpec): boolean {
  return res.spec.stagedAction === 'Delete';
}

/** Defaults of a staged Calico policy: the action, then the policy's own unless it is a deletion. */
export function defaultStagedPolicy(res: WithSpec): void {
  if (res.spec.stagedAction === undefined || res.spec.stagedAction === '') res.spec.stagedAction = 'Set';
  if (isStagedDelete(res)) {
    defaultTier(res);
  } else {
    defaultPolicy(res);
  }
}

/** A staged `Delete` must carry nothing but `keep` (and the action itself). */
export function checkStagedDelete(res: WithSpec, keep: readonly string[], issues: ValidationIssue[]): void {
  const extra = Object.keys(res.spec).filter((k) => k !== 'stagedAction' && !keep.includes(k) && !isEmpty(res.spec[k]));
  if (extra.length > 0) {
    const except = keep.length ? `, except ${keep.join(', ')},` : '';
    issues.push({
      path: 'spec',
      message: `spec fields${except} must be empty when stagedAction is Delete (found ${extra.join(', ')})`,
    });
  }
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}
