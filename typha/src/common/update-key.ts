/**
 * The identity of an update as an agent sees it: kind, namespace and name. Dedupe, the cache,
 * its tombstones and the agents' own stores all key on this, so a resume or a snapshot
 * reconcile talks about exactly the keys the client holds. (Kubernetes names and namespaces
 * cannot contain `/`, so the joined form is unambiguous.)
 */
import type { Update } from '../protocol/messages.js';

export function updateKey(u: Pick<Update, 'kind' | 'name' | 'namespace'>): string {
  return !u.namespace ? `${u.kind}//${u.name}` : `${u.kind}/${u.namespace}/${u.name}`;
}
