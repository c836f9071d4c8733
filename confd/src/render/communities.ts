/**
 * BGP communities on the routes this node exports: BGPConfiguration `prefixAdvertisements`
 * (a CIDR and the communities of every exported route inside it), each community a literal
 * (`aa:nn` standard, `aa:nn:mm` large) or a name from `communities`. As Calico:
 *
 * - the node's own BGPConfiguration (`node.<name>`) replaces `default`'s advertisements when it
 *   has any; a name is looked up in the same BGPConfiguration's `communities`, then in
 *   `default`'s;
 * - every route Cattail's own export rules send (to every peer: mesh, global, node, local
 *   workloads) gets the communities of each advertisement whose CIDR contains it, added
 *   together when several do. A route a BGPFilter export rule accepts leaves before this step.
 *
 * A name defined nowhere (validation refuses it within one BGPConfiguration; across the two it
 * can still happen) is left out with a note at the top of the file.
 */
import { formatCIDR, parseCIDR, type CIDR } from '@cattail/api';
import type { BgpConfigurationSpec, BgpModel } from '../model/bgp-model.js';
import { addCommunity } from './bgp-filters.js';

export interface CommunityRule {
  readonly cidr: CIDR;
  /** BIRD statements: `bgp_community.add((a, b));` … */
  readonly adds: readonly string[];
  /** The values, for the comment. */
  readonly values: readonly string[];
}

const LITERAL = /^\d+:\d+(:\d+)?$/;

function definedCommunities(spec: Readonly<BgpConfigurationSpec> | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of spec?.communities ?? []) if (c?.name && c.value) out.set(c.name, c.value);
  return out;
}

export function prefixCommunities(model: BgpModel, node: string, version: 4 | 6): { rules: CommunityRule[]; notes: string[] } {
  const global = model.configs.get('default');
  const own = model.configs.get(`node.${node}`);
  const source = (own?.prefixAdvertisements?.length ?? 0) > 0 ? own : global;
  const names = new Map([...definedCommunities(global), ...definedCommunities(source === own ? own : undefined)]);
  const rules: CommunityRule[] = [];
  const notes: string[] = [];
  for (const pa of source?.prefixAdvertisements ?? []) {
    const cidr = typeof pa?.cidr === 'string' ? parseCIDR(pa.cidr) : undefined;
    if (cidr === undefined || cidr.version !== version) continue;
    const values: string[] = [];
    for (const c of pa.communities ?? []) {
      if (typeof c !== 'string') continue;
      const value = LITERAL.test(c) ? c : names.get(c);
      if (value === undefined) notes.push(`prefixAdvertisements ${formatCIDR(cidr)}: community "${c}" is defined in no BGPConfiguration; not attached`);
      else values.push(value);
    }
    const adds = values.map(addCommunity).filter((s): s is string => s !== undefined);
    if (adds.length > 0) rules.push({ cidr, adds, values });
  }
  return { rules, notes };
}
