import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '@cattail/typha/testing';
import { inNetns, processExec } from '../../src/dataplane/exec.js';
import { LinuxDataplane } from '../../src/dataplane/linux-dataplane.js';
import type { DataplaneMessage } from '../../src/proto/messages.js';
import { createNetns, deleteNetns, requireNetnsTools, run, succeeds, uniquePrefix } from '../../src/testing/netns.js';

// Dual-stack VXLAN on the real kernel: two node namespaces on a dual-stack underlay, one
// dual-stack pod on each (wired as Calico's CNI plugin does), IPv4 over vxlan.calico and IPv6
// over vxlan-v6.calico. DAD is off in the test namespaces so addresses are usable at once.
//
//   pod 10.65.0.5, fd00:65::5 ── n1 [ul 192.168.78.1, fd00:78::1] ═══ [ul 192.168.78.2, fd00:78::2] n2 ── pod 10.65.1.5, fd00:65::45

const GW6 = 'fe80::ecee:eeff:feee:eeee';

interface NodeSpec {
  name: string;
  ul: { v4: string; v6: string };
  vtep: { v4: string; v6: string; mac: string; macV6: string };
  block: { v4: string; v6: string };
  pod: { v4: string; v6: string };
}

const NODES: NodeSpec[] = [
  {
    name: 'n1',
    ul: { v4: '192.168.78.1', v6: 'fd00:78::1' },
    vtep: { v4: '10.65.0.0', v6: 'fd00:65::1', mac: '66:cf:00:00:04:01', macV6: '66:cf:00:00:06:01' },
    block: { v4: '10.65.0.0/26', v6: 'fd00:65::/122' },
    pod: { v4: '10.65.0.5', v6: 'fd00:65::5' },
  },
  {
    name: 'n2',
    ul: { v4: '192.168.78.2', v6: 'fd00:78::2' },
    vtep: { v4: '10.65.1.0', v6: 'fd00:65::41', mac: '66:cf:00:00:04:02', macV6: '66:cf:00:00:06:02' },
    block: { v4: '10.65.1.0/26', v6: 'fd00:65::40/122' },
    pod: { v4: '10.65.1.5', v6: 'fd00:65::45' },
  },
];

function messagesFor(self: NodeSpec, iface: string): DataplaneMessage[] {
  const other = NODES.find((n) => n !== self)!;
  return [
    { kind: 'ConfigUpdate', config: { mtuIfacePattern: '^ul$' }, clusterInformation: {} },
    {
      kind: 'ActiveProfileUpdate',
      id: { name: 'kns.default' },
      profile: { inboundRules: [{ action: 'Allow', position: 0 }], outboundRules: [{ action: 'Allow', position: 0 }] },
    },
    {
      kind: 'WorkloadEndpointUpdate',
      id: { namespace: 'default', name: `pod-${self.name}` },
      endpoint: { name: iface, ipv4Nets: [`${self.pod.v4}/32`], ipv6Nets: [`${self.pod.v6}/128`], profileIds: ['kns.default'], tiers: [] },
    },
    { kind: 'EncapsulationUpdate', ipipEnabled: false, vxlanEnabled: true, vxlanEnabledV6: true },
    ...NODES.map((n): DataplaneMessage => ({
      kind: 'VXLANTunnelEndpointUpdate',
      node: n.name,
      ipv4Addr: n.vtep.v4,
      parentDeviceIp: n.ul.v4,
      mac: n.vtep.mac,
      ipv6Addr: n.vtep.v6,
      parentDeviceIpv6: n.ul.v6,
      macV6: n.vtep.macV6,
    })),
    { kind: 'RouteUpdate', type: 'remote-workload-vxlan', dst: other.block.v4, dstNodeName: other.name, dstNodeIp: other.ul.v4 },
    { kind: 'RouteUpdate', type: 'remote-workload-vxlan', dst: other.block.v6, dstNodeName: other.name, dstNodeIp: other.ul.v6 },
    { kind: 'InSync' },
  ];
}

test('dual-stack VXLAN: vxlan-v6.calico carries IPv6 pod traffic beside vxlan.calico; vxlanMTUV6 and vxlanEnabledV6 apply', async (t) => {
  await requireNetnsTools();
  const prefix = uniquePrefix('cvx6');
  const tag = prefix.slice(5);
  const nodeNs = NODES.map((n) => `${prefix}-${n.name}`);
  const podNs = NODES.map((n) => `${prefix}-p${n.name}`);
  t.after(async () => {
    for (const ns of [...podNs, ...nodeNs]) await deleteNetns(ns);
  });
  for (const ns of [...nodeNs, ...podNs]) {
    await createNetns(ns);
    await run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0']);
  }
  await run('ip', ['-n', nodeNs[0], 'link', 'add', 'ul', 'type', 'veth', 'peer', 'name', 'ul', 'netns', nodeNs[1]]);

  const dps: LinuxDataplane[] = [];
  for (const [i, n] of NODES.entries()) {
    const [node, pod, iface] = [nodeNs[i], podNs[i], `cali${tag}${i}`];
    await run('ip', ['-n', node, 'addr', 'add', `${n.ul.v4}/24`, 'dev', 'ul']);
    await run('ip', ['-n', node, '-6', 'addr', 'add', `${n.ul.v6}/64`, 'dev', 'ul', 'nodad']);
    await run('ip', ['-n', node, 'link', 'set', 'ul', 'mtu', '1400', 'up']);
    await run('ip', ['-n', node, 'route', 'add', 'default', 'dev', 'ul']); // for the pod's proxy-ARP gateway
    // The pod: host side MAC ee:…, so its link-local address is the pod's IPv6 gateway.
    await run('ip', ['-n', node, 'link', 'add', iface, 'address', 'ee:ee:ee:ee:ee:ee', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod]);
    await run('ip', ['-n', node, 'link', 'set', iface, 'up']);
    await run('ip', ['-n', pod, 'link', 'set', 'eth0', 'up']);
    await run('ip', ['-n', pod, 'addr', 'add', `${n.pod.v4}/32`, 'dev', 'eth0']);
    await run('ip', ['-n', pod, '-6', 'addr', 'add', `${n.pod.v6}/128`, 'dev', 'eth0', 'nodad']);
    await run('ip', ['-n', pod, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
    await run('ip', ['-n', pod, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
    await run('ip', ['-n', pod, '-6', 'route', 'add', 'default', 'via', GW6, 'dev', 'eth0']);
    const dp = new LinuxDataplane({ exec: inNetns(processExec(), node), nodeName: n.name, clock: new FakeClock() });
    t.after(() => dp.close());
    dp.onMessages(messagesFor(n, iface));
    const report = await dp.apply();
    assert.deepEqual(report.errors, [], `${n.name}: ${report.errors.map((e) => e.message).join('; ')}`);
    // Uplink 1400: IPv4 VXLAN 1350, IPv6 VXLAN 1330 (70 bytes), pods the smaller.
    assert.deepEqual(report.mtu, { hostMtu: 1400, vxlanMtu: 1350, vxlanMtuV6: 1330, podMtu: 1330 });
    dps.push(dp);
  }

  const n1 = nodeNs[0];
  const [link] = JSON.parse(await run('ip', ['-n', n1, '-json', '-d', 'link', 'show', 'vxlan-v6.calico'])) as Array<{
    address: string;
    mtu: number;
    linkinfo: { info_data: { id: number; port: number; learning: boolean; local6: string } };
  }>;
  assert.deepEqual(
    [link.address, link.mtu, link.linkinfo.info_data.id, link.linkinfo.info_data.port, link.linkinfo.info_data.learning, link.linkinfo.info_data.local6],
    [NODES[0].vtep.macV6, 1330, 4096, 4789, false, NODES[0].ul.v6],
  );
  assert.match(await run('ip', ['-n', n1, '-6', 'addr', 'show', 'dev', 'vxlan-v6.calico']), /inet6 fd00:65::1\/128 /);
  assert.match(await run('ip', ['-n', n1, '-6', 'route', 'show', 'proto', '80']), /^fd00:65::40\/122 via fd00:65::41 dev vxlan-v6\.calico .*onlink/m);
  assert.match(await run('ip', ['-n', n1, '-6', 'neigh', 'show', 'dev', 'vxlan-v6.calico']), /fd00:65::41 lladdr 66:cf:00:00:06:02 PERMANENT/);
  assert.match(await run('ip', ['netns', 'exec', n1, 'bridge', 'fdb', 'show', 'dev', 'vxlan-v6.calico']), /66:cf:00:00:06:02 dst fd00:78::2 /);

  const ping = (args: string[]) => succeeds('ip', ['netns', 'exec', podNs[0], 'ping', ...args, '-c', '1', '-W', '2']);
  assert.equal(await ping(['-6', NODES[1].pod.v6]), true, 'pod on n1 → pod on n2 over vxlan-v6.calico');
  assert.equal(await ping([NODES[1].pod.v4]), true, 'and over vxlan.calico');

  // Re-applying finds the kernel as desired (both devices read back).
  const again = await dps[0].apply();
  assert.deepEqual([again.ipCommands, again.bridgeCommands], [[], []]);

  // vxlanMTUV6 reaches the live device in place; the pods' MTU follows.
  dps[0].onMessages([{ kind: 'ConfigUpdate', config: { mtuIfacePattern: '^ul$', vxlanMTUV6: 1300 }, clusterInformation: {} }]);
  const changed = await dps[0].apply();
  assert.deepEqual(
    changed.ipCommands.filter((l) => l.startsWith('link')),
    ['link set vxlan-v6.calico mtu 1300'],
  );
  assert.equal(changed.mtu.podMtu, 1300);

  // vxlanEnabledV6 false: the IPv6 device and its routes go, IPv4 VXLAN stays.
  dps[0].onMessages([{ kind: 'ConfigUpdate', config: { mtuIfacePattern: '^ul$', vxlanEnabledV6: false }, clusterInformation: {} }]);
  assert.deepEqual((await dps[0].apply()).errors, []);
  assert.equal(await succeeds('ip', ['-n', n1, 'link', 'show', 'vxlan-v6.calico']), false);
  assert.doesNotMatch(await run('ip', ['-n', n1, '-6', 'route', 'show', 'proto', '80']), /vxlan-v6/);
  assert.equal(await ping(['-6', NODES[1].pod.v6]), false, 'no IPv6 tunnel');
  assert.equal(await ping([NODES[1].pod.v4]), true, 'IPv4 VXLAN untouched');
});
