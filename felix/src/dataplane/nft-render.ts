/**
 * Renders the whole policy ruleset as one `nft -f` transaction for our own table
 * (`table inet cattail`); nothing else in the ruleset is named. The transaction first makes sure
 * the table exists, deletes it and defines it again, so the kernel swaps old for new atomically
 * and a half-applied ruleset is never visible:
 *
 *   table inet cattail {}        (no-op when it exists)
 *   delete table inet cattail
 *   table inet cattail { sets, chains }
 *
 * ## Verdicts: marks + return, as Calico does
 *
 * A packet may cross two endpoints on one host (pod A → pod B), so an endpoint's chain must not
 * end the packet's walk with `accept`: the base chain would stop before the other endpoint's
 * chain. Like Calico we use two mark bits: ACCEPT (0x10000) and PASS (0x20000).
 *
 *   filter-forward (hook forward)
 *     ct state established,related accept ; ct state invalid drop
 *     iifname vmap { "caliA": jump from-wl-caliA, … }   ── egress policy of the sender
 *     oifname vmap { "caliB": jump to-wl-caliB, … }     ── ingress policy of the receiver
 *     (policy accept: both returned with ACCEPT, or not a workload)
 *
 *   to-wl-caliB / from-wl-caliA:
 *     clear ACCEPT|PASS
 *     ┌ tier 1 (skipped when it has no policy in this direction)
 *     │  PASS==0 ? jump pi-<policy 1>        pi-*: Allow → set ACCEPT, return
 *     │  ACCEPT  ? return ─────────────────────────▶ back to filter-forward (allowed)
 *     │  …                                   Deny  → drop (ends everything)
 *     │  PASS==0 ? drop    (defaultAction Deny; nothing for Pass)
 *     └  clear PASS                          Pass  → set PASS, return (rest of tier skipped)
 *     ┌ tier 2 …
 *     profiles: jump pri-<profile> ; ACCEPT ? return
 *     drop
 *
 *   filter-input (hook input): conntrack as above; ICMPv6 ND/MLD from workloads accept; the
 *     sender's from-wl chain; then DefaultEndpointToHostAction (Calico's default: Drop).
 *
 *   nat-postrouting (hook postrouting, srcnat): NAT outgoing for natOutgoing pools (nft-nat.ts).
 *
 * Host endpoints add their own dispatch to filter-input, filter-output and filter-forward, and
 * base chains at raw priority (doNotTrack policy) and mangle priority (preDNAT policy)
 * (nft-host-endpoints.ts). The rejected alternative, `accept` in the endpoint chains with a
 * second base chain per direction, needs two hook passes and cannot express Pass between
 * tiers. Output is deterministic (sorted) so the text is a stable fingerprint of the state.
 */
import { isIPv4 } from 'node:net';
import type { Rule } from '../proto/messages.js';
import type { DesiredState } from './desired-state.js';
import { TABLE_NAME, fromWorkloadChainName, ipSetName, nftQuote, policyChainName, profileChainName, toWorkloadChainName } from './names.js';
import {
  DEFAULT_FAILSAFE_INBOUND,
  DEFAULT_FAILSAFE_OUTBOUND,
  hostEndpointRuleset,
  interfaceExcluder,
  type FailsafePort,
  type HostInterfaces,
} from './nft-host-endpoints.js';
import { NAT_CHAIN, natInterfaceFilter, natOutgoingRuleset, parseNatPortRange, type NatOutgoingOptions } from './nft-nat.js';
import { cidrFamily, ipPortElement, renderRule, type RuleRenderContext } from './nft-rule.js';
import { endpointChainLines } from './nft-tier-walk.js';

export { endpointChainLines } from './nft-tier-walk.js';

export const MARK_ACCEPT = 0x10000;
export const MARK_PASS = 0x20000;

export interface NftRenderOptions {
  markAccept: number;
  markPass: number;
  logPrefix: string;
  /** Interface name prefixes of workloads (`cali`), for the endpoint-to-host default. */
  interfacePrefixes: string[];
  endpointToHostAction: 'Drop' | 'Accept' | 'Return';
  /** Ports always open toward host endpoints (Calico's failsafeInboundHostPorts). */
  failsafeInbound: FailsafePort[];
  /** Ports always open from host endpoints (failsafeOutboundHostPorts). */
  failsafeOutbound: FailsafePort[];
  /** natPortRange and natOutgoingAddress for the NAT-outgoing rules. */
  natOutgoing: NatOutgoingOptions;
  /**
   * Dropped first thing in every from-workload chain, before policy (Calico's
   * allowVXLANPacketsFromWorkloads / allowIPIPPacketsFromWorkloads, both false by default): a
   * pod's own VXLAN (UDP to this port) or IP-in-IP packets, which could carry traffic past egress
   * policy. undefined / false: allowed.
   */
  dropVxlanFromWorkloadsPort: number | undefined;
  dropIpipFromWorkloads: boolean;
  /** Interfaces host endpoints are not resolved on (Calico's interfaceExclude). */
  interfaceExcluded: (ifname: string) => boolean;
  /** Drop what conntrack calls invalid (false with Calico's disableConntrackInvalidCheck). */
  dropConntrackInvalid: boolean;
}

export const DEFAULT_NFT_OPTIONS: NftRenderOptions = {
  markAccept: MARK_ACCEPT,
  markPass: MARK_PASS,
  logPrefix: 'calico-packet', // Calico's default LogPrefix, which operators' log pipelines match
  interfacePrefixes: ['cali'],
  endpointToHostAction: 'Drop',
  failsafeInbound: DEFAULT_FAILSAFE_INBOUND,
  failsafeOutbound: DEFAULT_FAILSAFE_OUTBOUND,
  natOutgoing: {},
  dropVxlanFromWorkloadsPort: 4789,
  dropIpipFromWorkloads: true,
  interfaceExcluded: interfaceExcluder('kube-ipvs0'), // Calico's default: kube-proxy's IPVS dummy device
  dropConntrackInvalid: true,
};

function configValue(config: Record<string, unknown>, camel: string): unknown {
  return config[camel] ?? config[camel[0].toUpperCase() + camel.slice(1)];
}

function failsafeFromConfig(value: unknown, fallback: FailsafePort[]): FailsafePort[] {
  if (!Array.isArray(value)) return fallback;
  const out: FailsafePort[] = [];
  for (const v of value as Array<Record<string, unknown>>) {
    if (typeof v?.port !== 'number') continue;
    const protocol = String(v.protocol ?? 'TCP').toLowerCase();
    if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') continue;
    const entry: FailsafePort = { protocol, port: v.port };
    if (typeof v.net === 'string' && v.net !== '') entry.net = v.net;
    out.push(entry);
  }
  return out;
}

/**
 * Options from the FelixConfiguration spec the graph sends in ConfigUpdate (camelCase keys,
 * `logPrefix`, `interfacePrefix`, `defaultEndpointToHostAction`, `failsafe*HostPorts`,
 * `natPortRange`, `natOutgoingAddress`, `allowVXLANPacketsFromWorkloads` with `vxlanPort`,
 * `allowIPIPPacketsFromWorkloads`, `interfaceExclude`, `disableConntrackInvalidCheck`; the
 * PascalCase env-style names are accepted too), defaults for what is absent. Values were
 * validated by the api schema on write.
 */
export function nftOptionsFromConfig(config: Record<string, unknown>): NftRenderOptions {
  const opts = { ...DEFAULT_NFT_OPTIONS };
  const logPrefix = configValue(config, 'logPrefix');
  if (typeof logPrefix === 'string' && logPrefix !== '') opts.logPrefix = logPrefix;
  const prefix = configValue(config, 'interfacePrefix');
  if (typeof prefix === 'string' && prefix !== '') {
    opts.interfacePrefixes = prefix
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }
  const action = String(configValue(config, 'defaultEndpointToHostAction') ?? '').toLowerCase();
  if (action === 'accept') opts.endpointToHostAction = 'Accept';
  else if (action === 'return') opts.endpointToHostAction = 'Return';
  opts.failsafeInbound = failsafeFromConfig(configValue(config, 'failsafeInboundHostPorts'), DEFAULT_FAILSAFE_INBOUND);
  opts.failsafeOutbound = failsafeFromConfig(configValue(config, 'failsafeOutboundHostPorts'), DEFAULT_FAILSAFE_OUTBOUND);
  const natOutgoing: NatOutgoingOptions = {};
  const portRange = parseNatPortRange(configValue(config, 'natPortRange'));
  if (portRange) natOutgoing.portRange = portRange;
  const address = configValue(config, 'natOutgoingAddress');
  if (typeof address === 'string' && isIPv4(address)) natOutgoing.address = address;
  if (String(configValue(config, 'natOutgoingExclusions') ?? '').toLowerCase() === 'ippoolsandhostips') natOutgoing.excludeHostIPs = true;
  const natIface = natInterfaceFilter(configValue(config, 'iptablesNATOutgoingInterfaceFilter'));
  if (natIface !== undefined) natOutgoing.interfaceFilter = natIface;
  opts.natOutgoing = natOutgoing;
  if (configValue(config, 'allowVXLANPacketsFromWorkloads') === true) opts.dropVxlanFromWorkloadsPort = undefined;
  else {
    const port = configValue(config, 'vxlanPort');
    if (typeof port === 'number' && Number.isInteger(port) && port > 0) opts.dropVxlanFromWorkloadsPort = port;
  }
  if (configValue(config, 'allowIPIPPacketsFromWorkloads') === true) opts.dropIpipFromWorkloads = false;
  const exclude = configValue(config, 'interfaceExclude');
  if (typeof exclude === 'string') opts.interfaceExcluded = interfaceExcluder(exclude);
  if (configValue(config, 'disableConntrackInvalidCheck') === true) opts.dropConntrackInvalid = false;
  return opts;
}

const sorted = <T>(items: Iterable<T>, key: (t: T) => string): T[] => [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

function renderSets(state: DesiredState, out: string[]): void {
  for (const [id, set] of sorted(state.ipSets, ([k]) => k)) {
    for (const family of [4, 6] as const) {
      const addrType = family === 4 ? 'ipv4_addr' : 'ipv6_addr';
      let type: string;
      let flags = '';
      let elements: string[];
      if (set.type === 'ip-port') {
        type = `${addrType} . inet_proto . inet_service`;
        elements = [...set.members]
          .filter((m) => cidrFamily(m.split(',')[0] ?? '') === family)
          .map(ipPortElement)
          .filter((e): e is string => e !== undefined);
      } else {
        type = addrType;
        flags = 'flags interval; auto-merge;';
        elements = [...set.members].filter((m) => cidrFamily(m) === family);
      }
      elements.sort();
      out.push(`\tset ${ipSetName(id, family)} {`);
      out.push(`\t\ttype ${type};${flags ? ` ${flags}` : ''}`);
      if (elements.length > 0) out.push(`\t\telements = { ${elements.join(', ')} }`);
      out.push('\t}');
    }
  }
}

function ruleContext(state: DesiredState, opts: NftRenderOptions): RuleRenderContext {
  return {
    markAccept: opts.markAccept,
    markPass: opts.markPass,
    logPrefix: opts.logPrefix,
    setName: (id, family) => (state.ipSets.has(id) ? ipSetName(id, family) : undefined),
  };
}

function renderChain(name: string, lines: string[], out: string[]): void {
  out.push(`\tchain ${name} {`);
  for (const l of lines) out.push(`\t\t${l}`);
  out.push('\t}');
}

function rulesChain(rules: Rule[], ctx: RuleRenderContext, inProfile: boolean): string[] {
  return rules.flatMap((r) => renderRule(r, ctx, inProfile));
}

function vmap(keyword: 'iifname' | 'oifname', entries: Array<[string, string]>): string[] {
  if (entries.length === 0) return [];
  return [`${keyword} vmap { ${entries.map(([i, c]) => `${nftQuote(i)} : jump ${c}`).join(', ')} }`];
}

/**
 * The complete `nft -f` text for our table. `hostInterfaces` (the host's interfaces and their
 * addresses) resolves host endpoints found by expectedIPs; without it only named ones apply.
 */
export function renderRuleset(state: DesiredState, opts: NftRenderOptions = DEFAULT_NFT_OPTIONS, hostInterfaces?: HostInterfaces): string {
  const ctx = ruleContext(state, opts);
  const out: string[] = [`table inet ${TABLE_NAME} {}`, `delete table inet ${TABLE_NAME}`, `table inet ${TABLE_NAME} {`];
  renderSets(state, out);
  const nat = natOutgoingRuleset(state, opts.natOutgoing);
  out.push(...nat.sets);

  const workloads = sorted(state.workloads.values(), (w) => w.endpoint.name);
  const ifaces = [...new Set(workloads.map((w) => w.endpoint.name))];
  const fromWl = ifaces.map((i): [string, string] => [i, fromWorkloadChainName(i)]);
  const toWl = ifaces.map((i): [string, string] => [i, toWorkloadChainName(i)]);
  // FelixConfiguration disableConntrackInvalidCheck: packets conntrack calls invalid go on to policy.
  const conntrack = ['ct state established,related accept', ...(opts.dropConntrackInvalid ? ['ct state invalid drop'] : [])];

  const heps = hostEndpointRuleset(state, opts, hostInterfaces);
  renderChain(
    'filter-forward',
    [
      'type filter hook forward priority filter; policy accept;',
      ...conntrack,
      ...heps.forwardFirst,
      ...vmap('iifname', fromWl),
      ...vmap('oifname', toWl),
      ...heps.forwardLast,
    ],
    out,
  );

  // IPv6 needs neighbour discovery and MLD with the host whatever the policy (Calico's static
  // input rules do the same): without them a workload cannot even resolve its gateway.
  const ndp = opts.interfacePrefixes.map((p) => `iifname ${nftQuote(`${p}*`)} icmpv6 type { 130, 131, 132, 133, 135, 136 } accept`);
  const toHost: string[] = [];
  if (opts.endpointToHostAction !== 'Return') {
    const verdict = opts.endpointToHostAction === 'Drop' ? 'drop' : 'accept';
    for (const prefix of opts.interfacePrefixes) toHost.push(`iifname ${nftQuote(`${prefix}*`)} ${verdict}`);
  }
  renderChain(
    'filter-input',
    ['type filter hook input priority filter; policy accept;', ...conntrack, ...ndp, ...vmap('iifname', fromWl), ...toHost, ...heps.input],
    out,
  );
  if (heps.output.length > 0) {
    renderChain('filter-output', ['type filter hook output priority filter; policy accept;', ...conntrack, ...heps.output], out);
  }
  for (const [name, lines] of heps.baseChains) renderChain(name, lines, out);
  for (const [name, lines] of heps.chains) renderChain(name, lines, out);
  if (nat.chain.length > 0) renderChain(NAT_CHAIN, nat.chain, out);

  const encapDrops = [
    ...(opts.dropVxlanFromWorkloadsPort !== undefined ? [`udp dport ${opts.dropVxlanFromWorkloadsPort} drop`] : []),
    ...(opts.dropIpipFromWorkloads ? ['meta l4proto 4 drop'] : []),
  ];
  const seen = new Set<string>();
  for (const w of workloads) {
    if (seen.has(w.endpoint.name)) continue;
    seen.add(w.endpoint.name);
    const fromLines = endpointChainLines(state, w.endpoint, 'out', opts);
    fromLines.splice(1, 0, ...encapDrops); // right after the marks are cleared, as Calico orders it
    renderChain(fromWorkloadChainName(w.endpoint.name), fromLines, out);
    renderChain(toWorkloadChainName(w.endpoint.name), endpointChainLines(state, w.endpoint, 'in', opts), out);
  }
  for (const [key, { policy }] of sorted(state.policies, ([k]) => k)) {
    renderChain(policyChainName(key, 'in'), rulesChain(policy.inboundRules, ctx, false), out);
    renderChain(policyChainName(key, 'out'), rulesChain(policy.outboundRules, ctx, false), out);
  }
  for (const [name, profile] of sorted(state.profiles, ([k]) => k)) {
    renderChain(profileChainName(name, 'in'), rulesChain(profile.inboundRules, ctx, true), out);
    renderChain(profileChainName(name, 'out'), rulesChain(profile.outboundRules, ctx, true), out);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
