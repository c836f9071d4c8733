import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inNetns, processExec } from '../../src/dataplane/exec.js';
import { FakeClock } from '@cattail/typha/testing';
import { LinuxDataplane } from '../../src/dataplane/linux-dataplane.js';
import type { DataplaneMessage } from '../../src/proto/messages.js';
import { createNetns, deleteNetns, requireNetnsTools, run, succeeds, uniquePrefix } from '../../src/testing/netns.js';

// Two "node" namespaces joined by an underlay veth (192.168.77.0/24), one pod on each. Each
// node's LinuxDataplane gets the messages its calculation graph would send: its local
// endpoint, both VTEPs, and a VXLAN route to the other node's block. The pods then reach each
// other through the real kernel's VXLAN device.

interface NodeSpec {
  name: string;
  underlayIp: string;
  vtepIp: string;
  vtepMac: string;
  block: string;
  podIp: string;
}

const NODES: NodeSpec[] = [
  { name: 'n1', underlayIp: '192.168.77.1', vtepIp: '10.65.0.0', vtepMac: '66:cf:00:00:00:01', block: '10.65.0.0/26', podIp: '10.65.0.5' },
  { name: 'n2', underlayIp: '192.168.77.2', vtepIp: '10.65.1.0', vtepMac: '66:cf:00:00:00:02', block: '10.65.1.0/26', podIp: '10.65.1.5' },
];

function messagesFor(self: NodeSpec, iface: string): DataplaneMessage[] {
  const other = NODES.find((n) => n !== self)!;
  return [
    // The uplink is `ul` here, not eth*: tell the MTU detection (FelixConfiguration mtuIfacePattern).
    { kind: 'ConfigUpdate', config: { mtuIfacePattern: '^ul$' }, clusterInformation: {} },
    {
      kind: 'ActiveProfileUpdate',
      id: { name: 'kns.default' },
      profile: { inboundRules: [{ action: 'Allow', position: 0 }], outboundRules: [{ action: 'Allow', position: 0 }] },
    },
    {
      kind: 'WorkloadEndpointUpdate',
      id: { namespace: 'default', name: `pod-${self.name}` },
      endpoint: { name: iface, ipv4Nets: [`${self.podIp}/32`], ipv6Nets: [], profileIds: ['kns.default'], tiers: [] },
    },
    { kind: 'EncapsulationUpdate', ipipEnabled: false, vxlanEnabled: true, vxlanEnabledV6: false },
    ...NODES.map((n): DataplaneMessage => ({
      kind: 'VXLANTunnelEndpointUpdate',
      node: n.name,
      ipv4Addr: n.vtepIp,
      parentDeviceIp: n.underlayIp,
      mac: n.vtepMac,
    })),
    { kind: 'RouteUpdate', type: 'remote-workload-vxlan', dst: other.block, dstNodeName: other.name, dstNodeIp: other.underlayIp },
    { kind: 'InSync' },
  ];
}

test('VXLAN: device, neighbours, FDB and onlink routes carry pod traffic between two nodes', async (t) => {
  await requireNetnsTools();
  const prefix = uniquePrefix();
  const tag = prefix.slice(4);
  const nodeNs = NODES.map((n) => `${prefix}-${n.name}`);
  const podNs = NODES.map((n) => `${prefix}-p${n.name}`);
  t.after(async () => {
    for (const ns of [...nodeNs, ...podNs]) await deleteNetns(ns);
  });
  for (const ns of [...nodeNs, ...podNs]) await createNetns(ns);
  await run('ip', ['-n', nodeNs[0], 'link', 'add', 'ul', 'type', 'veth', 'peer', 'name', 'ul', 'netns', nodeNs[1]]);
  const mtuDir = mkdtempSync(join(tmpdir(), 'cfx-mtu-'));
  t.after(() => rmSync(mtuDir, { recursive: true, force: true }));

  const dps: LinuxDataplane[] = [];
  for (const [i, n] of NODES.entries()) {
    const node = nodeNs[i];
    const pod = podNs[i];
    const iface = `cali${tag}${i}`;
    await run('ip', ['-n', node, 'addr', 'add', `${n.underlayIp}/24`, 'dev', 'ul']);
    await run('ip', ['-n', node, 'link', 'set', 'ul', 'mtu', '1400', 'up']);
    await run('ip', ['-n', node, 'route', 'add', 'default', 'dev', 'ul']);
    await run('ip', ['-n', node, 'link', 'add', iface, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod]);
    await run('ip', ['-n', node, 'link', 'set', iface, 'up']);
    await run('ip', ['-n', pod, 'addr', 'add', `${n.podIp}/32`, 'dev', 'eth0']);
    await run('ip', ['-n', pod, 'link', 'set', 'eth0', 'up']);
    await run('ip', ['-n', pod, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
    await run('ip', ['-n', pod, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
    const dp = new LinuxDataplane({ exec: inNetns(processExec(), node), nodeName: n.name, clock: new FakeClock(), mtuFile: join(mtuDir, n.name, 'mtu') });
    t.after(() => dp.close());
    dp.onMessages(messagesFor(n, iface));
    const report = await dp.apply();
    assert.deepEqual(report.errors, [], `${n.name}: ${report.errors.map((e) => e.message).join('; ')}`);
    // Uplink 1400, VXLAN overhead 50: the device and the pods get 1350, written for the CNI plugin.
    assert.deepEqual(report.mtu, { hostMtu: 1400, vxlanMtu: 1350, podMtu: 1350 });
    assert.equal(readFileSync(join(mtuDir, n.name, 'mtu'), 'utf8'), '1350\n');
    dps.push(dp);
  }

  const n1 = nodeNs[0];
  const link = JSON.parse(await run('ip', ['-n', n1, '-json', '-d', 'link', 'show', 'vxlan.calico'])) as Array<{
    address: string;
    mtu: number;
    linkinfo: { info_data: { id: number; port: number; learning: boolean } };
  }>;
  assert.equal(link[0].address, NODES[0].vtepMac);
  assert.equal(link[0].mtu, 1350);
  assert.deepEqual([link[0].linkinfo.info_data.id, link[0].linkinfo.info_data.port, link[0].linkinfo.info_data.learning], [4096, 4789, false]);
  assert.match(await run('ip', ['-n', n1, 'route', 'show', 'proto', '80']), /^10\.65\.1\.0\/26 via 10\.65\.1\.0 dev vxlan\.calico onlink/m);
  assert.match(await run('ip', ['-n', n1, 'neigh', 'show', 'dev', 'vxlan.calico']), /10\.65\.1\.0 lladdr 66:cf:00:00:00:02 PERMANENT/);
  assert.match(await run('ip', ['netns', 'exec', n1, 'bridge', 'fdb', 'show', 'dev', 'vxlan.calico']), /66:cf:00:00:00:02 dst 192\.168\.77\.2/);

  // Re-applying finds the kernel as desired (the parsers read back what we wrote).
  const again = await dps[0].apply();
  assert.deepEqual([again.ipCommands, again.bridgeCommands, again.sysctlWrites, again.nftApplied, again.mtuFileWritten], [[], [], [], false, false]);

  // A changed vxlanMTU reaches the live device in place (no re-create) and the file.
  dps[0].onMessages([{ kind: 'ConfigUpdate', config: { mtuIfacePattern: '^ul$', vxlanMTU: 1300 }, clusterInformation: {} }]);
  const changed = await dps[0].apply();
  assert.deepEqual(
    changed.ipCommands.filter((l) => l.includes('vxlan.calico') && l.startsWith('link')),
    ['link set vxlan.calico mtu 1300'],
  );
  assert.equal(readFileSync(join(mtuDir, 'n1', 'mtu'), 'utf8'), '1300\n');
  assert.match(await run('ip', ['-n', n1, 'link', 'show', 'vxlan.calico']), /mtu 1300 /);

  assert.equal(await succeeds('ip', ['netns', 'exec', podNs[0], 'ping', '-c', '1', '-W', '2', NODES[1].podIp]), true, 'pod on n1 → pod on n2 over VXLAN');

  // FelixConfiguration vxlanVNI/vxlanPort on both nodes: the devices are made again with them
  // (with their neighbours, FDB entries and routes), and the pods still reach each other.
  for (const dp of dps) {
    dp.onMessages([{ kind: 'ConfigUpdate', config: { mtuIfacePattern: '^ul$', vxlanVNI: 5000, vxlanPort: 8472 }, clusterInformation: {} }]);
    const r = await dp.apply();
    assert.deepEqual(r.errors, []);
  }
  assert.match(await run('ip', ['-n', n1, '-d', 'link', 'show', 'vxlan.calico']), /vxlan id 5000 .*dstport 8472/);
  assert.match(await run('ip', ['-n', n1, 'route', 'show', 'proto', '80']), /^10\.65\.1\.0\/26 via 10\.65\.1\.0 dev vxlan\.calico onlink/m);
  assert.equal(await succeeds('ip', ['netns', 'exec', podNs[0], 'ping', '-c', '1', '-W', '2', NODES[1].podIp]), true, 'pods talk over VNI 5000, port 8472');
  assert.deepEqual((await dps[0].apply()).ipCommands, [], 'the new device reads back as desired');

  // vxlanEnabled: false on n1 overrides the pools: no device, no VXLAN route; unset again, back.
  dps[0].onMessages([
    { kind: 'ConfigUpdate', config: { mtuIfacePattern: '^ul$', vxlanVNI: 5000, vxlanPort: 8472, vxlanEnabled: false }, clusterInformation: {} },
  ]);
  await dps[0].apply();
  assert.equal(await succeeds('ip', ['-n', n1, 'link', 'show', 'vxlan.calico']), false);
  assert.doesNotMatch(await run('ip', ['-n', n1, 'route', 'show', 'proto', '80']), /vxlan\.calico/);
  dps[0].onMessages([{ kind: 'ConfigUpdate', config: { mtuIfacePattern: '^ul$', vxlanVNI: 5000, vxlanPort: 8472 }, clusterInformation: {} }]);
  await dps[0].apply();
  assert.equal(await succeeds('ip', ['netns', 'exec', podNs[0], 'ping', '-c', '1', '-W', '2', NODES[1].podIp]), true, 'back on');

  // The other node's VTEP and route go away: its neighbour, FDB entry and route are removed.
  dps[0].onMessages([
    { kind: 'RouteRemove', dst: NODES[1].block },
    { kind: 'VXLANTunnelEndpointRemove', node: 'n2' },
  ]);
  await dps[0].apply();
  assert.doesNotMatch(await run('ip', ['-n', n1, 'route', 'show', 'proto', '80']), /10\.65\.1\.0\/26/);
  assert.doesNotMatch(await run('ip', ['-n', n1, 'neigh', 'show', 'dev', 'vxlan.calico']), /10\.65\.1\.0/);
  assert.doesNotMatch(await run('ip', ['netns', 'exec', n1, 'bridge', 'fdb', 'show', 'dev', 'vxlan.calico']), /66:cf:00:00:00:02/);
  assert.equal(await succeeds('ip', ['netns', 'exec', podNs[0], 'ping', '-c', '1', '-W', '1', NODES[1].podIp]), false);
});
