/**
 * `<KIND> <NAME> [-n NS]` of the commands that change one stored resource (patch, label), resolved
 * with calicoctl's rules before the datastore is opened: KIND is any spelling `get` accepts,
 * namespaced kinds default to namespace `default`, cluster-scoped kinds refuse -n. IPAM records
 * are not resources these commands change (calicoctl has no resource manager for them either).
 */
import { findKind, type KindInfo, type ResourceRef } from '@cattail/api';
import { CommandFailedError } from './errors.js';

export interface ResourceTarget {
  kind: KindInfo;
  ref: ResourceRef;
}

export function resolveTarget(kindName: string, name: string, namespace: string | undefined): ResourceTarget {
  const kind = findKind(kindName);
  if (!kind || kind.storage !== 'resource') throw new CommandFailedError(`resource type '${kindName}' is not supported`);
  if (name === '') throw new CommandFailedError('resource name may not be empty');
  if (!kind.namespaced) {
    if (namespace !== undefined) throw new CommandFailedError(`${kind.kind} is not namespaced`);
    return { kind, ref: { kind: kind.kind, name } };
  }
  return { kind, ref: { kind: kind.kind, name, namespace: namespace ?? 'default' } };
}
