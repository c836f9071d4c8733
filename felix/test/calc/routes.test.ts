/**
 * Routes, VTEPs, host metadata and pools: what a VXLAN node programs besides policy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { derivedVXLANMac } from '../../src/calc/vxlan-resolver.js';
import type { DataplaneMessage } from '../../src/proto/messages.js';
import { block, del, harness, namespace, node, pool, wep } from './harness.js';

const nodes = [
  node('node-1', { ip: '10.0.0.1/24', vxlan: '10.65.0.0' }),
  node('node-2', { ip: '10.0.0.2/24', vxlan: '10.65.1.0', mac: '66:00:00:00:00:02' }),
  node('node-3', { ip: '10.0.9.3/24', vxlan: '10.65.2.0' }),
];

const vxlanRoute = (dst: string, n: string, ip: string): DataplaneMessage => ({
  kind: 'RouteUpdate',
  type: 'remote-workload-vxlan',
  dst,
  dstNodeName: n,
  dstNodeIp: ip,
});

test('local workloads get a host route via their interface, per address', () => {
  const h = harness();
  h.start([namespace('ns'), wep('ns', 'a', { ips: ['10.65.0.5', 'fd00::5'], iface: 'cali1234' }), wep('ns', 'b', { node: 'node-2', ips: ['10.65.1.5'] })]);
  assert.deepEqual(
    [...h.dp.routes.values()],
    [
      { kind: 'RouteUpdate', type: 'local-workload', dst: '10.65.0.5/32', dstNodeName: 'node-1', ifaceName: 'cali1234' },
      { kind: 'RouteUpdate', type: 'local-workload', dst: 'fd00::5/128', dstNodeName: 'node-1', ifaceName: 'cali1234' },
    ],
  );
  // Moved to another interface, then an address dropped, then gone.
  assert.deepEqual(
    h
      .apply([wep('ns', 'a', { ips: ['10.65.0.5', 'fd00::5'], iface: 'cali9999' })])
      .filter((m) => m.kind.startsWith('Route'))
      .map((m) => m.kind === 'RouteUpdate' && m.ifaceName),
    ['cali9999', 'cali9999'],
  );
  assert.deepEqual(
    h.apply([wep('ns', 'a', { ips: ['10.65.0.5'], iface: 'cali9999' })]).filter((m) => m.kind.startsWith('Route')),
    [{ kind: 'RouteRemove', dst: 'fd00::5/128' }],
  );
  const gone = h.apply([del('WorkloadEndpoint', 'a', 'ns')]);
  assert.deepEqual(
    gone.map((m) => m.kind),
    ['WorkloadEndpointRemove', 'ActiveProfileRemove', 'RouteRemove'],
  );
  assert.equal(h.dp.routes.size, 0);
});

test("remote blocks of VXLAN pools route through the owning node's VTEP", () => {
  const h = harness();
  const msgs = h.start([
    pool('p', '10.65.0.0/16'),
    ...nodes,
    block('10.65.0.0/26', 'node-1'),
    block('10.65.1.0/26', 'node-2'),
    block('10.65.2.0/26', 'node-3'),
    block('10.65.3.0/26'),
  ]);
  const tail = msgs.filter((m) => m.kind.startsWith('VXLAN') || m.kind.startsWith('Route'));
  assert.deepEqual(tail, [
    { kind: 'VXLANTunnelEndpointUpdate', node: 'node-1', mac: derivedVXLANMac('node-1'), ipv4Addr: '10.65.0.0', parentDeviceIp: '10.0.0.1' },
    { kind: 'VXLANTunnelEndpointUpdate', node: 'node-2', mac: '66:00:00:00:00:02', ipv4Addr: '10.65.1.0', parentDeviceIp: '10.0.0.2' },
    { kind: 'VXLANTunnelEndpointUpdate', node: 'node-3', mac: derivedVXLANMac('node-3'), ipv4Addr: '10.65.2.0', parentDeviceIp: '10.0.9.3' },
    // Not our own block, not a block without affinity.
    vxlanRoute('10.65.1.0/26', 'node-2', '10.0.0.2'),
    vxlanRoute('10.65.2.0/26', 'node-3', '10.0.9.3'),
  ]);
  assert.deepEqual(
    msgs.filter((m) => m.kind === 'IPAMPoolUpdate' || m.kind === 'EncapsulationUpdate'),
    [
      { kind: 'IPAMPoolUpdate', id: '10.65.0.0-16', pool: { cidr: '10.65.0.0/16', masquerade: true, ipipMode: 'Never', vxlanMode: 'Always', disabled: false } },
      { kind: 'EncapsulationUpdate', ipipEnabled: false, vxlanEnabled: true, vxlanEnabledV6: false },
    ],
  );
  assert.deepEqual(h.dp.hosts.get('node-2'), { kind: 'HostMetadataUpdate', hostname: 'node-2', ipv4Addr: '10.0.0.2', labels: {} });

  // Blocks appear and disappear.
  assert.deepEqual(h.apply([block('10.65.4.0/26', 'node-3')]), [vxlanRoute('10.65.4.0/26', 'node-3', '10.0.9.3')]);
  assert.deepEqual(h.apply([block('10.65.4.0/26', 'node-2')]), [vxlanRoute('10.65.4.0/26', 'node-2', '10.0.0.2')]);
  assert.deepEqual(h.apply([del('IPAMBlock', '10-65-4-0-26')]), [{ kind: 'RouteRemove', dst: '10.65.4.0/26' }]);

  // A node that goes away takes its routes and VTEP, routes first; it comes back the other way.
  assert.deepEqual(h.apply([del('Node', 'node-3')]), [
    { kind: 'HostMetadataRemove', hostname: 'node-3' },
    { kind: 'RouteRemove', dst: '10.65.2.0/26' },
    { kind: 'VXLANTunnelEndpointRemove', node: 'node-3' },
  ]);
  assert.deepEqual(h.apply([nodes[2]]), [
    { kind: 'HostMetadataUpdate', hostname: 'node-3', ipv4Addr: '10.0.9.3', labels: {} },
    { kind: 'VXLANTunnelEndpointUpdate', node: 'node-3', mac: derivedVXLANMac('node-3'), ipv4Addr: '10.65.2.0', parentDeviceIp: '10.0.9.3' },
    vxlanRoute('10.65.2.0/26', 'node-3', '10.0.9.3'),
  ]);
  // A new node address moves the routes and the VTEP.
  const moved = h.apply([node('node-3', { ip: '10.0.9.33/24', vxlan: '10.65.2.0' })]);
  assert.deepEqual(
    moved.map((m) => m.kind),
    ['HostMetadataUpdate', 'VXLANTunnelEndpointUpdate', 'RouteUpdate'],
  );
});

test('pool modes: Never has no routes, CrossSubnet goes direct inside our subnet', () => {
  const h = harness();
  h.start([pool('p', '10.65.0.0/16', 'CrossSubnet'), ...nodes, block('10.65.1.0/26', 'node-2'), block('10.65.2.0/26', 'node-3')]);
  assert.deepEqual(
    [...h.dp.routes.values()],
    [
      { kind: 'RouteUpdate', type: 'remote-workload-direct', dst: '10.65.1.0/26', dstNodeName: 'node-2', dstNodeIp: '10.0.0.2' },
      vxlanRoute('10.65.2.0/26', 'node-3', '10.0.9.3'),
    ],
  );
  // Our own node moves into node-3's subnet.
  h.apply([node('node-1', { ip: '10.0.9.1/24', vxlan: '10.65.0.0' })]);
  assert.deepEqual([...h.dp.routes.values()].map((r) => `${r.dst} ${r.type}`).sort(), [
    '10.65.1.0/26 remote-workload-vxlan',
    '10.65.2.0/26 remote-workload-direct',
  ]);
  const never = h.apply([pool('p', '10.65.0.0/16', 'Never')]);
  assert.deepEqual(
    never.filter((m) => m.kind === 'RouteRemove').map((m) => m.kind === 'RouteRemove' && m.dst),
    ['10.65.1.0/26', '10.65.2.0/26'],
  );
  assert.deepEqual(
    never.find((m) => m.kind === 'EncapsulationUpdate'),
    { kind: 'EncapsulationUpdate', ipipEnabled: false, vxlanEnabled: false, vxlanEnabledV6: false },
  );
  // A block outside every pool has no route either.
  h.apply([pool('p', '10.65.0.0/16', 'Always')]);
  assert.deepEqual(h.apply([block('10.99.0.0/26', 'node-2')]), []);
  assert.deepEqual(
    h.apply([del('IPPool', 'p')]).map((m) => m.kind),
    ['IPAMPoolRemove', 'EncapsulationUpdate', 'RouteRemove', 'RouteRemove'],
  );
});

test('a remote workload on a borrowed address gets a host route to its own node', () => {
  const h = harness();
  h.start([pool('p', '10.65.0.0/16'), ...nodes, namespace('ns'), block('10.65.1.0/26', 'node-2')]);
  // node-3 borrowed 10.65.1.7 from node-2's block.
  assert.deepEqual(h.apply([wep('ns', 'borrower', { node: 'node-3', ips: ['10.65.1.7'] })]), [vxlanRoute('10.65.1.7/32', 'node-3', '10.0.9.3')]);
  // A workload in its own node's block needs nothing beyond the block route.
  assert.deepEqual(h.apply([wep('ns', 'owner', { node: 'node-2', ips: ['10.65.1.8'] })]), []);
  // The block changes hands to node-3: the block route follows and the host route is redundant.
  assert.deepEqual(h.apply([block('10.65.1.0/26', 'node-3')]), [
    { kind: 'RouteRemove', dst: '10.65.1.7/32' },
    vxlanRoute('10.65.1.0/26', 'node-3', '10.0.9.3'),
    vxlanRoute('10.65.1.8/32', 'node-2', '10.0.0.2'),
  ]);
  assert.deepEqual(h.apply([del('WorkloadEndpoint', 'owner', 'ns')]), [{ kind: 'RouteRemove', dst: '10.65.1.8/32' }]);
});

test('VTEPs: IPv6, derived MACs, and nodes without a tunnel address', () => {
  const h = harness();
  h.start([
    node('v6', { ip6: 'fd00:10::6/64' }),
    node('plain', { ip: '10.0.0.9/24' }),
    {
      kind: 'Node',
      name: 'dual',
      revision: 1,
      value: {
        spec: { bgp: { ipv4Address: '10.0.0.8/24', ipv6Address: 'fd00:10::8/64' }, ipv4VXLANTunnelAddr: '10.65.8.0', ipv6VXLANTunnelAddr: 'fd00:65::8' },
      },
    },
  ]);
  assert.deepEqual(
    [...h.dp.vteps.values()],
    [
      {
        kind: 'VXLANTunnelEndpointUpdate',
        node: 'dual',
        mac: derivedVXLANMac('dual'),
        ipv4Addr: '10.65.8.0',
        parentDeviceIp: '10.0.0.8',
        macV6: derivedVXLANMac('dual-v6'),
        ipv6Addr: 'fd00:65::8',
        parentDeviceIpv6: 'fd00:10::8',
      },
    ],
  );
  assert.deepEqual([...h.dp.hosts.keys()].sort(), ['dual', 'plain', 'v6']);
  // calico/node's derivation: "f" then the first five bytes of SHA-1(node name).
  const sha = createHash('sha1').update('dual').digest();
  assert.equal(derivedVXLANMac('dual'), ['66', ...[...sha.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':'));
  assert.match(derivedVXLANMac('x'), /^66(:[0-9a-f]{2}){5}$/);
});
