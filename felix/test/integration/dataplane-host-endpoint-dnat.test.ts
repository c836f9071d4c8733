import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '@cattail/typha/testing';
import { inNetns, processExec } from '../../src/dataplane/exec.js';
import { LinuxDataplane } from '../../src/dataplane/linux-dataplane.js';
import type { DataplaneMessage } from '../../src/proto/messages.js';
import { createNetns, deleteNetns, listenTcp, requireNetnsTools, run, tcpConnects, uniquePrefix } from '../../src/testing/netns.js';

// Egress host endpoint policy for the host's own traffic that was DNAT'd, on the real kernel.
// The node has two uplinks: ext0 toward namespace `a` (where 203.0.113.0/24 is routed) and ext1
// toward namespace `b`. Someone else's nat output chain DNATs 203.0.113.10:80 to b:8080, as
// kube-proxy does for a service. ext0's host endpoint denies all egress; ext1's allows it. A
// connection from the node to 203.0.113.10:80 leaves by ext1 after DNAT, so (as in Calico) ext1's
// policy decides it, not ext0's: the output hook still sees the pre-DNAT route's interface
// (ext0), which is why the policy runs in postrouting. Then ext1's policy denies, and the DNAT'd
// connection is refused too.

const A = { node: '192.168.91.1', peer: '192.168.91.2' };
const B = { node: '192.168.92.1', peer: '192.168.92.2' };
const SERVICE = '203.0.113.10';

function hep(name: string, profileIds: string[]): DataplaneMessage {
  return {
    kind: 'HostEndpointUpdate',
    id: { name: `node1-${name}` },
    endpoint: { name, expectedIpv4Addrs: [], expectedIpv6Addrs: [], profileIds, tiers: [], untrackedTiers: [], preDnatTiers: [], forwardTiers: [] },
  };
}

test("host endpoint egress policy applies to the host's DNAT'd traffic by the interface it leaves by", async (t) => {
  await requireNetnsTools();
  const prefix = uniquePrefix();
  const [node, a, b] = [`${prefix}-node`, `${prefix}-a`, `${prefix}-b`];
  t.after(async () => {
    for (const ns of [node, a, b]) await deleteNetns(ns);
  });
  for (const ns of [node, a, b]) await createNetns(ns);
  for (const [ifname, peerNs, net] of [
    ['ext0', a, A],
    ['ext1', b, B],
  ] as const) {
    await run('ip', ['-n', node, 'link', 'add', ifname, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peerNs]);
    await run('ip', ['-n', node, 'addr', 'add', `${net.node}/24`, 'dev', ifname]);
    await run('ip', ['-n', peerNs, 'addr', 'add', `${net.peer}/24`, 'dev', 'eth0']);
    await run('ip', ['-n', node, 'link', 'set', ifname, 'up']);
    await run('ip', ['-n', peerNs, 'link', 'set', 'eth0', 'up']);
    await run('ip', ['-n', peerNs, 'route', 'add', 'default', 'via', net.node]);
  }
  await run('ip', ['-n', node, 'route', 'add', '203.0.113.0/24', 'via', A.peer]);
  await run('ip', [
    'netns',
    'exec',
    node,
    'nft',
    `add table ip svc; add chain ip svc out { type nat hook output priority -100; }; add rule ip svc out ip daddr ${SERVICE} tcp dport 80 dnat to ${B.peer}:8080`,
  ]);
  for (const ns of [a, b]) {
    const listener = await listenTcp(ns, [8080]);
    t.after(() => listener.close());
  }

  const dp = new LinuxDataplane({ exec: inNetns(processExec(), node), nodeName: 'node1', clock: new FakeClock() });
  t.after(() => dp.close());
  dp.onMessages([
    {
      kind: 'ActiveProfileUpdate',
      id: { name: 'allow' },
      profile: { inboundRules: [{ action: 'Allow', position: 0 }], outboundRules: [{ action: 'Allow', position: 0 }] },
    },
    hep('ext0', []), // no profile, no policy: everything but failsafe ports denied
    hep('ext1', ['allow']),
    { kind: 'InSync' },
  ]);
  assert.deepEqual((await dp.apply()).errors, []);
  assert.equal(await tcpConnects(node, B.peer, 8080), true, "direct to b: ext1's endpoint allows");
  assert.equal(await tcpConnects(node, A.peer, 8080), false, "direct to a: ext0's endpoint denies");
  assert.equal(await tcpConnects(node, SERVICE, 80), true, "DNAT'd to b: ext1's endpoint decides (allow), not ext0's");

  dp.onMessages([hep('ext1', [])]);
  assert.deepEqual((await dp.apply()).errors, []);
  assert.equal(await tcpConnects(node, B.peer, 8080), false, "direct to b: ext1's endpoint now denies");
  assert.equal(await tcpConnects(node, SERVICE, 80), false, "DNAT'd to b: ext1's endpoint denies it too");

  dp.onMessages([hep('ext1', ['allow']), hep('ext0', ['allow'])]);
  assert.deepEqual((await dp.apply()).errors, []);
  assert.equal(await tcpConnects(node, SERVICE, 80), true, 'both allow again');
});
