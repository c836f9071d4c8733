/**
 * References between resources that the CLI checks before writing, after the input has passed
 * validation (which looks at one resource at a time) and once the datastore is open:
 *
 *   BGPPeer spec.filters[i]  names a BGPFilter that must exist, in the datastore or in the same
 *                            input (a file may carry the filter and the peer that uses it).
 *
 * Calico does not refuse this at write time (libcalico-go's validator checks the names' syntax
 * only, and confd renders what it finds); Cattail refuses it here because a peer naming a filter
 * that is not there is a typo the operator wants to hear about before BIRD runs without it.
 * Like any other input problem, each is one line naming the file, document and field, and
 * nothing is written.
 */
import { describeRef, refOf, type Resource } from '@cattail/api';
import type { Datastore } from '@cattail/datastore';
import type { LoadedResource } from './resource-loader.js';

export async function missingReferences(ds: Datastore, loaded: readonly LoadedResource[]): Promise<string[]> {
  const peers = loaded.filter((l) => l.resource.kind === 'BGPPeer' && filtersOf(l.resource).length > 0);
  if (peers.length === 0) return [];
  const known = new Set((await ds.list('BGPFilter')).items.map((f) => f.metadata.name));
  for (const l of loaded) if (l.resource.kind === 'BGPFilter') known.add(l.resource.metadata.name);
  const problems: string[] = [];
  for (const { resource, origin } of peers) {
    filtersOf(resource).forEach((name, i) => {
      if (!known.has(name)) {
        problems.push(
          `${origin}: ${describeRef(refOf(resource))}: spec.filters[${i}]: BGPFilter "${name}" does not exist; create it first, or in the same input`,
        );
      }
    });
  }
  return problems;
}

function filtersOf(res: Resource): string[] {
  const filters = res.spec?.filters;
  return Array.isArray(filters) ? filters.filter((f): f is string => typeof f === 'string') : [];
}
