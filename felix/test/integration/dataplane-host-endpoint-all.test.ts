import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '@cattail/typha/testing';
import { inNetns, processExec } from '../../src/dataplane/exec.js';
import { LinuxDataplane } from '../../src/dataplane/linux-dataplane.js';
import type { DataplaneMessage, HostEndpoint } from '../../src/proto/messages.js';
import { createNetns, deleteNetns, listenTcp, ping, requireNetnsTools, run, tcpConnects, uniquePrefix, wirePod } from '../../src/testing/netns.js';

// Host endpoints with `interfaceName: "*"` and ones found by expectedIPs, on the real kernel: a
// node with two uplinks (each toward its own "outside" namespace) and a pod.
//
//   out1 192.168.88.2 ── eth1 192.168.88.1 ┐
//                                          ├ node ── cali<tag> ── pod 10.65.0.5
//   out2 192.168.89.2 ── eth2 192.168.89.1 ┘

const NODE = { eth1: '192.168.88.1', eth2: '192.168.89.1' };
const OUT = { eth1: '192.168.88.2', eth2: '192.168.89.2' };
const POD_IP = '10.65.0.5';

function hep(id: string, over: Partial<HostEndpoint>): DataplaneMessage {
  return {
    kind: 'HostEndpointUpdate',
    id: { name: id },
    endpoint: { expectedIpv4Addrs: [], expectedIpv6Addrs: [], profileIds: [], tiers: [], untrackedTiers: [], preDnatTiers: [], forwardTiers: [], ...over },
  };
}

test('interfaceName "*" polices every host interface but not workload traffic; named and expectedIPs endpoints take their interface', async (t) => {
  await requireNetnsTools();
  const prefix = uniquePrefix('chpa');
  const tag = prefix.slice(5);
  const [node, out1, out2, pod] = [`${prefix}-node`, `${prefix}-o1`, `${prefix}-o2`, `${prefix}-pod`];
  const iface = `cali${tag}`;
  t.after(async () => {
    for (const ns of [pod, node, out1, out2]) await deleteNetns(ns);
  });
  for (const ns of [node, out1, out2, pod]) await createNetns(ns);
  for (const [dev, out] of [
    ['eth1', out1],
    ['eth2', out2],
  ] as const) {
    await run('ip', ['-n', node, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', out]);
    await run('ip', ['-n', node, 'addr', 'add', `${NODE[dev]}/24`, 'dev', dev]);
    await run('ip', ['-n', out, 'addr', 'add', `${OUT[dev]}/24`, 'dev', 'eth0']);
    await run('ip', ['-n', node, 'link', 'set', dev, 'up']);
    await run('ip', ['-n', out, 'link', 'set', 'eth0', 'up']);
    await run('ip', ['-n', out, 'route', 'add', '10.65.0.0/16', 'via', NODE[dev]]);
  }
  await run('ip', ['-n', node, 'route', 'add', 'default', 'via', OUT.eth1]); // for the pod's proxy-ARP gateway
  await wirePod(node, pod, iface, POD_IP);
  const listeners = await listenTcp(node, [22, 2222]);
  t.after(() => listeners.close());

  const dp = new LinuxDataplane({ exec: inNetns(processExec(), node), nodeName: 'n1', clock: new FakeClock() });
  t.after(() => dp.close());
  const apply = async (msgs: DataplaneMessage[]): Promise<void> => {
    dp.onMessages(msgs);
    assert.deepEqual((await dp.apply()).errors, []);
  };
  const reach = async () => ({
    out1: await ping(out1, NODE.eth1),
    out2: await ping(out2, NODE.eth2),
  });

  await apply([
    // Return: workload-to-host traffic goes on past the workload's policy, where a careless
    // `*` endpoint would catch it.
    { kind: 'ConfigUpdate', config: { defaultEndpointToHostAction: 'Return' }, clusterInformation: {} },
    {
      kind: 'ActiveProfileUpdate',
      id: { name: 'allow-all' },
      profile: { inboundRules: [{ action: 'Allow', position: 0 }], outboundRules: [{ action: 'Allow', position: 0 }] },
    },
    {
      kind: 'WorkloadEndpointUpdate',
      id: { namespace: 'default', name: 'p' },
      endpoint: { name: iface, ipv4Nets: [`${POD_IP}/32`], ipv6Nets: [], profileIds: ['allow-all'], tiers: [] },
    },
    { kind: 'RouteUpdate', type: 'local-workload', dst: `${POD_IP}/32`, dstNodeName: 'n1', ifaceName: iface },
    { kind: 'InSync' },
  ]);
  assert.deepEqual(await reach(), { out1: true, out2: true }, 'no host endpoint');

  // The all-interfaces endpoint, no policy, no profile: the host is closed on every interface.
  await apply([hep('node1-all', { name: '*' })]);
  assert.deepEqual(await reach(), { out1: false, out2: false }, '* denies to the host on both uplinks');
  assert.equal(await tcpConnects(out2, NODE.eth2, 2222), false);
  assert.equal(await tcpConnects(out2, NODE.eth2, 22), true, 'failsafe ssh on every interface');
  assert.equal(await ping(node, OUT.eth1), false, 'and from the host');
  // Workload traffic is not the `*` endpoint's: pod → host, host → pod, and forwarded to the pod
  // (no applyOnForward policy).
  assert.equal(await ping(pod, NODE.eth2), true, 'pod to host');
  assert.equal(await tcpConnects(pod, NODE.eth1, 2222), true, 'pod to host, tcp');
  assert.equal(await ping(node, POD_IP), true, 'host to pod');
  assert.equal(await ping(out1, POD_IP), true, 'forwarded to the pod');

  // A named endpoint takes eth1 from `*`.
  await apply([hep('node1-eth1', { name: 'eth1', profileIds: ['allow-all'] })]);
  assert.deepEqual(await reach(), { out1: true, out2: false }, 'eth1 by name, eth2 still by *');

  // An endpoint without a name finds eth2 by its address; eth1 goes back to `*`.
  await apply([{ kind: 'HostEndpointRemove', id: { name: 'node1-eth1' } }, hep('node1-by-ip', { expectedIpv4Addrs: [NODE.eth2], profileIds: ['allow-all'] })]);
  assert.deepEqual(await reach(), { out1: false, out2: true }, 'eth2 by expectedIPs');
  // The address moves to eth1 (as an operator renumbering would): the next apply follows it.
  await run('ip', ['-n', node, 'addr', 'del', `${NODE.eth2}/24`, 'dev', 'eth2']);
  await run('ip', ['-n', node, 'addr', 'add', '192.168.89.5/24', 'dev', 'eth2']);
  await run('ip', ['-n', node, 'addr', 'add', `${NODE.eth2}/32`, 'dev', 'eth1']);
  await dp.refresh();
  assert.equal(await ping(out1, NODE.eth1), true, 'eth1 now carries the expected address: the by-IP endpoint polices it');
  assert.equal(await ping(out2, '192.168.89.5'), false, 'eth2 lost it: back to *');

  await apply([
    { kind: 'HostEndpointRemove', id: { name: 'node1-all' } },
    { kind: 'HostEndpointRemove', id: { name: 'node1-by-ip' } },
  ]);
  assert.equal(await ping(out1, NODE.eth1), true);
  assert.doesNotMatch(await run('ip', ['netns', 'exec', node, 'nft', 'list', 'table', 'inet', 'cattail']), /hep/);
});
