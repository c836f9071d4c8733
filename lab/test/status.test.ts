import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStatus, parseBgpSessions, parseCniResult, type LabStatus } from '../src/index.js';

test('BGP sessions from birdc show protocols, with the peer address from the protocol name', () => {
  const text = [
    'BIRD 2.0.12 ready.',
    'Name       Proto      Table      State  Since         Info',
    'device1    Device     ---        up     20:21:01.123  ',
    'direct1    Direct     ---        up     20:21:01.123  ',
    'kernel4    Kernel     master4    up     20:21:01.123  ',
    'Mesh_172_31_9_2 BGP        ---        up     20:21:03.456  Established   ',
    'Mesh_172_31_9_3 BGP        ---        start  20:21:03.456  Active        Socket: Connection refused',
    'Global_192_0_2_1 BGP       ---        start  2026-12-01 20:21:03  Connect',
  ].join('\n');
  assert.deepEqual(parseBgpSessions(text), [
    { protocol: 'Mesh_172_31_9_2', peer: '172.31.9.2', state: 'Established' },
    { protocol: 'Mesh_172_31_9_3', peer: '172.31.9.3', state: 'Active' },
    { protocol: 'Global_192_0_2_1', peer: '192.0.2.1', state: 'Connect' },
  ]);
});

test('the CNI result gives the pod address and the host-side interface', () => {
  const out = JSON.stringify({
    cniVersion: '1.0.0',
    interfaces: [
      { name: 'cali0123456789a', mac: 'ee:ee:ee:ee:ee:ee' },
      { name: 'eth0', sandbox: '/var/run/netns/p' },
    ],
    ips: [{ address: '10.66.3.4/32', interface: 1 }],
  });
  assert.deepEqual(parseCniResult(out), { ip: '10.66.3.4', iface: 'cali0123456789a' });
});

test('the status text names each node, its sessions, Felix-programmed routes and problems', () => {
  const s: LabStatus = {
    name: 'demo',
    mode: 'bgp',
    datastore: 'etcdv3',
    etcd: 'http://127.0.0.1:1',
    typhas: [{ index: 1, address: '127.0.0.1:2', up: true, ready: true, revision: 9, connections: { felix: 1, bgp: 1 } }],
    nodes: [
      {
        name: 'node-1',
        netns: 'ctlab-demo-n1',
        address: '172.31.1.1',
        processes: { felix: true, relay: true, confd: true, bird: false },
        bgpSessions: [{ peer: '172.31.1.2', state: 'Established' }],
        routes: [
          { dst: 'default', gateway: '172.31.1.254', dev: 'eth0' },
          { dst: '10.66.1.0/26', gateway: '172.31.1.2', dev: 'eth0', protocol: 'bird' },
          { dst: '10.66.0.5', dev: 'cali123', protocol: '80' },
        ],
        endpoints: [{ pod: 'web-1-1', namespace: 'frontend', ip: '10.66.0.5', iface: 'cali123' }],
        typha: { connected: true, server: 'x', revision: 9, inSync: true, revisionLag: 0 },
        typhaClients: [{ replica: 1, syncer: 'felix', state: 'live', lagMs: 0, revision: 9 }],
        problems: ['bird is not running'],
      },
    ],
  };
  const text = formatStatus(s);
  assert.match(text, /node-1 {2}172\.31\.1\.1 .*bird:DOWN/);
  assert.match(text, /bgp: 172\.31\.1\.2 Established/);
  assert.match(text, /10\.66\.1\.0\/26 via 172\.31\.1\.2 dev eth0 proto bird/);
  assert.match(text, /10\.66\.0\.5 dev cali123 proto 80/);
  assert.doesNotMatch(text, /default via/, 'only BIRD and Felix routes are listed');
  assert.match(text, /felix→typha-1 live lag 0ms/);
  assert.match(text, /frontend\/web-1-1 10\.66\.0\.5 \(cali123\)/);
  assert.match(text, /problems: bird is not running/);
});
