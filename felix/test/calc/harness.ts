/**
 * Test helpers for the calculation graph: builders for felix-syncer updates (shaped like the
 * projections Typha sends) and a DataplaneState that applies the graph's messages the way a
 * driver would, failing on any message that breaks the ordering contract (a policy naming an
 * IP set that does not exist yet, an endpoint naming a policy that was never sent, a route
 * toward a node without a VTEP, a removal of something still in use).
 */
import assert from 'node:assert/strict';
import { parseSelector } from '@cattail/api';
import type { Update } from '@cattail/typha/client';
import { CalcGraph } from '../../src/calc/calc-graph.js';
import type { FelixKind, FelixUpdate } from '../../src/calc/decode-util.js';
import type {
  DataplaneMessage,
  DataplaneSink,
  HostEndpoint,
  Policy,
  PolicyId,
  Profile,
  Rule,
  RouteUpdate,
  TierInfo,
  VXLANTunnelEndpointUpdate,
  WorkloadEndpoint,
} from '../../src/proto/messages.js';

export const NODE = 'node-1';

let revision = 0;
type Labels = Record<string, string>;
type Spec = Record<string, unknown>;

/**
 * A felix-syncer update built by hand. The specs here are written to the views' shapes
 * (views/felix.ts) but not checked against them, so tests can also feed what Typha would not;
 * hence the one cast.
 */
export function update(kind: FelixKind, name: string, spec?: Spec, labels?: Labels, namespace?: string): FelixUpdate {
  const u: Update = { kind, name, revision: ++revision };
  if (namespace !== undefined) u.namespace = namespace;
  if (spec !== undefined || labels !== undefined) {
    u.value = {};
    if (spec !== undefined) u.value.spec = spec;
    if (labels !== undefined) u.value.labels = labels;
  }
  return u as FelixUpdate;
}

export function del(kind: FelixKind, name: string, namespace?: string): FelixUpdate {
  return update(kind, name, undefined, undefined, namespace);
}

export interface WepOptions {
  node?: string;
  labels?: Labels;
  ips?: string[];
  profiles?: string[];
  iface?: string;
  ports?: Array<{ name: string; protocol: string; port: number }>;
  sa?: string;
  mac?: string;
}

/** A Kubernetes-style pod endpoint: namespace label, `kns.<ns>` profile, interface name. */
export function wep(ns: string, name: string, o: WepOptions = {}): FelixUpdate {
  const spec: Spec = {
    node: o.node ?? NODE,
    interfaceName: o.iface ?? `cali-${name}`,
    ipNetworks: o.ips ?? [],
    profiles: o.profiles ?? [`kns.${ns}`],
  };
  if (o.ports) spec.ports = o.ports;
  if (o.sa) spec.serviceAccountName = o.sa;
  if (o.mac) spec.mac = o.mac;
  return update('WorkloadEndpoint', name, spec, { 'projectcalico.org/namespace': ns, ...o.labels }, ns);
}

export function hep(name: string, o: { node?: string; labels?: Labels; ips?: string[]; iface?: string; profiles?: string[] } = {}): FelixUpdate {
  const spec: Spec = { node: o.node ?? NODE, expectedIPs: o.ips ?? [] };
  if (o.iface) spec.interfaceName = o.iface;
  if (o.profiles) spec.profiles = o.profiles;
  return update('HostEndpoint', name, spec, o.labels ?? {});
}

/** A namespace as Calico's Kubernetes integration presents it: profile `kns.<ns>`. */
export function namespace(ns: string, labels: Labels = {}, rules: { ingress?: unknown[]; egress?: unknown[] } = {}): FelixUpdate {
  const labelsToApply: Labels = { 'pcns.projectcalico.org/name': ns };
  for (const [k, v] of Object.entries(labels)) labelsToApply[`pcns.${k}`] = v;
  return update('Profile', `kns.${ns}`, { labelsToApply, ingress: rules.ingress ?? [{ action: 'Allow' }], egress: rules.egress ?? [{ action: 'Allow' }] });
}

/** A service account as Calico presents it: profile `ksa.<ns>.<sa>`. */
export function serviceAccount(ns: string, sa: string, labels: Labels = {}): FelixUpdate {
  const labelsToApply: Labels = { 'pcsa.projectcalico.org/name': sa };
  for (const [k, v] of Object.entries(labels)) labelsToApply[`pcsa.${k}`] = v;
  return update('Profile', `ksa.${ns}.${sa}`, { labelsToApply });
}

export function np(ns: string, name: string, spec: Spec): FelixUpdate {
  return update('NetworkPolicy', name, { tier: 'default', ...spec }, undefined, ns);
}

export function gnp(name: string, spec: Spec): FelixUpdate {
  return update('GlobalNetworkPolicy', name, { tier: 'default', ...spec });
}

export function tier(name: string, order?: number, defaultAction?: 'Deny' | 'Pass'): FelixUpdate {
  const spec: Spec = {};
  if (order !== undefined) spec.order = order;
  if (defaultAction !== undefined) spec.defaultAction = defaultAction;
  return update('Tier', name, spec);
}

export function netset(ns: string, name: string, nets: string[], labels: Labels = {}): FelixUpdate {
  return update('NetworkSet', name, { nets }, labels, ns);
}

export function gnetset(name: string, nets: string[], labels: Labels = {}): FelixUpdate {
  return update('GlobalNetworkSet', name, { nets }, labels);
}

export function pool(name: string, cidr: string, vxlanMode = 'Always', blockSize = 26): FelixUpdate {
  return update('IPPool', name, { cidr, vxlanMode, ipipMode: 'Never', blockSize, natOutgoing: true });
}

export function block(cidr: string, node?: string): FelixUpdate {
  const spec: Spec = { cidr };
  if (node !== undefined) spec.affinity = `host:${node}`;
  return update('IPAMBlock', cidr.replace(/[./:]/g, '-'), spec);
}

export function node(name: string, o: { ip?: string; ip6?: string; vxlan?: string; mac?: string; labels?: Labels } = {}): FelixUpdate {
  const spec: Spec = {};
  const bgp: Spec = {};
  if (o.ip) bgp.ipv4Address = o.ip;
  if (o.ip6) bgp.ipv6Address = o.ip6;
  if (Object.keys(bgp).length > 0) spec.bgp = bgp;
  if (o.vxlan) spec.ipv4VXLANTunnelAddr = o.vxlan;
  if (o.mac) spec.vxlanTunnelMACAddr = o.mac;
  return update('Node', name, spec, o.labels ?? {});
}

export function policyKey(id: PolicyId): string {
  return id.namespace === undefined ? id.name : `${id.namespace}/${id.name}`;
}

/** The IP set id Felix uses for a selector. */
export function setId(selector: string): string {
  return parseSelector(selector).uniqueId();
}

function ruleSets(rules: Rule[]): string[] {
  const out: string[] = [];
  for (const r of rules) {
    for (const f of ['src', 'dst', 'notSrc', 'notDst']) {
      const rec = r as unknown as Record<string, string[] | undefined>;
      out.push(...(rec[`${f}IpSetIds`] ?? []), ...(rec[`${f}NamedPortIpSetIds`] ?? []));
    }
    out.push(...(r.dstIpPortSetIds ?? []));
  }
  return out;
}

/** The driver's view: the state the messages so far describe, checked message by message. */
export class DataplaneState implements DataplaneSink {
  readonly batches: DataplaneMessage[][] = [];
  readonly ipSets = new Map<string, { type: string; members: Set<string> }>();
  readonly policies = new Map<string, { id: PolicyId; policy: Policy }>();
  readonly profiles = new Map<string, Profile>();
  readonly workloads = new Map<string, WorkloadEndpoint>();
  readonly hostEndpoints = new Map<string, HostEndpoint>();
  readonly routes = new Map<string, RouteUpdate>();
  readonly vteps = new Map<string, VXLANTunnelEndpointUpdate>();
  readonly hosts = new Map<string, DataplaneMessage>();
  readonly pools = new Map<string, DataplaneMessage>();
  config: DataplaneMessage | undefined;
  encapsulation: DataplaneMessage | undefined;
  inSync = false;

  onMessages(msgs: DataplaneMessage[]): void {
    assert.ok(msgs.length > 0, 'the graph must not send empty batches');
    this.batches.push(msgs);
    for (const m of msgs) this.#apply(m);
  }

  /** Every message sent since the last take(), in order. */
  take(): DataplaneMessage[] {
    const all = this.batches.flat();
    this.batches.length = 0;
    return all;
  }

  members(id: string): string[] {
    const s = this.ipSets.get(id);
    assert.ok(s, `IP set ${id} exists`);
    return [...s.members].sort();
  }

  /** Compact view of an endpoint's tiers: `tier(action): ingress | egress`. */
  tiers(key: string): string[] {
    const ep = this.workloads.get(key) ?? this.hostEndpoints.get(key);
    assert.ok(ep, `endpoint ${key} was sent`);
    return ep.tiers.map(describeTier);
  }

  #apply(m: DataplaneMessage): void {
    switch (m.kind) {
      case 'ConfigUpdate':
        this.config = m;
        return;
      case 'IPSetUpdate':
        this.ipSets.set(m.id, { type: m.type, members: new Set(m.members) });
        return;
      case 'IPSetDeltaUpdate': {
        const s = this.ipSets.get(m.id);
        assert.ok(s, `delta for unknown IP set ${m.id}`);
        for (const r of m.removed) assert.ok(s.members.delete(r), `removed member ${r} was in ${m.id}`);
        for (const a of m.added) {
          assert.ok(!s.members.has(a), `added member ${a} was not in ${m.id} yet`);
          s.members.add(a);
        }
        return;
      }
      case 'IPSetRemove':
        assert.ok(this.ipSets.delete(m.id), `removed IP set ${m.id} existed`);
        for (const [k, p] of this.policies)
          assert.ok(!ruleSets([...p.policy.inboundRules, ...p.policy.outboundRules]).includes(m.id), `IP set ${m.id} removed while policy ${k} uses it`);
        return;
      case 'ActivePolicyUpdate':
        for (const id of ruleSets([...m.policy.inboundRules, ...m.policy.outboundRules]))
          assert.ok(this.ipSets.has(id), `policy ${m.id.name} uses IP set ${id} before it exists`);
        this.policies.set(policyKey(m.id), { id: m.id, policy: m.policy });
        return;
      case 'ActivePolicyRemove': {
        const key = policyKey(m.id);
        const held = this.policies.get(key);
        assert.ok(held, `removed policy ${key} existed`);
        if (held.id.tier === m.id.tier) this.policies.delete(key);
        for (const [k, ep] of [...this.workloads, ...this.hostEndpoints]) {
          for (const t of ep.tiers)
            for (const p of [...t.ingressPolicies, ...t.egressPolicies])
              assert.ok(policyKey(p) !== key || p.tier !== m.id.tier, `policy ${key} removed while ${k} uses it`);
        }
        return;
      }
      case 'ActiveProfileUpdate':
        for (const id of ruleSets([...m.profile.inboundRules, ...m.profile.outboundRules]))
          assert.ok(this.ipSets.has(id), `profile uses IP set ${id} before it exists`);
        this.profiles.set(m.id.name, m.profile);
        return;
      case 'ActiveProfileRemove':
        assert.ok(this.profiles.delete(m.id.name), `removed profile ${m.id.name} existed`);
        for (const [k, ep] of [...this.workloads, ...this.hostEndpoints])
          assert.ok(!ep.profileIds.includes(m.id.name), `profile ${m.id.name} removed while ${k} uses it`);
        return;
      case 'WorkloadEndpointUpdate':
        this.#checkEndpoint(m.endpoint);
        this.workloads.set(`${m.id.namespace}/${m.id.name}`, m.endpoint);
        return;
      case 'WorkloadEndpointRemove':
        assert.ok(this.workloads.delete(`${m.id.namespace}/${m.id.name}`), 'removed workload existed');
        return;
      case 'HostEndpointUpdate':
        this.#checkEndpoint(m.endpoint);
        this.hostEndpoints.set(m.id.name, m.endpoint);
        return;
      case 'HostEndpointRemove':
        assert.ok(this.hostEndpoints.delete(m.id.name), 'removed host endpoint existed');
        return;
      case 'HostMetadataUpdate':
        this.hosts.set(m.hostname, m);
        return;
      case 'HostMetadataRemove':
        assert.ok(this.hosts.delete(m.hostname));
        return;
      case 'IPAMPoolUpdate':
        this.pools.set(m.id, m);
        return;
      case 'IPAMPoolRemove':
        assert.ok(this.pools.delete(m.id));
        return;
      case 'EncapsulationUpdate':
        this.encapsulation = m;
        return;
      case 'RouteUpdate':
        this.routes.set(m.dst, m);
        return;
      case 'RouteRemove':
        assert.ok(this.routes.delete(m.dst), `removed route ${m.dst} existed`);
        return;
      case 'VXLANTunnelEndpointUpdate':
        this.vteps.set(m.node, m);
        return;
      case 'VXLANTunnelEndpointRemove':
        assert.ok(this.vteps.delete(m.node));
        for (const r of this.routes.values())
          assert.ok(r.type !== 'remote-workload-vxlan' || r.dstNodeName !== m.node, `VTEP ${m.node} removed while route ${r.dst} uses it`);
        return;
      case 'InSync':
        assert.ok(!this.inSync, 'InSync is sent once');
        this.inSync = true;
        return;
    }
  }

  #checkEndpoint(ep: WorkloadEndpoint | HostEndpoint): void {
    const lists: TierInfo[] = [...ep.tiers];
    if ('untrackedTiers' in ep) lists.push(...ep.untrackedTiers, ...ep.preDnatTiers, ...ep.forwardTiers);
    for (const t of lists) {
      for (const p of [...t.ingressPolicies, ...t.egressPolicies]) {
        const held = this.policies.get(policyKey(p));
        assert.ok(held && held.id.tier === p.tier, `endpoint uses policy ${policyKey(p)} before it was sent`);
      }
    }
    for (const prof of ep.profileIds) assert.ok(this.profiles.has(prof), `endpoint uses profile ${prof} before it was sent`);
  }
}

export function describeTier(t: TierInfo): string {
  const names = (ids: PolicyId[]) => ids.map(policyKey).join(',');
  return `${t.name}(${t.defaultAction}): ${names(t.ingressPolicies)} | ${names(t.egressPolicies)}`;
}

/** A graph for NODE with a recording driver; `start` feeds the snapshot and InSync. */
export function harness(nodeName = NODE): {
  graph: CalcGraph;
  dp: DataplaneState;
  start(updates: FelixUpdate[]): DataplaneMessage[];
  apply(updates: FelixUpdate[]): DataplaneMessage[];
} {
  const dp = new DataplaneState();
  const graph = new CalcGraph(nodeName, dp);
  return {
    graph,
    dp,
    start(updates) {
      graph.onUpdates(updates);
      assert.equal(dp.batches.length, 0, 'nothing is sent before InSync');
      graph.onInSync();
      return dp.take();
    },
    apply(updates) {
      graph.onUpdates(updates);
      return dp.take();
    },
  };
}

/** Message kinds in order, for asserting the sequence of a batch. */
export function kinds(msgs: DataplaneMessage[]): string[] {
  return msgs.map((m) => m.kind);
}

/** The IP set ids a policy's rules use, in rule order. */
export function policySets(dp: DataplaneState, key: string): string[] {
  const p = dp.policies.get(key);
  assert.ok(p, `policy ${key} is active`);
  return ruleSets([...p.policy.inboundRules, ...p.policy.outboundRules]);
}
