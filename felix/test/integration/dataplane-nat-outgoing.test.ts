import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '@cattail/typha/testing';
import { inNetns, processExec } from '../../src/dataplane/exec.js';
import { LinuxDataplane } from '../../src/dataplane/linux-dataplane.js';
import type { DataplaneMessage, IPAMPool } from '../../src/proto/messages.js';
import { createNetns, deleteNetns, requireNetnsTools, run, uniquePrefix } from '../../src/testing/netns.js';
import { startServerIn } from './pod-uplink.js';

// NAT outgoing on the real kernel. A node namespace with one dual-stack pod (wired as Calico's
// CNI plugin does) and an uplink to an "external" namespace outside every pool. The external
// side runs a TCP "who am I" server that answers each connection with the peer address and
// port it saw; the pod connects to it. The external network routes the pools back to the node,
// so the pod is reachable with or without NAT and only the source address tells them apart.
//
//   pod 10.65.0.5, fd00:65::5 ── cali<tag> ┤ node eth0 198.51.100.1, .9, fd00:ff::1 ├── eth0 198.51.100.2, fd00:ff::2, 10.99.0.2   external
//                                                                                          (10.99.0.0/16: another pool's range)

const GW6 = 'fe80::ecee:eeff:feee:eeee';
const NODE = { v4: '198.51.100.1', v6: 'fd00:ff::1', alt: '198.51.100.9' };
const EXT = { v4: '198.51.100.2', v6: 'fd00:ff::2', inPool: '10.99.0.2' };
const POD = { v4: '10.65.0.5', v6: 'fd00:65::5' };

// The node routes everything outside to the external namespace (its default gateway).
// The server prints "ready <port>" once listening; each connection gets "<address> <port>".
const SERVER = `
const s = require('node:net').createServer((c) => c.end(c.remoteAddress.replace(/^::ffff:/, '') + ' ' + c.remotePort));
s.listen(0, '::', () => console.log('ready ' + s.address().port));`;
const CLIENT = `
const c = require('node:net').connect({ host: process.argv[1], port: Number(process.argv[2]) });
let out = '';
c.setTimeout(5000, () => { console.error('timeout'); process.exit(2); });
c.on('data', (d) => (out += d)).on('end', () => console.log(out)).on('error', (e) => { console.error(e.message); process.exit(1); });`;

const pool = (cidr: string, masquerade: boolean): IPAMPool => ({ cidr, masquerade, ipipMode: 'Never', vxlanMode: 'Never', disabled: false });

/** What the external server saw when the pod connected to `host`: `{ address, port }`. */
async function seenFrom(pod: string, host: string, port: number): Promise<{ address: string; port: number }> {
  const [address, p] = (await run('ip', ['netns', 'exec', pod, process.execPath, '-e', CLIENT, host, String(port)])).trim().split(' ');
  return { address, port: Number(p) };
}

test('natOutgoing masquerades pod traffic to outside every pool, IPv4 and IPv6; false does not; toggling flips it; exclusions and the interface filter', async (t) => {
  await requireNetnsTools();
  const prefix = uniquePrefix('cnat');
  const tag = prefix.slice(5);
  const [node, pod, ext] = [`${prefix}-node`, `${prefix}-pod`, `${prefix}-ext`];
  const iface = `cali${tag}`;
  t.after(async () => {
    for (const ns of [pod, node, ext]) await deleteNetns(ns);
  });
  for (const ns of [node, pod, ext]) {
    await createNetns(ns);
    await run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0']);
  }
  // Uplink: node eth0 ↔ external eth0, the pools routed back to the node as a real network would.
  await run('ip', ['-n', node, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ext]);
  for (const [ns, addrs] of [
    [node, [`${NODE.v4}/24`, `${NODE.alt}/24`, `${NODE.v6}/64`]],
    [ext, [`${EXT.v4}/24`, `${EXT.v6}/64`, `${EXT.inPool}/32`]],
  ] as const) {
    for (const a of addrs) await run('ip', ['-n', ns, 'addr', 'add', a, 'dev', 'eth0', ...(a.includes(':') ? ['nodad'] : [])]);
    await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  }
  await run('ip', ['-n', ext, 'route', 'add', '10.65.0.0/16', 'via', NODE.v4]);
  await run('ip', ['-n', ext, '-6', 'route', 'add', 'fd00:65::/64', 'via', NODE.v6]);
  // The node's default route is the uplink (proxy ARP answers the pod's 169.254.1.1 only when the
  // node has a route for the destination).
  await run('ip', ['-n', node, 'route', 'add', 'default', 'via', EXT.v4]);
  await run('ip', ['-n', node, '-6', 'route', 'add', 'default', 'via', EXT.v6]);
  // The pod, as the CNI plugin wires it (host side MAC ee:…, so its link-local is the v6 gateway).
  await run('ip', ['-n', node, 'link', 'add', iface, 'address', 'ee:ee:ee:ee:ee:ee', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod]);
  await run('ip', ['-n', node, 'link', 'set', iface, 'up']);
  await run('ip', ['-n', pod, 'link', 'set', 'eth0', 'up']);
  await run('ip', ['-n', pod, 'addr', 'add', `${POD.v4}/32`, 'dev', 'eth0']);
  await run('ip', ['-n', pod, '-6', 'addr', 'add', `${POD.v6}/128`, 'dev', 'eth0', 'nodad']);
  await run('ip', ['-n', pod, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
  await run('ip', ['-n', pod, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
  await run('ip', ['-n', pod, '-6', 'route', 'add', 'default', 'via', GW6, 'dev', 'eth0']);

  const port = await startServerIn(t, ext, SERVER);
  const dp = new LinuxDataplane({ exec: inNetns(processExec(), node), nodeName: 'n1', clock: new FakeClock() });
  t.after(() => dp.close());
  const apply = async (msgs: DataplaneMessage[]) => {
    dp.onMessages(msgs);
    assert.deepEqual((await dp.apply()).errors, []);
  };
  const sources = async () => [
    (await seenFrom(pod, EXT.v4, port)).address,
    (await seenFrom(pod, EXT.v6, port)).address,
    (await seenFrom(pod, EXT.inPool, port)).address,
  ];

  await apply([
    {
      kind: 'ActiveProfileUpdate',
      id: { name: 'kns.default' },
      profile: { inboundRules: [{ action: 'Allow', position: 0 }], outboundRules: [{ action: 'Allow', position: 0 }] },
    },
    {
      kind: 'WorkloadEndpointUpdate',
      id: { namespace: 'default', name: 'p' },
      endpoint: { name: iface, ipv4Nets: [`${POD.v4}/32`], ipv6Nets: [`${POD.v6}/128`], profileIds: ['kns.default'], tiers: [] },
    },
    { kind: 'IPAMPoolUpdate', id: 'v4', pool: pool('10.65.0.0/16', true) },
    { kind: 'IPAMPoolUpdate', id: 'v6', pool: pool('fd00:65::/64', true) },
    { kind: 'IPAMPoolUpdate', id: 'other', pool: pool('10.99.0.0/16', false) },
    { kind: 'InSync' },
  ]);
  // Outside every pool: the node's address (the uplink's primary). Inside another pool: the pod's.
  assert.deepEqual(await sources(), [NODE.v4, NODE.v6, POD.v4], 'natOutgoing true');

  await apply([
    { kind: 'IPAMPoolUpdate', id: 'v4', pool: pool('10.65.0.0/16', false) },
    { kind: 'IPAMPoolUpdate', id: 'v6', pool: pool('fd00:65::/64', false) },
  ]);
  assert.deepEqual(await sources(), [POD.v4, POD.v6, POD.v4], 'natOutgoing false');
  assert.doesNotMatch(await run('ip', ['netns', 'exec', node, 'nft', 'list', 'table', 'inet', 'cattail']), /masquerade|nat-postrouting/);

  // One pool back on: only its family masquerades.
  await apply([{ kind: 'IPAMPoolUpdate', id: 'v4', pool: pool('10.65.0.0/16', true) }]);
  assert.deepEqual(await sources(), [NODE.v4, POD.v6, POD.v4], 'natOutgoing true on the IPv4 pool only');

  // FelixConfiguration natOutgoingAddress and natPortRange: SNAT to that address, from those ports.
  await apply([{ kind: 'ConfigUpdate', config: { natOutgoingAddress: NODE.alt, natPortRange: '40000:40009' }, clusterInformation: {} }]);
  for (let i = 0; i < 3; i++) {
    const seen = await seenFrom(pod, EXT.v4, port);
    assert.equal(seen.address, NODE.alt, 'natOutgoingAddress');
    assert.ok(seen.port >= 40000 && seen.port <= 40009, `source port ${seen.port} outside natPortRange 40000:40009`);
  }

  // natOutgoingExclusions: the external host becomes another node (a Node with its addresses).
  await apply([
    { kind: 'ConfigUpdate', config: {}, clusterInformation: {} },
    { kind: 'IPAMPoolUpdate', id: 'v6', pool: pool('fd00:65::/64', true) },
    { kind: 'HostMetadataUpdate', hostname: 'n2', ipv4Addr: EXT.v4, ipv6Addr: EXT.v6, labels: {} },
  ]);
  assert.deepEqual(await sources(), [NODE.v4, NODE.v6, POD.v4], 'IPPoolsOnly (the default): traffic to a node is masqueraded');
  await apply([{ kind: 'ConfigUpdate', config: { natOutgoingExclusions: 'IPPoolsAndHostIPs' }, clusterInformation: {} }]);
  assert.deepEqual(await sources(), [POD.v4, POD.v6, POD.v4], 'IPPoolsAndHostIPs: traffic to a node keeps the pod address');

  // iptablesNATOutgoingInterfaceFilter: masquerade only out of matching interfaces.
  await apply([{ kind: 'ConfigUpdate', config: { iptablesNATOutgoingInterfaceFilter: 'eth9' }, clusterInformation: {} }]);
  assert.deepEqual(await sources(), [POD.v4, POD.v6, POD.v4], 'the uplink eth0 is not eth9');
  await apply([{ kind: 'ConfigUpdate', config: { iptablesNATOutgoingInterfaceFilter: 'eth+' }, clusterInformation: {} }]);
  assert.deepEqual(await sources(), [NODE.v4, NODE.v6, POD.v4], 'eth+ matches the uplink eth0');
});
