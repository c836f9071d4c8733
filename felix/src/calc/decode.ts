/**
 * From the felix syncer's views (`@cattail/typha/protocol`, views/felix.ts) to what the
 * calculators hold, with the same adjustments libcalico-go's felix update processors make on
 * the way into Calico's Felix:
 *
 *   WorkloadEndpoint  dropped while it has no ipNetworks; own `pcns.`/`pcsa.` labels dropped (an
 *                     endpoint cannot claim another namespace's labels); `projectcalico.org/
 *                     namespace` forced to its namespace and `projectcalico.org/serviceaccount`
 *                     set from spec.serviceAccountName; nets as host CIDRs; unnamed ports dropped
 *   NetworkSet        gains `projectcalico.org/namespace` and the parent profile `kns.<ns>`
 *                     (namespace labels for namespaceSelector); a /0 becomes two /1s
 *   NetworkPolicy /   selectors combined (selector-text.ts) and rules parsed (rule-parser.ts)
 *   GlobalNet.Policy  here, once per change, so a policy that cannot be understood is refused
 *                     as a whole before anything uses it
 *
 * Each decoder takes the typed update of its kind and reads its fields as typed: Typha validated
 * the value before projecting it (decode-util.ts). Unset is absent, null or '' (for a string),
 * which `??` and `||` fold into the default. Pools, blocks and nodes are decoded in
 * decode-network.ts. Decoders throw InvalidResourceError; the graph logs it and treats the
 * resource as deleted.
 */
import {
  formatCIDR,
  formatIP,
  LABEL_NAMESPACE,
  LABEL_SERVICE_ACCOUNT,
  NAMESPACE_LABEL_PREFIX,
  NAMESPACE_PROFILE_PREFIX,
  parseCIDR,
  parseIP,
  parseSelectorCached,
  SERVICE_ACCOUNT_LABEL_PREFIX,
  type Selector,
} from '@cattail/api';
import type { HostEndpoint, NatInfo, PolicyId, Rule, WorkloadEndpoint } from '../proto/messages.js';
import { asLabels, fail, guarded, hostCIDR, NO_LABELS, specOf, type FelixUpdate, type Labels, type Present } from './decode-util.js';
import { normalizeNet, parseRules, type IPSetData, type NamedPortProtocol } from './rule-parser.js';
import { globalNetworkPolicySelector, networkPolicySelector } from './selector-text.js';

export type { Labels } from './decode-util.js';
export type { BlockData, NodeData, PoolData } from './decode-network.js';
export { decodeBlock, decodeNode, decodePool, sameSubnet } from './decode-network.js';

export interface EndpointPort {
  readonly name: string;
  readonly protocol: NamedPortProtocol;
  readonly port: number;
}

/** What IP set membership needs of an endpoint or network set. */
export interface LabeledNets {
  readonly labels: Labels;
  readonly parents: readonly string[];
  /** Host CIDRs of an endpoint, or a network set's CIDRs. */
  readonly nets: readonly string[];
  readonly ports: readonly EndpointPort[];
}

export interface WorkloadEndpointData extends LabeledNets {
  readonly kind: 'WorkloadEndpoint';
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  /** The dataplane message body, without tiers. */
  readonly endpoint: Omit<WorkloadEndpoint, 'tiers'>;
}

export interface HostEndpointData extends LabeledNets {
  readonly kind: 'HostEndpoint';
  readonly name: string;
  readonly node: string;
  readonly endpoint: Pick<HostEndpoint, 'name' | 'expectedIpv4Addrs' | 'expectedIpv6Addrs' | 'profileIds'>;
}

export type EndpointData = WorkloadEndpointData | HostEndpointData;

export interface PolicyData {
  /** Stable identity: `ns/name` for a NetworkPolicy, `name` for a GlobalNetworkPolicy. */
  readonly key: string;
  readonly id: PolicyId;
  readonly selector: Selector;
  /** undefined sorts last (Calico maps it to +Inf). */
  readonly order: number | undefined;
  readonly ingress: boolean;
  readonly egress: boolean;
  readonly doNotTrack: boolean;
  readonly preDNAT: boolean;
  readonly applyOnForward: boolean;
  /** performanceHints AssumeNeededOnEveryNode: programmed even where it selects no endpoint. */
  readonly forceActive: boolean;
  readonly inboundRules: Rule[];
  readonly outboundRules: Rule[];
  readonly ipSets: ReadonlyMap<string, IPSetData>;
}

export interface ProfileData {
  readonly name: string;
  readonly labels: Labels | undefined;
  readonly inboundRules: Rule[];
  readonly outboundRules: Rule[];
  readonly ipSets: ReadonlyMap<string, IPSetData>;
}

export interface TierData {
  readonly name: string;
  readonly order: number | undefined;
  readonly defaultAction: 'Deny' | 'Pass';
}

export function decodeWorkloadEndpoint(u: Present<'WorkloadEndpoint'>): WorkloadEndpointData | undefined {
  return guarded(u, () => {
    const s = specOf(u.value);
    const namespace = u.namespace ?? '';
    const ipv4Nets: string[] = [];
    const ipv6Nets: string[] = [];
    for (const n of s.ipNetworks ?? []) {
      const c = parseCIDR(n) ?? hostCIDR(n) ?? fail(`ipNetworks entry ${JSON.stringify(n)} is not an address`);
      // Calico keeps the address and ignores the prefix length (validation makes it /32, /128).
      const text = formatCIDR({ version: c.version, addr: c.addr, prefix: c.version === 4 ? 32 : 128 });
      (c.version === 4 ? ipv4Nets : ipv6Nets).push(text);
    }
    if (ipv4Nets.length + ipv6Nets.length === 0) return undefined;

    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(u.value.labels ?? {})) {
      if (!k.startsWith(NAMESPACE_LABEL_PREFIX) && !k.startsWith(SERVICE_ACCOUNT_LABEL_PREFIX)) labels[k] = v;
    }
    if (namespace !== '') labels[LABEL_NAMESPACE] = namespace;
    const sa = s.serviceAccountName;
    if (sa) labels[LABEL_SERVICE_ACCOUNT] = sa;

    const profileIds = [...(s.profiles ?? [])];
    const endpoint: Omit<WorkloadEndpoint, 'tiers'> = { name: s.interfaceName || '', ipv4Nets, ipv6Nets, profileIds };
    const mac = s.mac;
    if (mac) endpoint.mac = mac.toLowerCase();
    const nats = natsOf(s.ipNATs ?? []);
    if (nats.v4.length > 0) endpoint.ipv4Nat = nats.v4;
    if (nats.v6.length > 0) endpoint.ipv6Nat = nats.v6;
    const spoof = (s.allowSpoofedSourcePrefixes ?? []).map(
      (p) => normalizeNet(p) ?? fail(`allowSpoofedSourcePrefixes entry ${JSON.stringify(p)} is not a CIDR`),
    );
    if (spoof.length > 0) endpoint.allowSpoofedSourcePrefixes = spoof;

    return {
      kind: 'WorkloadEndpoint',
      namespace,
      name: u.name,
      node: s.node || '',
      labels,
      parents: profileIds,
      nets: [...ipv4Nets, ...ipv6Nets],
      ports: portsOf(s.ports ?? []),
      endpoint,
    };
  });
}

export function decodeHostEndpoint(u: Present<'HostEndpoint'>): HostEndpointData {
  return guarded(u, () => {
    const s = specOf(u.value);
    const v4: string[] = [];
    const v6: string[] = [];
    const nets: string[] = [];
    for (const text of s.expectedIPs ?? []) {
      const ip = parseIP(text) ?? fail(`expectedIPs entry ${JSON.stringify(text)} is not an address`);
      (ip.version === 4 ? v4 : v6).push(formatIP(ip));
      nets.push(formatCIDR({ version: ip.version, addr: ip, prefix: ip.version === 4 ? 32 : 128 }));
    }
    const profileIds = [...(s.profiles ?? [])];
    const endpoint: HostEndpointData['endpoint'] = { expectedIpv4Addrs: v4, expectedIpv6Addrs: v6, profileIds };
    const iface = s.interfaceName;
    if (iface) endpoint.name = iface;
    return {
      kind: 'HostEndpoint',
      name: u.name,
      node: s.node || '',
      labels: u.value.labels ?? NO_LABELS,
      parents: profileIds,
      nets,
      ports: portsOf(s.ports ?? []),
      endpoint,
    };
  });
}

/** NetworkSet or GlobalNetworkSet. */
export function decodeNetworkSet(u: Present<'NetworkSet' | 'GlobalNetworkSet'>): LabeledNets {
  return guarded(u, () => {
    const nets: string[] = [];
    for (const n of specOf(u.value).nets ?? []) {
      const text = normalizeNet(n) ?? fail(`nets entry ${JSON.stringify(n)} is not a CIDR`);
      // The kernel's hash:net sets cannot hold a /0; Calico splits it into two /1s.
      if (text === '0.0.0.0/0') nets.push('0.0.0.0/1', '128.0.0.0/1');
      else if (text === '::/0') nets.push('::/1', '8000::/1');
      else nets.push(text);
    }
    if (u.kind !== 'NetworkSet' || !u.namespace) return { labels: u.value.labels ?? NO_LABELS, parents: [], nets, ports: [] };
    return {
      labels: { ...u.value.labels, [LABEL_NAMESPACE]: u.namespace },
      parents: [NAMESPACE_PROFILE_PREFIX + u.namespace],
      nets,
      ports: [],
    };
  });
}

export function policyKey(u: Pick<FelixUpdate, 'name' | 'namespace'>): string {
  return u.namespace ? `${u.namespace}/${u.name}` : u.name;
}

export function decodePolicy(u: Present<'NetworkPolicy' | 'GlobalNetworkPolicy'>): PolicyData {
  return guarded(u, () => {
    const s = specOf(u.value);
    const namespaced = u.kind === 'NetworkPolicy';
    const namespace = namespaced ? (u.namespace ?? fail('a NetworkPolicy needs a namespace')) : '';
    let selectorText: string;
    // Namespaced policies always apply to forwarded traffic (Calico sets ApplyOnForward).
    let flags = { doNotTrack: false, preDNAT: false, applyOnForward: true };
    if (u.kind === 'NetworkPolicy') {
      selectorText = networkPolicySelector(namespace, s.selector || undefined, s.serviceAccountSelector || undefined);
    } else {
      const g = specOf(u.value);
      selectorText = globalNetworkPolicySelector(g.selector || undefined, g.namespaceSelector || undefined, g.serviceAccountSelector || undefined);
      flags = { doNotTrack: g.doNotTrack === true, preDNAT: g.preDNAT === true, applyOnForward: g.applyOnForward === true };
    }
    const types = (s.types ?? []).map((t) => t.toLowerCase());
    const ipSets = new Map<string, IPSetData>();
    const id: PolicyId = { tier: s.tier || 'default', name: u.name };
    if (namespaced) id.namespace = namespace;
    return {
      key: policyKey(u),
      id,
      selector: parseSelectorCached(selectorText),
      order: s.order ?? undefined,
      // No types at all means both (Calico's back-compatibility rule).
      ingress: types.length === 0 || types.includes('ingress'),
      egress: types.length === 0 || types.includes('egress'),
      ...flags,
      forceActive: (s.performanceHints ?? []).includes('AssumeNeededOnEveryNode'),
      inboundRules: parseRules(s.ingress ?? [], namespace, ipSets),
      outboundRules: parseRules(s.egress ?? [], namespace, ipSets),
      ipSets,
    };
  });
}

export function decodeProfile(u: Present<'Profile'>): ProfileData {
  return guarded(u, () => {
    const s = specOf(u.value);
    const ipSets = new Map<string, IPSetData>();
    const labels = s.labelsToApply ? asLabels(s.labelsToApply) : undefined;
    return {
      name: u.name,
      labels: labels && Object.keys(labels).length > 0 ? labels : undefined,
      inboundRules: parseRules(s.ingress ?? [], '', ipSets),
      outboundRules: parseRules(s.egress ?? [], '', ipSets),
      ipSets,
    };
  });
}

/** Calico's built-in tiers, used as they are when no Tier resource names them. */
export const BUILT_IN_TIERS: Readonly<Record<string, TierData>> = Object.freeze({
  'kube-admin': { name: 'kube-admin', order: 1_000, defaultAction: 'Pass' },
  default: { name: 'default', order: 1_000_000, defaultAction: 'Deny' },
  'kube-baseline': { name: 'kube-baseline', order: 10_000_000, defaultAction: 'Pass' },
});

export function decodeTier(u: Present<'Tier'>): TierData {
  const s = specOf(u.value);
  const builtIn = BUILT_IN_TIERS[u.name];
  return { name: u.name, order: s.order ?? builtIn?.order, defaultAction: s.defaultAction || (builtIn?.defaultAction ?? 'Deny') };
}

type NatSpec = { readonly internalIP: string; readonly externalIP: string };

function natsOf(list: readonly NatSpec[]): { v4: NatInfo[]; v6: NatInfo[] } {
  const v4: NatInfo[] = [];
  const v6: NatInfo[] = [];
  for (const n of list) {
    const int = parseIP(n.internalIP);
    const ext = parseIP(n.externalIP);
    if (int && ext) (int.version === 4 ? v4 : v6).push({ extIp: formatIP(ext), intIp: formatIP(int) });
  }
  return { v4, v6 };
}

type PortSpec = { readonly name?: string | null; readonly protocol: number | string; readonly port: number };

/** Named ports only (Calico's v1 model drops unnamed ones); protocol as a named-port protocol. */
function portsOf(list: readonly PortSpec[]): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const p of list) {
    if (!p.name) continue;
    const proto = String(p.protocol).toLowerCase();
    const protocol: NamedPortProtocol | undefined =
      proto === 'tcp' || proto === '6' ? 'tcp' : proto === 'udp' || proto === '17' ? 'udp' : proto === 'sctp' || proto === '132' ? 'sctp' : undefined;
    if (protocol) out.push({ name: p.name, protocol, port: p.port });
  }
  return out;
}
