/**
 * calicoctl's wording for per-resource failures and batch results, so scripts and operators that
 * read calicoctl's output read ours. The texts come from libcalico-go's lib/errors and
 * calicoctl's commands/{apply,create,replace,delete}.go:
 *
 *   resource already exists: IPPool(pool-a)
 *   resource does not exist: IPPool(pool-a) with error: <nil>
 *   update conflict: IPPool(pool-a)
 *   Successfully applied 3 'IPPool' resource(s)
 *   Failed to create 'IPPool' resource: [resource already exists: IPPool(pool-a)]
 *
 * (`with error: <nil>` is literally what calicoctl prints against etcd, where the backend has no
 * inner error to add; it is kept so text matching written for calicoctl keeps working.)
 */
import { describeRef, type ResourceRef } from '@cattail/api';
import { firstLine } from './errors.js';
import { hasCode } from './resource-actions.js';

export function failureMessage(err: unknown, ref: ResourceRef): string {
  if (hasCode(err, 'DATASTORE_NOT_FOUND')) return notFoundMessage(ref);
  if (hasCode(err, 'DATASTORE_ALREADY_EXISTS')) return `resource already exists: ${describeRef(ref)}`;
  if (hasCode(err, 'DATASTORE_CONFLICT')) return `update conflict: ${describeRef(ref)}`;
  return firstLine(err);
}

export function notFoundMessage(ref: ResourceRef): string {
  return `resource does not exist: ${describeRef(ref)} with error: <nil>`;
}

/** Go's `%v` of a []error: `[first second]`. */
export function goErrorList(messages: readonly string[]): string {
  return `[${messages.join(' ')}]`;
}

export type WriteVerb = 'apply' | 'create' | 'replace' | 'delete';

const PAST: Record<WriteVerb, string> = { apply: 'applied', create: 'created', replace: 'replaced', delete: 'deleted' };

export function pastTense(verb: WriteVerb): string {
  return PAST[verb];
}

/** `Successfully applied 3 'IPPool' resource(s)`, or without the kind when kinds are mixed. */
export function successLine(verb: WriteVerb, count: number, singleKind: string | undefined): string {
  return singleKind ? `Successfully ${PAST[verb]} ${count} '${singleKind}' resource(s)` : `Successfully ${PAST[verb]} ${count} resource(s)`;
}

/** calicoctl's line when nothing of the batch was written. */
export function allFailedLine(verb: WriteVerb, total: number, singleKind: string | undefined, errors: string): string {
  if (total === 1) return `Failed to ${verb} '${singleKind}' resource: ${errors}`;
  if (singleKind) return `Failed to ${verb} any '${singleKind}' resources: ${errors}`;
  return `Failed to ${verb} any resources: ${errors}`;
}

/** `Partial success: applied the first 2 out of 3 'IPPool' resources:` */
export function partialLine(verb: WriteVerb, done: number, total: number, singleKind: string | undefined): string {
  const what = singleKind ? `'${singleKind}' resources` : 'resources';
  return `Partial success: ${PAST[verb]} the first ${done} out of ${total} ${what}:`;
}

/** The one kind of a batch, or undefined when it mixes kinds (calicoctl's SingleKind). */
export function singleKindOf(kinds: readonly string[]): string | undefined {
  const set = new Set(kinds);
  return set.size === 1 ? kinds[0] : undefined;
}
