/**
 * The metadata Calico gives the profile of a namespace or service account
 * (`NamespaceToProfile`, `ServiceAccountToProfile`): the profile's name, the source's
 * creationTimestamp, its UID through `ConvertUID`, and a resourceVersion joining the namespace's
 * and the service account's revisions as `<ns rv>/<sa rv>` with the other side empty (Calico's
 * profile client splits it again to watch both).
 */
import type { ObjectMeta } from '@cattail/api';
import { str } from './read.js';
import { convertUID } from './uid.js';

export function profileMeta(name: string, meta: Record<string, unknown> | undefined, side: 'namespace' | 'serviceAccount'): ObjectMeta {
  const out: ObjectMeta = { name };
  const uid = str(meta?.uid, 'metadata.uid');
  if (uid) out.uid = convertUID(uid);
  const created = str(meta?.creationTimestamp, 'metadata.creationTimestamp');
  if (created) out.creationTimestamp = created;
  const rv = str(meta?.resourceVersion, 'metadata.resourceVersion') ?? '';
  out.resourceVersion = side === 'namespace' ? `${rv}/` : `/${rv}`;
  return out;
}

/** Each label under `prefix`, plus `<prefix>projectcalico.org/name: name`. */
export function prefixedLabels(labels: Record<string, string>, prefix: string, nameLabel: string, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) out[prefix + k] = v;
  out[prefix + nameLabel] = name;
  return out;
}
