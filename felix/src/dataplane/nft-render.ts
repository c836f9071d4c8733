/**
 * Renders the policy ruleset of our own table (`table inet cattail`; nothing else in the
 * ruleset is named) as a model of its sets and chains (nft-model.ts), from which the dataplane
 * writes either the whole table in one transaction (`modelText`: make sure the table exists,
 * delete it, define it again, so the kernel swaps old for new atomically) or only the delta
 * from the model it last programmed (`modelDelta`):
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
import type { Rule, WorkloadEndpoint } from '../proto/messages.js';
import { policyKey, type DesiredIPSet, type DesiredState } from './desired-state.js';
import { fromWorkloadChainName, ipSetName, nftQuote, policyChainName, profileChainName, toWorkloadChainName } from './names.js';
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
import { emptyModel, modelText, normaliseCidrs, type NftModel } from './nft-model.js';
import type { RenderCache } from './nft-render-cache.js';
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
  /**
   * Calico's serviceLoopPrevention: traffic forwarded or sent by the host toward an advertised
   * service range (BGPConfiguration `default`) that nothing DNATed is dropped or rejected, so it
   * cannot bounce between this node and its BGP peers.
   */
  serviceLoopPrevention: 'Drop' | 'Reject' | 'Disabled';
  /**
   * Calico's chainInsertMode, for nftables: where our base chains run among every table's
   * chains on the same hook. `Insert` (default): just before the standard priority (raw,
   * mangle, filter, srcnat), so our verdicts come first, as Calico's inserted jumps do;
   * `Append`: just after, so other tables' chains at that priority (iptables-nft's, a host
   * firewall's) run first.
   */
  chainInsertMode: 'Insert' | 'Append';
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
  serviceLoopPrevention: 'Drop', // Calico's default
  chainInsertMode: 'Insert', // Calico's default
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
 * `allowIPIPPacketsFromWorkloads`, `interfaceExclude`, `disableConntrackInvalidCheck`,
 * `serviceLoopPrevention`, `chainInsertMode`; the
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
  const loop = String(configValue(config, 'serviceLoopPrevention') ?? '').toLowerCase();
  if (loop === 'reject') opts.serviceLoopPrevention = 'Reject';
  else if (loop === 'disabled') opts.serviceLoopPrevention = 'Disabled';
  if (String(configValue(config, 'chainInsertMode') ?? '').toLowerCase() === 'append') opts.chainInsertMode = 'Append';
  return opts;
}

const sorted = <T>(items: Iterable<T>, key: (t: T) => string): T[] => [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

function renderSets(state: DesiredState, model: NftModel, cache: RenderCache | undefined): void {
  for (const [id, set] of sorted(state.ipSets, ([k]) => k)) {
    const [v4, v6] = cache ? cache.setElements(id, set, setElements) : [setElements(set, 4), setElements(set, 6)];
    for (const [family, elements] of [
      [4, v4],
      [6, v6],
    ] as const) {
      const addrType = family === 4 ? 'ipv4_addr' : 'ipv6_addr';
      const decl = set.type === 'ip-port' ? `type ${addrType} . inet_proto . inet_service;` : `type ${addrType}; flags interval;`;
      model.sets.set(ipSetName(id, family), { decl, elements });
    }
  }
}

/** One family's elements of an IP set: `addr . proto . port` for named ports, else normalised CIDRs. */
function setElements(set: DesiredIPSet, family: 4 | 6): string[] {
  if (set.type !== 'ip-port')
    return normaliseCidrs(
      [...set.members].filter((m) => cidrFamily(m) === family),
      family,
    );
  const elements = new Set<string>();
  for (const m of set.members) {
    if (cidrFamily(m.split(',')[0] ?? '') !== family) continue;
    const e = ipPortElement(m);
    if (e !== undefined) elements.add(e);
  }
  return [...elements].sort();
}

function ruleContext(state: DesiredState, opts: NftRenderOptions): RuleRenderContext {
  return {
    markAccept: opts.markAccept,
    markPass: opts.markPass,
    logPrefix: opts.logPrefix,
    setName: (id, family) => (state.ipSets.has(id) ? ipSetName(id, family) : undefined),
  };
}

function rulesChain(rules: Rule[], ctx: RuleRenderContext, inProfile: boolean): string[] {
  return rules.flatMap((r) => renderRule(r, ctx, inProfile));
}

function vmap(keyword: 'iifname' | 'oifname', entries: Array<[string, string]>): string[] {
  if (entries.length === 0) return [];
  return [`${keyword} vmap { ${entries.map(([i, c]) => `${nftQuote(i)} : jump ${c}`).join(', ')} }`];
}

/** Which of the IP sets these rules name exist (a missing one renders differently). */
function setPresence(state: DesiredState, rules: Rule[]): string {
  let out = '';
  for (const r of rules) {
    for (const ids of [
      r.srcIpSetIds,
      r.notSrcIpSetIds,
      r.dstIpSetIds,
      r.notDstIpSetIds,
      r.srcNamedPortIpSetIds,
      r.notSrcNamedPortIpSetIds,
      r.dstNamedPortIpSetIds,
      r.notDstNamedPortIpSetIds,
    ]) {
      for (const id of ids ?? []) out += state.ipSets.has(id) ? '1' : '0';
    }
  }
  return out;
}

/** Which of the policies and profiles this endpoint lists exist. */
function endpointPresence(state: DesiredState, endpoint: WorkloadEndpoint): string {
  let out = '';
  for (const tier of endpoint.tiers) {
    for (const id of tier.ingressPolicies) out += state.policies.has(policyKey(id)) ? '1' : '0';
    out += '|';
    for (const id of tier.egressPolicies) out += state.policies.has(policyKey(id)) ? '1' : '0';
  }
  out += '|';
  for (const name of endpoint.profileIds) out += state.profiles.has(name) ? '1' : '0';
  return out;
}

/**
 * A base chain's `type … hook … priority P;` line with P moved one before (`Insert`) or one
 * after (`Append`) its standard value, so the order against other tables' chains on the same
 * hook is decided, not left to registration order (the kernel runs equal priorities in the
 * order they were registered, and a full resync registers ours anew).
 */
export function placeBaseChain(typeLine: string, mode: NftRenderOptions['chainInsertMode']): string {
  return typeLine.replace(/ priority (raw|mangle|filter|dstnat|srcnat|security);/, (_, p: string) => ` priority ${p} ${mode === 'Append' ? '+' : '-'} 1;`);
}

/** Calico's cali-cidr-block: the end of filter-forward and filter-output jump here. */
export const CIDR_BLOCK_CHAIN = 'cidr-block';

/**
 * The service loop prevention rules: one per family over the advertised service ranges
 * (Calico's BlockedCIDRsToIptablesChains), none when disabled or when nothing is advertised.
 * Reached only by what no DNAT rewrote (kube-proxy's DNAT runs at prerouting and nat output,
 * before these filter hooks), i.e. a service address nothing serves, which would otherwise go
 * out the default route and come back through the peers that the ranges were advertised to.
 */
export function cidrBlockLines(cidrs: readonly string[], action: NftRenderOptions['serviceLoopPrevention']): string[] {
  if (action === 'Disabled' || cidrs.length === 0) return [];
  const verdict = action === 'Reject' ? 'reject' : 'drop';
  const lines: string[] = [];
  for (const family of [4, 6] as const) {
    const mine = normaliseCidrs(
      cidrs.filter((c) => cidrFamily(c) === family),
      family,
    );
    if (mine.length > 0) lines.push(`${family === 4 ? 'ip' : 'ip6'} daddr { ${mine.join(', ')} } ${verdict}`);
  }
  return lines;
}

function optionsKey(opts: NftRenderOptions): string {
  return `${opts.markAccept}|${opts.markPass}|${opts.logPrefix}|${opts.dropVxlanFromWorkloadsPort}|${opts.dropIpipFromWorkloads}`;
}

/**
 * The complete `nft -f` text for our table. `hostInterfaces` (the host's interfaces and their
 * addresses) resolves host endpoints found by expectedIPs; without it only named ones apply.
 */
export function renderRuleset(state: DesiredState, opts: NftRenderOptions = DEFAULT_NFT_OPTIONS, hostInterfaces?: HostInterfaces): string {
  return modelText(renderModel(state, opts, hostInterfaces));
}

/**
 * The model of our table (nft-model.ts) for this state. With a `cache`, chains and set elements
 * whose sources did not change since the last render with that cache are reused as they are
 * (the same arrays), so building the model and diffing it cost what changed.
 */
export function renderModel(state: DesiredState, opts: NftRenderOptions = DEFAULT_NFT_OPTIONS, hostInterfaces?: HostInterfaces, cache?: RenderCache): NftModel {
  const ctx = ruleContext(state, opts);
  const model = emptyModel();
  const chain = (name: string, lines: string[]): void => {
    model.chains.set(name, {
      lines: lines.length > 0 && lines[0].startsWith('type ') ? [placeBaseChain(lines[0], opts.chainInsertMode), ...lines.slice(1)] : lines,
    });
  };
  const memo = (name: string, source: object, unchanged: boolean, presence: () => string, render: () => string[]): string[] =>
    cache ? cache.chain(name, source, unchanged, presence, render) : render();
  cache?.begin(optionsKey(opts));
  const setsSame = cache?.sameKeys('sets', state.ipSets) ?? false;
  const policiesSame = cache?.sameKeys('policies', state.policies) ?? false;
  const profilesSame = cache?.sameKeys('profiles', state.profiles) ?? false;
  const endpointsSame = policiesSame && profilesSame;
  renderSets(state, model, cache);
  const nat = natOutgoingRuleset(state, opts.natOutgoing);
  for (const [name, set] of nat.sets) model.sets.set(name, set);

  const workloads = sorted(state.workloads.values(), (w) => w.endpoint.name);
  const ifaces = [...new Set(workloads.map((w) => w.endpoint.name))];
  const fromWl = ifaces.map((i): [string, string] => [i, fromWorkloadChainName(i)]);
  const toWl = ifaces.map((i): [string, string] => [i, toWorkloadChainName(i)]);
  // FelixConfiguration disableConntrackInvalidCheck: packets conntrack calls invalid go on to policy.
  const conntrack = ['ct state established,related accept', ...(opts.dropConntrackInvalid ? ['ct state invalid drop'] : [])];

  const heps = hostEndpointRuleset(state, opts, hostInterfaces);
  const loopBlock = cidrBlockLines(state.serviceCidrs, opts.serviceLoopPrevention);
  if (loopBlock.length > 0) chain(CIDR_BLOCK_CHAIN, loopBlock);
  const toLoopBlock = loopBlock.length > 0 ? [`jump ${CIDR_BLOCK_CHAIN}`] : [];
  chain('filter-forward', [
    'type filter hook forward priority filter; policy accept;',
    ...conntrack,
    ...heps.forwardFirst,
    ...vmap('iifname', fromWl),
    ...vmap('oifname', toWl),
    ...heps.forwardLast,
    ...toLoopBlock,
  ]);

  // IPv6 needs neighbour discovery and MLD with the host whatever the policy (Calico's static
  // input rules do the same): without them a workload cannot even resolve its gateway.
  const ndp = opts.interfacePrefixes.map((p) => `iifname ${nftQuote(`${p}*`)} icmpv6 type { 130, 131, 132, 133, 135, 136 } accept`);
  const toHost: string[] = [];
  if (opts.endpointToHostAction !== 'Return') {
    const verdict = opts.endpointToHostAction === 'Drop' ? 'drop' : 'accept';
    for (const prefix of opts.interfacePrefixes) toHost.push(`iifname ${nftQuote(`${prefix}*`)} ${verdict}`);
  }
  chain('filter-input', ['type filter hook input priority filter; policy accept;', ...conntrack, ...ndp, ...vmap('iifname', fromWl), ...toHost, ...heps.input]);
  if (heps.output.length + toLoopBlock.length > 0) {
    chain('filter-output', ['type filter hook output priority filter; policy accept;', ...conntrack, ...heps.output, ...toLoopBlock]);
  }
  for (const [name, lines] of heps.baseChains) chain(name, lines);
  for (const [name, lines] of heps.chains) chain(name, lines);
  if (nat.chain.length > 0) chain(NAT_CHAIN, nat.chain);

  const encapDrops = [
    ...(opts.dropVxlanFromWorkloadsPort !== undefined ? [`udp dport ${opts.dropVxlanFromWorkloadsPort} drop`] : []),
    ...(opts.dropIpipFromWorkloads ? ['meta l4proto 4 drop'] : []),
  ];
  const seen = new Set<string>();
  for (const w of workloads) {
    if (seen.has(w.endpoint.name)) continue;
    seen.add(w.endpoint.name);
    const ep = w.endpoint;
    const presence = (): string => endpointPresence(state, ep);
    const from = fromWorkloadChainName(ep.name);
    const to = toWorkloadChainName(ep.name);
    chain(
      from,
      memo(from, ep, endpointsSame, presence, () => {
        const lines = endpointChainLines(state, ep, 'out', opts);
        lines.splice(1, 0, ...encapDrops); // right after the marks are cleared, as Calico orders it
        return lines;
      }),
    );
    chain(
      to,
      memo(to, ep, endpointsSame, presence, () => endpointChainLines(state, ep, 'in', opts)),
    );
  }
  const rulesChains = (name: string, rules: Rule[], inProfile: boolean): void => {
    chain(
      name,
      memo(
        name,
        rules,
        setsSame,
        () => setPresence(state, rules),
        () => rulesChain(rules, ctx, inProfile),
      ),
    );
  };
  for (const [key, { policy }] of sorted(state.policies, ([k]) => k)) {
    rulesChains(policyChainName(key, 'in'), policy.inboundRules, false);
    rulesChains(policyChainName(key, 'out'), policy.outboundRules, false);
  }
  for (const [name, profile] of sorted(state.profiles, ([k]) => k)) {
    rulesChains(profileChainName(name, 'in'), profile.inboundRules, true);
    rulesChains(profileChainName(name, 'out'), profile.outboundRules, true);
  }
  cache?.end();
  return model;
}
