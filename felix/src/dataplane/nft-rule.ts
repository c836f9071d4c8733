/**
 * One proto `Rule` as nftables rule lines. A rule becomes zero or more nft rules:
 *
 *  - one per IP family it can match (`ipVersion`, the protocol (icmp is v4, icmpv6 is v6) and
 *    its nets decide; a rule whose nets are all of the other family never matches there);
 *  - times the alternatives on each side: numeric ports OR each named-port set (`ip-port`),
 *    which the proto says are alternatives, so the cross product of src and dst alternatives.
 *
 * A destination service set (`dstIpPortSetIds`, from `services` in a rule) is a fixed match on
 * address . protocol . port: every listed set must hold the packet's triple.
 *
 * Matches inside one nft rule are ANDed, as the proto's fields are. Lists inside a field are
 * anonymous sets (any entry); IP set lists are one lookup per set (in every set); `not*` lists
 * are `!=` lookups (in none).
 *
 * Verdicts follow the mark scheme in nft-render.ts: Allow sets the accept mark and returns,
 * Pass sets the pass mark and returns, Deny drops, Log logs and goes on.
 */
import type { IcmpMatch, PortRange, Protocol, Rule } from '../proto/messages.js';
import { nftQuote } from './names.js';

export interface RuleRenderContext {
  markAccept: number;
  markPass: number;
  logPrefix: string;
  /** The set's nft name for this family, or undefined when the set is unknown. */
  setName(id: string, family: 4 | 6): string | undefined;
}

const PROTOCOL_NUMBERS: Record<string, number> = {
  icmp: 1,
  tcp: 6,
  udp: 17,
  icmpv6: 58,
  sctp: 132,
  udplite: 136,
};

function protocolToken(p: Protocol): string {
  if (typeof p === 'number') return String(p);
  const lower = p.toLowerCase();
  if (lower in PROTOCOL_NUMBERS) return lower;
  if (/^\d+$/.test(lower)) return lower;
  return String(PROTOCOL_NUMBERS[lower] ?? lower);
}

function protocolFamily(p: Protocol | undefined): 4 | 6 | undefined {
  const t = p === undefined ? undefined : protocolToken(p);
  if (t === 'icmp' || t === '1') return 4;
  if (t === 'icmpv6' || t === '58') return 6;
  return undefined;
}

export function cidrFamily(cidr: string): 4 | 6 {
  return cidr.includes(':') ? 6 : 4;
}

function portList(ports: PortRange[]): string {
  const items = ports.map((p) => (p.first === p.last ? String(p.first) : `${p.first}-${p.last}`));
  return `{ ${items.join(', ')} }`;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function verdictFor(rule: Rule, ctx: RuleRenderContext, inProfile: boolean): string {
  switch (rule.action) {
    case 'Allow':
      return `meta mark set meta mark | ${hex(ctx.markAccept)} return`;
    case 'Deny':
      return 'drop';
    case 'Pass':
      return inProfile ? 'return' : `meta mark set meta mark | ${hex(ctx.markPass)} return`;
    case 'Log':
      return `log prefix ${nftQuote(`${ctx.logPrefix}: `)} level info`;
  }
}

function icmpMatches(icmp: IcmpMatch, family: 4 | 6, negate: boolean): string {
  const kw = family === 4 ? 'icmp' : 'icmpv6';
  if (!negate) {
    return icmp.code === undefined ? `${kw} type ${icmp.type}` : `${kw} type ${icmp.type} ${kw} code ${icmp.code}`;
  }
  return icmp.code === undefined ? `${kw} type != ${icmp.type}` : `${kw} type . ${kw} code != { ${icmp.type} . ${icmp.code} }`;
}

/** Side-specific matches of one family, or undefined when the side can never match. */
function sideMatches(rule: Rule, side: 'src' | 'dst', family: 4 | 6, ctx: RuleRenderContext): { fixed: string[]; alternatives: string[] } | undefined {
  const ipKw = family === 4 ? 'ip' : 'ip6';
  const addr = side === 'src' ? 'saddr' : 'daddr';
  const port = side === 'src' ? 'sport' : 'dport';
  const nets = side === 'src' ? rule.srcNets : rule.dstNets;
  const notNets = side === 'src' ? rule.notSrcNets : rule.notDstNets;
  const sets = side === 'src' ? rule.srcIpSetIds : rule.dstIpSetIds;
  const notSets = side === 'src' ? rule.notSrcIpSetIds : rule.notDstIpSetIds;
  const ports = side === 'src' ? rule.srcPorts : rule.dstPorts;
  const notPorts = side === 'src' ? rule.notSrcPorts : rule.notDstPorts;
  const named = side === 'src' ? rule.srcNamedPortIpSetIds : rule.dstNamedPortIpSetIds;
  const notNamed = side === 'src' ? rule.notSrcNamedPortIpSetIds : rule.notDstNamedPortIpSetIds;

  const fixed: string[] = [];
  if (nets && nets.length > 0) {
    const mine = nets.filter((n) => cidrFamily(n) === family);
    if (mine.length === 0) return undefined;
    fixed.push(`${ipKw} ${addr} { ${mine.join(', ')} }`);
  }
  const notMine = (notNets ?? []).filter((n) => cidrFamily(n) === family);
  if (notMine.length > 0) fixed.push(`${ipKw} ${addr} != { ${notMine.join(', ')} }`);
  for (const id of sets ?? []) {
    const name = ctx.setName(id, family);
    if (!name) return undefined;
    fixed.push(`${ipKw} ${addr} @${name}`);
  }
  for (const id of notSets ?? []) {
    const name = ctx.setName(id, family);
    if (name) fixed.push(`${ipKw} ${addr} != @${name}`);
  }
  // A destination service match (`services` in a rule): address, protocol and port together.
  for (const id of side === 'dst' ? (rule.dstIpPortSetIds ?? []) : []) {
    const name = ctx.setName(id, family);
    if (!name) return undefined;
    fixed.push(`${ipKw} ${addr} . meta l4proto . th ${port} @${name}`);
  }
  if (notPorts && notPorts.length > 0) fixed.push(`th ${port} != ${portList(notPorts)}`);
  for (const id of notNamed ?? []) {
    const name = ctx.setName(id, family);
    if (name) fixed.push(`${ipKw} ${addr} . meta l4proto . th ${port} != @${name}`);
  }

  const alternatives: string[] = [];
  if (ports && ports.length > 0) alternatives.push(`th ${port} ${portList(ports)}`);
  for (const id of named ?? []) {
    const name = ctx.setName(id, family);
    if (name) alternatives.push(`${ipKw} ${addr} . meta l4proto . th ${port} @${name}`);
  }
  const constrained = (ports?.length ?? 0) + (named?.length ?? 0) > 0;
  if (constrained && alternatives.length === 0) return undefined;
  if (!constrained) alternatives.push('');
  return { fixed, alternatives };
}

/**
 * The nft rule lines (without indentation) for one proto rule. When the two families render
 * differently (say `notSrcNets` lists only IPv4 nets), each line is pinned to its family with
 * `meta nfproto`: otherwise the IPv6 line, having no IPv4 constraint, would match IPv4 too.
 */
export function renderRule(rule: Rule, ctx: RuleRenderContext, inProfile: boolean): string[] {
  const protoFam = protocolFamily(rule.protocol);
  const families: Array<4 | 6> = rule.ipVersion ? [rule.ipVersion] : protoFam ? [protoFam] : [4, 6];
  const verdict = verdictFor(rule, ctx, inProfile);
  const perFamily = new Map<4 | 6, string[]>();
  for (const family of families) {
    const lines: string[] = [];
    perFamily.set(family, lines);
    if (protoFam && protoFam !== family) continue;
    const head: string[] = [];
    if (rule.protocol !== undefined) head.push(`meta l4proto ${protocolToken(rule.protocol)}`);
    if (rule.notProtocol !== undefined) head.push(`meta l4proto != ${protocolToken(rule.notProtocol)}`);
    const src = sideMatches(rule, 'src', family, ctx);
    const dst = sideMatches(rule, 'dst', family, ctx);
    if (!src || !dst) continue;
    const tail: string[] = [];
    if (rule.icmp) tail.push(icmpMatches(rule.icmp, family, false));
    if (rule.notIcmp) tail.push(icmpMatches(rule.notIcmp, family, true));
    for (const sa of src.alternatives) {
      for (const da of dst.alternatives) {
        lines.push([...head, ...src.fixed, ...dst.fixed, sa, da, ...tail, verdict].filter((p) => p !== '').join(' '));
      }
    }
  }
  const v4 = perFamily.get(4);
  const v6 = perFamily.get(6);
  if (v4 && v6 && v4.join('\n') === v6.join('\n')) return [...new Set(v4)];
  const out: string[] = [];
  for (const [family, lines] of perFamily) {
    for (const l of lines) out.push(`meta nfproto ${family === 4 ? 'ipv4' : 'ipv6'} ${l}`);
  }
  return [...new Set(out)];
}

/** An `ip-port` member (`10.0.0.5,tcp:8080`) as an nft concatenation element. */
export function ipPortElement(member: string): string | undefined {
  const comma = member.indexOf(',');
  if (comma < 0) return undefined;
  const addr = member.slice(0, comma);
  const rest = member.slice(comma + 1);
  const colon = rest.lastIndexOf(':');
  if (colon < 0) return undefined;
  return `${addr} . ${protocolToken(rest.slice(0, colon))} . ${rest.slice(colon + 1)}`;
}
