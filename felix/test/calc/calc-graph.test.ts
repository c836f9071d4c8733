/**
 * The graph as a whole: batch order, the in-sync gate, resyncs, removals, invalid input, config.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from '@cattail/typha/client';
import type { FelixUpdate } from '../../src/calc/decode-util.js';
import { CalcGraph } from '../../src/calc/calc-graph.js';
import { InvalidResourceError } from '../../src/errors.js';
import type { DataplaneMessage } from '../../src/proto/messages.js';
import { block, DataplaneState, del, gnp, harness, hep, kinds, namespace, node, np, pool, setId, update, wep } from './harness.js';

function snapshot(): FelixUpdate[] {
  return [
    update('FelixConfiguration', 'default', { logSeverityScreen: 'Info', bpfEnabled: false }),
    update('ClusterInformation', 'default', { clusterGUID: 'abc', datastoreReady: true }),
    pool('default-ipv4-ippool', '10.65.0.0/16'),
    node('node-1', { ip: '10.0.0.1/24', vxlan: '10.65.0.0', labels: { zone: 'a' } }),
    node('node-2', { ip: '10.0.0.2/24', vxlan: '10.65.1.0' }),
    block('10.65.0.0/26', 'node-1'),
    block('10.65.1.0/26', 'node-2'),
    namespace('shop', { team: 'web' }),
    wep('shop', 'front', { ips: ['10.65.0.2'], labels: { app: 'front' }, mac: 'EE:EE:EE:EE:EE:EE', ports: [{ name: 'http', protocol: 'TCP', port: 8080 }] }),
    wep('shop', 'db', { node: 'node-2', ips: ['10.65.1.2'], labels: { app: 'db' } }),
    hep('node-1-eth0', { iface: 'eth0', ips: ['10.0.0.1'], labels: { host: 'node-1' } }),
    np('shop', 'front-egress', {
      selector: "app == 'front'",
      order: 10,
      types: ['Egress'],
      egress: [{ action: 'Allow', protocol: 'TCP', destination: { selector: "app == 'db'", ports: [5432] } }],
    }),
    // As stored: the API defaults `types` from the rules (Ingress here).
    gnp('hosts', { selector: 'has(host)', types: ['Ingress'], ingress: [{ action: 'Allow', source: { nets: ['10.0.0.0/24'] } }] }),
  ];
}

test('the snapshot arrives as one batch, in dependency order, ending in InSync', () => {
  const h = harness();
  const msgs = h.start(snapshot());
  assert.deepEqual(kinds(msgs), [
    'ConfigUpdate',
    'IPSetUpdate',
    'ActivePolicyUpdate',
    'ActivePolicyUpdate',
    'ActiveProfileUpdate',
    'WorkloadEndpointUpdate',
    'HostEndpointUpdate',
    'HostMetadataUpdate',
    'HostMetadataUpdate',
    'IPAMPoolUpdate',
    'EncapsulationUpdate',
    'VXLANTunnelEndpointUpdate',
    'VXLANTunnelEndpointUpdate',
    'RouteUpdate',
    'RouteUpdate',
    'InSync',
  ]);
  const db = setId('(projectcalico.org/namespace == \'shop\') && (app == "db")');
  const byKind = (k: string) => msgs.filter((m) => m.kind === k);
  assert.deepEqual(byKind('ConfigUpdate'), [
    { kind: 'ConfigUpdate', config: { logSeverityScreen: 'Info', bpfEnabled: false }, clusterInformation: { clusterGUID: 'abc', datastoreReady: true } },
  ]);
  assert.deepEqual(byKind('IPSetUpdate'), [{ kind: 'IPSetUpdate', id: db, type: 'net', members: ['10.65.1.2/32'] }]);
  assert.deepEqual(byKind('ActivePolicyUpdate'), [
    {
      kind: 'ActivePolicyUpdate',
      id: { tier: 'default', name: 'hosts' },
      policy: { inboundRules: [{ action: 'Allow', position: 0, srcNets: ['10.0.0.0/24'] }], outboundRules: [] },
    },
    {
      kind: 'ActivePolicyUpdate',
      id: { tier: 'default', name: 'front-egress', namespace: 'shop' },
      policy: {
        namespace: 'shop',
        inboundRules: [],
        outboundRules: [{ action: 'Allow', position: 0, protocol: 'tcp', dstPorts: [{ first: 5432, last: 5432 }], dstIpSetIds: [db] }],
      },
    },
  ]);
  assert.deepEqual(byKind('WorkloadEndpointUpdate'), [
    {
      kind: 'WorkloadEndpointUpdate',
      id: { namespace: 'shop', name: 'front' },
      endpoint: {
        name: 'cali-front',
        mac: 'ee:ee:ee:ee:ee:ee',
        ipv4Nets: ['10.65.0.2/32'],
        ipv6Nets: [],
        profileIds: ['kns.shop'],
        tiers: [
          { name: 'default', defaultAction: 'Deny', ingressPolicies: [], egressPolicies: [{ tier: 'default', name: 'front-egress', namespace: 'shop' }] },
        ],
      },
    },
  ]);
  assert.deepEqual(byKind('HostEndpointUpdate'), [
    {
      kind: 'HostEndpointUpdate',
      id: { name: 'node-1-eth0' },
      endpoint: {
        name: 'eth0',
        expectedIpv4Addrs: ['10.0.0.1'],
        expectedIpv6Addrs: [],
        profileIds: [],
        tiers: [{ name: 'default', defaultAction: 'Deny', ingressPolicies: [{ tier: 'default', name: 'hosts' }], egressPolicies: [] }],
        untrackedTiers: [],
        preDnatTiers: [],
        forwardTiers: [],
      },
    },
  ]);
  assert.deepEqual(
    byKind('RouteUpdate').map((m) => m.kind === 'RouteUpdate' && `${m.type} ${m.dst}`),
    ['local-workload 10.65.0.2/32', 'remote-workload-vxlan 10.65.1.0/26'],
  );
});

test('nothing is sent before InSync; InSync is sent once', () => {
  const dp = new DataplaneState();
  const g = new CalcGraph('node-1', dp);
  const snap = snapshot();
  g.onUpdates(snap.slice(0, 5));
  g.onUpdates(snap.slice(5));
  assert.equal(dp.batches.length, 0);
  g.onInSync();
  assert.equal(dp.batches.length, 1);
  assert.equal(dp.batches[0].at(-1)!.kind, 'InSync');
  g.onInSync();
  assert.equal(dp.batches.length, 1, 'a second InSync with nothing new sends nothing');
  // An empty snapshot still gets config and InSync, so the driver can start.
  const empty = harness();
  assert.deepEqual(empty.start([]), [{ kind: 'ConfigUpdate', config: {}, clusterInformation: {} }, { kind: 'InSync' }]);
});

test('a resync that repeats the same data (new revisions, other key order) emits nothing', () => {
  const h = harness();
  h.start(snapshot());
  const again = snapshot().map((u) => ({ ...u, revision: u.revision + 1000, value: u.value && JSON.parse(JSON.stringify(u.value)) }));
  // Also reorder keys inside one spec: equality is structural.
  const polIdx = again.findIndex((u) => u.kind === 'NetworkPolicy');
  const spec = again[polIdx].value!.spec!;
  again[polIdx].value!.spec = Object.fromEntries(Object.entries(spec).reverse());
  assert.deepEqual(h.apply(again.reverse()), []);
  h.graph.onInSync();
  assert.deepEqual(h.dp.take(), []);
});

test('removing the last endpoint removes its routes, then policies, profiles and IP sets no longer used, in reverse order', () => {
  const h = harness();
  h.start(snapshot());
  const msgs = h.apply([del('WorkloadEndpoint', 'front', 'shop')]);
  assert.deepEqual(msgs, [
    { kind: 'WorkloadEndpointRemove', id: { namespace: 'shop', name: 'front' } },
    { kind: 'ActiveProfileRemove', id: { name: 'kns.shop' } },
    { kind: 'ActivePolicyRemove', id: { tier: 'default', name: 'front-egress', namespace: 'shop' } },
    { kind: 'IPSetRemove', id: setId('(projectcalico.org/namespace == \'shop\') && (app == "db")') },
    { kind: 'RouteRemove', dst: '10.65.0.2/32' },
  ] satisfies DataplaneMessage[]);
  // And back: the same messages forward.
  assert.deepEqual(kinds(h.apply([snapshot()[8]])), ['IPSetUpdate', 'ActivePolicyUpdate', 'ActiveProfileUpdate', 'WorkloadEndpointUpdate', 'RouteUpdate']);
});

test('an endpoint moving off this node is removed locally but stays in IP sets', () => {
  const h = harness();
  h.start(snapshot());
  const moved = h.apply([wep('shop', 'db', { node: 'node-1', ips: ['10.65.1.2'], labels: { app: 'db' } })]);
  // Now local: it gets an endpoint and a local route; its IP set membership is unchanged.
  assert.deepEqual(kinds(moved), ['WorkloadEndpointUpdate', 'RouteUpdate']);
  assert.deepEqual(h.dp.routes.get('10.65.1.2/32'), {
    kind: 'RouteUpdate',
    type: 'local-workload',
    dst: '10.65.1.2/32',
    dstNodeName: 'node-1',
    ifaceName: 'cali-db',
  });
  assert.deepEqual(kinds(h.apply([wep('shop', 'db', { node: 'node-2', ips: ['10.65.1.2'], labels: { app: 'db' } })])), [
    'WorkloadEndpointRemove',
    'RouteRemove',
  ]);
});

test('label changes move a local endpoint between policies', () => {
  const h = harness();
  h.start(snapshot());
  const msgs = h.apply([
    wep('shop', 'front', {
      ips: ['10.65.0.2'],
      labels: { app: 'other', host: 'x' },
      mac: 'EE:EE:EE:EE:EE:EE',
      ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    }),
  ]);
  // front-egress no longer applies (and with it its IP set); hosts now does.
  assert.deepEqual(kinds(msgs), ['WorkloadEndpointUpdate', 'ActivePolicyRemove', 'IPSetRemove']);
  assert.deepEqual(h.dp.tiers('shop/front'), ['default(Deny): hosts | ']);
  // A selector edit that matches the same endpoints with the same rules sends nothing.
  assert.deepEqual(
    h.apply([gnp('hosts', { selector: 'has(host) && !has(nope)', types: ['Ingress'], ingress: [{ action: 'Allow', source: { nets: ['10.0.0.0/24'] } }] })]),
    [],
  );
});

test('AssumeNeededOnEveryNode: the policy and its IP sets are programmed before any endpoint needs them', () => {
  const h = harness();
  h.start(snapshot());
  const forced = (hints: string[], selector = "app == 'later'") =>
    gnp('early', { selector, performanceHints: hints, types: ['Ingress'], ingress: [{ action: 'Allow', source: { selector: "app == 'db'" } }] });
  assert.deepEqual(kinds(h.apply([forced(['AssumeNeededOnEveryNode'])])), ['IPSetUpdate', 'ActivePolicyUpdate']);
  // An endpoint it selects arrives: only the endpoint changes.
  assert.deepEqual(kinds(h.apply([forced(['AssumeNeededOnEveryNode'], "app == 'front'")])), ['WorkloadEndpointUpdate']);
  // Without the hint it stays while it has a match, and goes with the last one.
  assert.deepEqual(kinds(h.apply([forced([], "app == 'front'")])), []);
  assert.deepEqual(kinds(h.apply([forced([])])), ['WorkloadEndpointUpdate', 'ActivePolicyRemove', 'IPSetRemove']);
  assert.deepEqual(kinds(h.apply([forced(['AssumeNeededOnEveryNode'])])), ['IPSetUpdate', 'ActivePolicyUpdate']);
  assert.deepEqual(kinds(h.apply([del('GlobalNetworkPolicy', 'early')])), ['ActivePolicyRemove', 'IPSetRemove']);
});

test('an invalid resource is logged and treated as deleted; fixing it restores it', () => {
  const warnings: Array<{ obj: Record<string, unknown>; msg?: string }> = [];
  const logger: Logger = {
    error() {},
    info() {},
    debug() {},
    warn(obj, msg) {
      warnings.push({ obj: obj as Record<string, unknown>, msg });
    },
    child() {
      return logger;
    },
  };
  const dp = new DataplaneState();
  const g = new CalcGraph('node-1', dp, { logger });
  g.onUpdates(snapshot());
  g.onInSync();
  dp.take();
  g.onUpdates([gnp('hosts', { selector: 'has(host', ingress: [] })]);
  assert.deepEqual(kinds(dp.take()), ['HostEndpointUpdate', 'ActivePolicyRemove']);
  assert.equal(warnings.length, 1);
  const err = warnings[0].obj.err as InvalidResourceError;
  assert.ok(err instanceof InvalidResourceError);
  assert.equal(err.code, 'FELIX_INVALID_RESOURCE');
  assert.equal(err.resource, 'GlobalNetworkPolicy hosts');
  assert.match(warnings[0].msg!, /GlobalNetworkPolicy hosts: .*treated as deleted/);
  // Rules are checked too: a bad rule selector refuses the whole policy.
  g.onUpdates([np('shop', 'front-egress', { selector: "app == 'front'", egress: [{ action: 'Allow', destination: { selector: '&&' } }] })]);
  assert.deepEqual(kinds(dp.take()), ['WorkloadEndpointUpdate', 'ActivePolicyRemove', 'IPSetRemove']);
  g.onUpdates([snapshot().at(-1)!]);
  assert.deepEqual(kinds(dp.take()), ['ActivePolicyUpdate', 'HostEndpointUpdate']);
});

test("configuration: the node's FelixConfiguration overrides the cluster's, other nodes' are ignored", () => {
  const h = harness();
  h.start(snapshot());
  assert.deepEqual(h.apply([update('FelixConfiguration', 'node.node-2', { logSeverityScreen: 'Debug' })]), []);
  assert.deepEqual(h.apply([update('FelixConfiguration', 'node.node-1', { logSeverityScreen: 'Debug', routeRefreshInterval: '30s' })]), [
    {
      kind: 'ConfigUpdate',
      config: { logSeverityScreen: 'Debug', bpfEnabled: false, routeRefreshInterval: '30s' },
      clusterInformation: { clusterGUID: 'abc', datastoreReady: true },
    },
  ]);
  assert.deepEqual(h.apply([del('ClusterInformation', 'default')]), [
    { kind: 'ConfigUpdate', config: { logSeverityScreen: 'Debug', bpfEnabled: false, routeRefreshInterval: '30s' }, clusterInformation: {} },
  ]);
});

test("BGPConfiguration default's service ranges reach the dataplane once per change (service loop prevention); other BGPConfigurations are ignored", () => {
  const h = harness();
  h.start(snapshot());
  const spec = {
    serviceClusterIPs: [{ cidr: '10.96.0.0/12' }],
    serviceExternalIPs: [{ cidr: '192.0.2.0/24' }, { cidr: '2001:db8::/64' }],
    serviceLoadBalancerIPs: [{ cidr: '198.51.100.0/24' }],
    asNumber: 64512,
  };
  assert.deepEqual(h.apply([update('BGPConfiguration', 'default', spec)]), [
    {
      kind: 'GlobalBGPConfigUpdate',
      serviceClusterCidrs: ['10.96.0.0/12'],
      serviceExternalCidrs: ['192.0.2.0/24', '2001:db8::/64'],
      serviceLoadBalancerCidrs: ['198.51.100.0/24'],
    },
  ]);
  assert.deepEqual(h.apply([update('BGPConfiguration', 'default', { ...spec, asNumber: 65000 })]), [], 'no change to the ranges, no message');
  assert.deepEqual(h.apply([update('BGPConfiguration', 'node.node-1', { serviceClusterIPs: [{ cidr: '10.0.0.0/8' }] })]), []);
  assert.deepEqual(h.apply([del('BGPConfiguration', 'default')]), [
    { kind: 'GlobalBGPConfigUpdate', serviceClusterCidrs: [], serviceExternalCidrs: [], serviceLoadBalancerCidrs: [] },
  ]);
});
