// Which sessions a node gets, and how each is set up: the rules of sessions.ts one at a time,
// through the real projection of validated resources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIP, type Resource } from '@cattail/api';
import { BgpModelStore } from '../../src/index.js';
import { bgpSettings, nodeFacts } from '../../src/render/node-facts.js';
import { planSessions, type Session } from '../../src/render/sessions.js';
import { bgpConfig, bgpUpdates, node, peer, workload } from '../helpers/resources.js';

function plan(resources: Resource[], me: string) {
  const store = new BgpModelStore();
  store.apply(bgpUpdates(resources));
  const model = store.model();
  return planSessions(model, nodeFacts(model, model.nodes.get(me)!), bgpSettings(model, me));
}

const summary = (s: Session) => `${s.name} ${formatIP(s.peerIP)} as ${s.peerAS}${s.passive ? ' passive' : ''}${s.rrClient ? ' rr-client' : ''} nh=${s.nextHop}`;

const mesh3 = [node('a', { ipv4: '10.0.0.1/24' }), node('b', { ipv4: '10.0.0.2/24' }), node('c', { ipv4: '10.0.0.3/24' })];

test('mesh: every other node, the lower address passive, so exactly one side connects', () => {
  for (const me of ['a', 'b', 'c']) {
    const got = plan(mesh3, me).sessions;
    assert.equal(got.length, 2, me);
    for (const s of got) {
      const other = plan(mesh3, s.peerNode!).sessions.find((x) => x.peerNode === me)!;
      assert.notEqual(s.passive, other.passive, `${me}↔${s.peerNode}: both sides ${s.passive ? 'passive' : 'active'}`);
    }
  }
  assert.deepEqual(plan(mesh3, 'b').sessions.map(summary), ['Mesh_10_0_0_1 10.0.0.1 as 64512 nh=self', 'Mesh_10_0_0_3 10.0.0.3 as 64512 passive nh=self']);
});

test('mesh off: no mesh sessions', () => {
  assert.deepEqual(plan([...mesh3, bgpConfig('default', { nodeToNodeMeshEnabled: false })], 'a').sessions, []);
});

test('mesh skips nodes without an address of the family and uses each node’s own AS', () => {
  const got = plan(
    [...mesh3, node('v6', { ipv6: 'fd00::9/64' }), node('d', { ipv4: '10.0.0.4/24', as: 65004 }), bgpConfig('default', { asNumber: 65000 })],
    'a',
  );
  assert.deepEqual(got.sessions.map(summary), [
    'Mesh_10_0_0_2 10.0.0.2 as 65000 passive nh=self',
    'Mesh_10_0_0_3 10.0.0.3 as 65000 passive nh=self',
    'Mesh_10_0_0_4 10.0.0.4 as 65004 passive nh=self',
  ]);
  assert.ok(got.sessions.every((s) => s.localAS === 65000));
});

test('route reflectors are out of the mesh; with a peerSelector peering, clients get the reflector and the reflector gets clients', () => {
  const rs = [...mesh3, node('rr', { ipv4: '10.0.0.9/24', rr: '244.0.0.1', labels: { rr: 'yes' } }), peer('to-rr', { peerSelector: "rr == 'yes'" })];
  // Clients: mesh among themselves, plus the reflector from the BGPPeer.
  assert.deepEqual(plan(rs, 'a').sessions.map(summary), [
    'Mesh_10_0_0_2 10.0.0.2 as 64512 passive nh=self',
    'Mesh_10_0_0_3 10.0.0.3 as 64512 passive nh=self',
    'Global_10_0_0_9 10.0.0.9 as 64512 passive nh=self',
  ]);
  // The reflector: no mesh, a client session per node (reverse peering), next hops untouched.
  assert.deepEqual(plan(rs, 'rr').sessions.map(summary), [
    'Node_10_0_0_1 10.0.0.1 as 64512 rr-client nh=auto',
    'Node_10_0_0_2 10.0.0.2 as 64512 rr-client nh=auto',
    'Node_10_0_0_3 10.0.0.3 as 64512 rr-client nh=auto',
  ]);
  assert.ok(plan(rs, 'rr').sessions.every((s) => s.rrClusterId === '244.0.0.1'));
});

test('reversePeering Manual: the selected node gets no session back', () => {
  const rs = [
    ...mesh3,
    node('rr', { ipv4: '10.0.0.9/24', rr: '244.0.0.1', labels: { rr: 'yes' } }),
    peer('to-rr', { peerSelector: "rr == 'yes'", reversePeering: 'Manual' }),
  ];
  assert.deepEqual(plan(rs, 'rr').sessions, []);
});

test('reflectors of one cluster are not each other’s clients; an eBGP neighbour is never a client', () => {
  const rs = [
    node('rr1', { ipv4: '10.0.0.8/24', rr: '244.0.0.1', labels: { rr: 'yes' } }),
    node('rr2', { ipv4: '10.0.0.9/24', rr: '244.0.0.1', labels: { rr: 'yes' } }),
    node('x', { ipv4: '10.0.0.5/24', as: 65005 }),
    peer('to-rr', { peerSelector: "rr == 'yes'" }),
  ];
  assert.deepEqual(plan(rs, 'rr1').sessions.map(summary), ['Global_10_0_0_9 10.0.0.9 as 64512 passive nh=auto', 'Node_10_0_0_5 10.0.0.5 as 65005 nh=self']);
});

test('node-specific beats global beats mesh for the same address; the loser becomes a note', () => {
  const got = plan(
    [
      ...mesh3,
      peer('g', { peerIP: '10.0.0.2', asNumber: 64512 }),
      peer('n', { node: 'a', peerIP: '10.0.0.2', asNumber: 64512, keepOriginalNextHop: true }),
      peer('g2', { peerIP: '10.0.0.3', asNumber: 64512 }),
    ],
    'a',
  );
  assert.deepEqual(got.sessions.map(summary), ['Global_10_0_0_3 10.0.0.3 as 64512 passive nh=self', 'Node_10_0_0_2 10.0.0.2 as 64512 passive nh=keep']);
  assert.deepEqual(
    got.sessions.map((s) => s.origin),
    ['BGPPeer g2', 'BGPPeer n'],
  );
  assert.deepEqual(got.notes, [
    'node-to-node mesh also peers with 10.0.0.2; BGPPeer g takes precedence',
    'node-to-node mesh also peers with 10.0.0.3; BGPPeer g2 takes precedence',
    'BGPPeer g also peers with 10.0.0.2; BGPPeer n takes precedence',
  ]);
});

test('a peer applies by node name, by node selector, or everywhere; never to the node itself', () => {
  const rs = [
    node('a', { ipv4: '10.0.0.1/24', labels: { rack: 'r1' } }),
    node('b', { ipv4: '10.0.0.2/24', labels: { rack: 'r2' } }),
    bgpConfig('default', { nodeToNodeMeshEnabled: false }),
    peer('by-name', { node: 'b', peerIP: '192.0.2.1', asNumber: 65001 }),
    peer('by-selector', { nodeSelector: "rack == 'r1'", peerIP: '192.0.2.2', asNumber: 65002 }),
    peer('everyone', { peerIP: '192.0.2.3', asNumber: 65003 }),
    peer('self', { peerIP: '10.0.0.1', asNumber: 64512 }),
  ];
  assert.deepEqual(
    plan(rs, 'a').sessions.map((s) => s.name),
    ['Global_192_0_2_3', 'Node_192_0_2_2'],
  );
  assert.deepEqual(
    plan(rs, 'b').sessions.map((s) => s.name),
    ['Global_10_0_0_1', 'Global_192_0_2_3', 'Node_192_0_2_1'],
  );
});

test('an IPv6 peer on an IPv4-only node is left out; a dual-stack node peers per family', () => {
  const rs = [
    node('a', { ipv4: '10.0.0.1/24' }),
    node('b', { ipv4: '10.0.0.2/24', ipv6: 'fd00::2/64' }),
    node('c', { ipv4: '10.0.0.3/24', ipv6: 'fd00::3/64' }),
    peer('v6', { peerIP: 'fd00::99', asNumber: 65001 }),
  ];
  assert.deepEqual(
    plan(rs, 'a').sessions.map((s) => s.name),
    ['Mesh_10_0_0_2', 'Mesh_10_0_0_3'],
  );
  assert.deepEqual(
    plan(rs, 'b').sessions.map((s) => `${s.name}/${s.version}`),
    ['Mesh_10_0_0_1/4', 'Mesh_10_0_0_3/4', 'Mesh_fd00__3/6', 'Global_fd00__99/6'],
  );
});

test('per-peer settings: local AS, ports, source address, timers, TTL security', () => {
  const rs = [
    node('a', { ipv4: '10.0.0.1/24' }),
    bgpConfig('default', { listenPort: 1790 }),
    peer('p', {
      peerIP: '192.0.2.1:1179',
      asNumber: '1.10',
      localASNumber: 65200,
      sourceAddress: 'None',
      keepaliveTime: '1m30s',
      maxRestartTime: '500ms',
      ttlSecurity: 3,
      numAllowedLocalASNumbers: 2,
      nextHopMode: 'Keep',
    }),
  ];
  const [s] = plan(rs, 'a').sessions;
  assert.equal(s.name, 'Global_192_0_2_1_port_1179');
  assert.equal(s.peerPort, 1179);
  assert.equal(s.localPort, 1790);
  assert.equal(s.peerAS, 65546);
  assert.equal(s.localAS, 65200);
  assert.equal(s.localIP, undefined);
  assert.equal(s.keepaliveSecs, 90);
  assert.equal(s.restartSecs, 1);
  assert.equal(s.ttlSecurityHops, 3);
  assert.equal(s.allowLocalAS, 2);
  assert.equal(s.nextHop, 'keep');
  assert.equal(s.passive, false, 'an external peer is never passive');
});

test('localWorkloadSelector: a passive session to each address of each selected workload on this node', () => {
  const rs = [
    node('a', { ipv4: '10.0.0.1/24', ipv6: 'fd00::1/64' }),
    node('b', { ipv4: '10.0.0.2/24', labels: { rack: 'r2' } }),
    bgpConfig('default', { nodeToNodeMeshEnabled: false }),
    peer('w', { localWorkloadSelector: "app == 'bird'", asNumber: 65001, filters: ['f'] }),
    peer('only-b', { nodeSelector: "rack == 'r2'", localWorkloadSelector: "app == 'web'", asNumber: 65002 }),
    workload('a', 'bird-1', ['10.65.1.5/32', 'fd00:10::5/128'], { app: 'bird' }),
    workload('a', 'web-1', ['10.65.1.6/32'], { app: 'web' }),
    workload('b', 'bird-2', ['10.65.2.5/32'], { app: 'bird' }),
    workload('b', 'web-2', ['10.65.2.6/32'], { app: 'web' }),
  ];
  // A store made for a node keeps only that node's endpoints; one made for none keeps all, and
  // the plan still picks only the node's own.
  for (const store of [new BgpModelStore({ node: 'a' }), new BgpModelStore()]) {
    store.apply(bgpUpdates(rs));
    const model = store.model();
    const got = planSessions(model, nodeFacts(model, model.nodes.get('a')!), bgpSettings(model, 'a')).sessions;
    assert.deepEqual(got.map(summary), [
      'Local_Workload_10_65_1_5 10.65.1.5 as 65001 passive nh=self',
      'Local_Workload_fd00_10__5 fd00:10::5 as 65001 passive nh=self',
    ]);
    assert.ok(got.every((s) => s.localIP === undefined && s.kind === 'global' && s.filters.join() === 'f'));
  }
  // On b: its own bird workload through `w` (every node), its web workload through `only-b`.
  assert.deepEqual(plan(rs, 'b').sessions.map(summary), [
    'Local_Workload_10_65_2_5 10.65.2.5 as 65001 passive nh=self',
    'Local_Workload_10_65_2_6 10.65.2.6 as 65002 passive nh=self',
  ]);
  const onlyA = new BgpModelStore({ node: 'a' });
  onlyA.apply(bgpUpdates(rs));
  assert.deepEqual(
    [...onlyA.model().workloads.values()].map((w) => w.node),
    ['a', 'a'],
  );
});

test('reachableBy: the session carries its gateway, only for its own family', () => {
  const rs = [
    node('a', { ipv4: '10.0.0.1/24', ipv6: 'fd00::1/64' }),
    peer('far', { peerIP: '198.51.100.1', asNumber: 65000, reachableBy: '10.0.0.254' }),
    peer('near', { peerIP: '198.51.100.2', asNumber: 65000 }),
  ];
  const got = plan(rs, 'a').sessions;
  assert.equal(got.find((s) => s.name === 'Global_198_51_100_1')?.reachableBy && formatIP(got[0].reachableBy!), '10.0.0.254');
  assert.equal(got.find((s) => s.name === 'Global_198_51_100_2')?.reachableBy, undefined);
});
