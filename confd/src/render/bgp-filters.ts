/**
 * BGPFilter resources as BIRD 2 functions, one per filter, direction and family that has rules,
 * and the per-session filter bodies that call them. The meaning is Calico's (its BGPFilter
 * reference and its confd); the text is ours.
 *
 *   function 'bgp_<name>_importFilterV4'()        rules in order: the first rule that matches
 *     if (<conditions>) then { <ops> accept; }     ends the whole filter (BIRD's accept/reject
 *     if (<conditions>) then { reject; }           leave the filter, not just the function)
 *   }
 *
 *   import filter {                               export filter {
 *     'bgp_a_importFilterV4'();                     'bgp_a_exportFilterV4'();
 *     'bgp_b_importFilterV4'();                     calico_export4();   (pool routes, communities)
 *     accept;                                     };
 *   };
 *
 * So a peer's filters run in the order its `filters` list names them, and a route no rule
 * decides falls through: imported (import's default is "all", as before filters existed) or
 * exported by Cattail's own rules (only pool routes). An export Accept sends a route the
 * default would not (a learned route outside every pool, an interface subnet), and skips the
 * prefix-advertisement communities, which the default export adds: both as Calico.
 *
 * Conditions (all must hold): `cidr` with `matchOperator` (Equal `=`, NotEqual `!=`, In `~`,
 * NotIn `!~`), narrowed by `prefixLength` to a prefix set `cidr{min,max}` (min and max clamped to
 * the CIDR's length and the family's); `source: RemotePeers` (learned over BGP); `interface`
 * (the route's outgoing interface, a BIRD glob); `communities`, `asPathPrefix`, `priority`
 * (`krt_metric`); `peerType` guards the rule with the session's iBGP/eBGP flag, passed to the
 * function as an argument only when some rule uses it. Equal and NotEqual compare one network,
 * so with `prefixLength` the range only decides whether that network's own length is inside:
 * if it is not, Equal matches nothing (the rule is left out) and NotEqual matches everything.
 *
 * A peer naming a BGPFilter that does not exist (deleted after the peer was written; `cattail
 * apply` refuses such a peer) gets no call for it, as Calico's confd does, and a note at the top
 * of the file says so.
 */
import { formatCIDR, parseCIDR } from '@cattail/api';
import type { BgpModel, FilterSpec } from '../model/bgp-model.js';
import { asNumberOf, fnv1a32 } from './bird-text.js';

export type Direction = 'import' | 'export';

type Rule = NonNullable<FilterSpec['importV4']>[number];

const LISTS = {
  import: { 4: 'importV4', 6: 'importV6' },
  export: { 4: 'exportV4', 6: 'exportV6' },
} as const;

/** BIRD symbols are at most 64 characters. */
const MAX_SYMBOL = 64;

/**
 * `'bgp_<name>_importFilterV4'`: a quoted BIRD symbol (filter names hold `-` and `.`), with a
 * long name cut and given a hash of the whole so two long names never meet.
 */
export function filterFunctionName(name: string, direction: Direction, version: 4 | 6): string {
  const suffix = `_${direction}FilterV${version}`;
  const room = MAX_SYMBOL - 'bgp_'.length - suffix.length;
  const shown = name.length <= room ? name : `${name.slice(0, room - 9)}-${fnv1a32(name).toString(16).padStart(8, '0')}`;
  return `'bgp_${shown}${suffix}'`;
}

function rulesOf(spec: Readonly<FilterSpec>, direction: Direction, version: 4 | 6): readonly Rule[] {
  return spec[LISTS[direction][version]] ?? [];
}

function usesPeerType(rules: readonly Rule[]): boolean {
  return rules.some((r) => r.peerType === 'iBGP' || r.peerType === 'eBGP');
}

const OPERATORS: Readonly<Record<string, string>> = { Equal: '=', NotEqual: '!=', In: '~', NotIn: '!~' };

/** The CIDR condition, `true` (always holds) or `false` (never does). */
function cidrCondition(r: Rule, version: 4 | 6): string | boolean {
  const cidr = typeof r.cidr === 'string' && r.cidr !== '' ? parseCIDR(r.cidr) : undefined;
  const op = OPERATORS[r.matchOperator ?? ''];
  if (cidr === undefined || op === undefined) return true; // validation pairs them; nothing to match on
  const net = formatCIDR(cidr);
  const pl = r.prefixLength;
  if (pl === undefined || pl === null) return `net ${op} ${net}`;
  const lo = Math.max(cidr.prefix, pl.min ?? 0);
  const hi = Math.min(version === 4 ? 32 : 128, pl.max ?? 128);
  const equality = r.matchOperator === 'Equal' || r.matchOperator === 'NotEqual';
  if (equality) {
    const inside = cidr.prefix >= lo && cidr.prefix <= hi;
    if (inside) return `net ${op} ${net}`;
    return r.matchOperator === 'NotEqual';
  }
  if (lo > hi) return r.matchOperator === 'NotIn';
  return `net ${op} [ ${net}{${lo},${hi}} ]`;
}

function communityTuple(value: string): { attr: string; tuple: string } | undefined {
  const parts = value.split(':');
  if (parts.length === 2) return { attr: 'bgp_community', tuple: `(${parts.join(', ')})` };
  if (parts.length === 3) return { attr: 'bgp_large_community', tuple: `(${parts.join(', ')})` };
  return undefined;
}

/** `bgp_community.add((65000, 100));` for `65000:100`, the large form for `aa:nn:mm`. */
export function addCommunity(value: string): string | undefined {
  const c = communityTuple(value);
  return c && `${c.attr}.add(${c.tuple});`;
}

function asNumbers(list: readonly unknown[] | null | undefined): number[] {
  return (list ?? []).map(asNumberOf).filter((n): n is number => n !== undefined);
}

/** One rule as a BIRD statement, or undefined when it can never match. */
function ruleStatement(r: Rule, version: 4 | 6): string | undefined {
  const conds: string[] = [];
  const cidr = cidrCondition(r, version);
  if (cidr === false) return undefined;
  if (typeof cidr === 'string') conds.push(cidr);
  if (r.source === 'RemotePeers') conds.push('source = RTS_BGP');
  if (typeof r.interface === 'string' && r.interface !== '') conds.push(`defined(ifname) && ifname ~ "${r.interface}"`);
  const community = r.communities?.values?.[0];
  const c = typeof community === 'string' ? communityTuple(community) : undefined;
  if (c) conds.push(`${c.tuple} ~ ${c.attr}`);
  const path = asNumbers(r.asPathPrefix);
  if (path.length > 0) conds.push(`bgp_path ~ [= ${path.join(' ')} * =]`);
  if (typeof r.priority === 'number') conds.push(`defined(krt_metric) && krt_metric = ${r.priority}`);

  const body: string[] = [];
  for (const op of r.operations ?? []) {
    if (op.addCommunity?.value) body.push(addCommunity(op.addCommunity.value) ?? '');
    // prepend puts each AS first: prepend the last one first so the list reads as written.
    for (const as of asNumbers(op.prependASPath?.prefix).reverse()) body.push(`bgp_path.prepend(${as});`);
    if (typeof op.setPriority?.value === 'number') body.push(`krt_metric = ${op.setPriority.value};`);
  }
  body.push(r.action === 'Accept' ? 'accept;' : 'reject;');
  const action = body.filter(Boolean).join(' ');
  let stmt = conds.length ? `if (${conds.map((x) => `(${x})`).join(' && ')}) then { ${action} }` : action;
  if (r.peerType === 'iBGP') stmt = `if same_as then { ${stmt} }`;
  if (r.peerType === 'eBGP') stmt = `if !same_as then { ${stmt} }`;
  return stmt;
}

/** The functions for every BGPFilter with rules of this family, sorted by name. */
export function filterFunctions(model: BgpModel, version: 4 | 6): string[] {
  const out: string[] = [];
  for (const name of [...model.filters.keys()].sort()) {
    const spec = model.filters.get(name)!;
    for (const direction of ['import', 'export'] as const) {
      const rules = rulesOf(spec, direction, version);
      if (rules.length === 0) continue;
      out.push(`# BGPFilter ${name}: ${direction}V${version}, ${rules.length} rule${rules.length === 1 ? '' : 's'} in order.`);
      out.push(`function ${filterFunctionName(name, direction, version)}(${usesPeerType(rules) ? 'bool same_as' : ''}) {`);
      rules.forEach((r, i) => {
        const stmt = ruleStatement(r, version);
        out.push(stmt === undefined ? `  # rule ${i + 1}: its prefixLength range excludes every network it could match; left out` : `  ${stmt}`);
      });
      out.push('}', '');
    }
  }
  return out;
}

export interface FilterCalls {
  /** The calls, in the peer's order. */
  readonly calls: readonly string[];
  /** Filters the peer names that do not exist. */
  readonly missing: readonly string[];
}

/** The calls a session with these `filters` makes in one direction; `sameAS`: iBGP session. */
export function filterCalls(model: BgpModel, filters: readonly string[], direction: Direction, version: 4 | 6, sameAS: boolean): FilterCalls {
  const calls: string[] = [];
  const missing: string[] = [];
  for (const name of filters) {
    const spec = model.filters.get(name);
    if (spec === undefined) {
      missing.push(name);
      continue;
    }
    const rules = rulesOf(spec, direction, version);
    if (rules.length > 0) calls.push(`${filterFunctionName(name, direction, version)}(${usesPeerType(rules) ? String(sameAS) : ''});`);
  }
  return { calls, missing };
}
