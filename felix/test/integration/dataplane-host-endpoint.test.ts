import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inNetns, processExec } from '../../src/dataplane/exec.js';
import { FakeClock } from '@cattail/typha/testing';
import { LinuxDataplane } from '../../src/dataplane/linux-dataplane.js';
import type { DataplaneMessage, HostEndpoint } from '../../src/proto/messages.js';
import { createNetns, deleteNetns, listenTcp, ping, requireNetnsTools, run, tcpConnects as connects, uniquePrefix } from '../../src/testing/netns.js';

// A host endpoint on the node's interface toward an "outside" namespace: its policy really
// applies to traffic to the host, failsafe ports stay open under a deny-all policy, and
// removing the endpoint opens the host again.

const NODE_IP = '192.168.88.1';
const OUTSIDE_IP = '192.168.88.2';

function hep(tiers: HostEndpoint['tiers'], profileIds: string[]): DataplaneMessage {
  return {
    kind: 'HostEndpointUpdate',
    id: { name: 'node1-eth1' },
    endpoint: { name: 'eth1', expectedIpv4Addrs: [NODE_IP], expectedIpv6Addrs: [], profileIds, tiers, untrackedTiers: [], preDnatTiers: [], forwardTiers: [] },
  };
}

const tcpConnects = (ns: string, port: number): Promise<boolean> => connects(ns, NODE_IP, port);

test('host endpoint policy applies to traffic to the host; failsafe ports stay open', async (t) => {
  await requireNetnsTools();
  const prefix = uniquePrefix();
  const [node, outside] = [`${prefix}-node`, `${prefix}-out`];
  t.after(async () => {
    for (const ns of [node, outside]) await deleteNetns(ns);
  });
  for (const ns of [node, outside]) await createNetns(ns);
  await run('ip', ['-n', node, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outside]);
  await run('ip', ['-n', node, 'addr', 'add', `${NODE_IP}/24`, 'dev', 'eth1']);
  await run('ip', ['-n', outside, 'addr', 'add', `${OUTSIDE_IP}/24`, 'dev', 'eth0']);
  await run('ip', ['-n', node, 'link', 'set', 'eth1', 'up']);
  await run('ip', ['-n', outside, 'link', 'set', 'eth0', 'up']);

  const listener = await listenTcp(node, [22, 2222]);
  t.after(() => listener.close());

  const dp = new LinuxDataplane({ exec: inNetns(processExec(), node), nodeName: 'n1', clock: new FakeClock() });
  t.after(() => dp.close());
  const policy = { tier: 'default', name: 'deny-all' };
  dp.onMessages([
    { kind: 'ActivePolicyUpdate', id: policy, policy: { inboundRules: [{ action: 'Allow', position: 0, srcNets: ['10.99.0.0/16'] }], outboundRules: [] } },
    {
      kind: 'ActiveProfileUpdate',
      id: { name: 'allow' },
      profile: { inboundRules: [{ action: 'Allow', position: 0 }], outboundRules: [{ action: 'Allow', position: 0 }] },
    },
    hep([], ['allow']),
    { kind: 'InSync' },
  ]);
  assert.deepEqual((await dp.apply()).errors, []);
  assert.equal(await ping(outside, NODE_IP), true, 'profile allows');
  assert.equal(await tcpConnects(outside, 2222), true, 'profile allows tcp 2222');

  // A tier whose only policy matches nothing: default Deny for everything but failsafes.
  dp.onMessages([hep([{ name: 'default', defaultAction: 'Deny', ingressPolicies: [policy], egressPolicies: [] }], ['allow'])]);
  assert.equal((await dp.apply()).nftApplied, true);
  assert.equal(await ping(outside, NODE_IP), false, 'denied by the tier default');
  assert.equal(await tcpConnects(outside, 2222), false, 'tcp 2222 denied');
  assert.equal(await tcpConnects(outside, 22), true, 'ssh is a failsafe port');

  // FelixConfiguration interfaceExclude naming eth1: no host endpoint is resolved on it.
  dp.onMessages([{ kind: 'ConfigUpdate', config: { interfaceExclude: 'kube-ipvs0,eth1' }, clusterInformation: {} }]);
  await dp.apply();
  assert.equal(await ping(outside, NODE_IP), true, 'eth1 excluded: its host endpoint does not apply');
  dp.onMessages([{ kind: 'ConfigUpdate', config: {}, clusterInformation: {} }]);
  await dp.apply();
  assert.equal(await ping(outside, NODE_IP), false, 'not excluded: denied again');

  dp.onMessages([{ kind: 'HostEndpointRemove', id: { name: 'node1-eth1' } }]);
  await dp.apply();
  assert.equal(await ping(outside, NODE_IP), true, 'no host endpoint, no host policy');
});
