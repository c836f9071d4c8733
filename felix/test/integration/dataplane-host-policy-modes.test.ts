import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '@cattail/typha/testing';
import { inNetns, processExec } from '../../src/dataplane/exec.js';
import { LinuxDataplane } from '../../src/dataplane/linux-dataplane.js';
import type { DataplaneMessage, HostEndpoint, Policy, PolicyId, Rule, TierInfo } from '../../src/proto/messages.js';
import { createNetns, deleteNetns, listenTcp, ping, requireNetnsTools, run, tcpConnects, uniquePrefix, wirePod } from '../../src/testing/netns.js';

// doNotTrack, preDNAT and applyOnForward host endpoint policy on the real kernel, with real
// TCP connections and pings. A node with a host endpoint on eth1 toward an "outside" namespace
// and a pod behind it; a test-owned nat table DNATs node port 30080 to the pod, as kube-proxy
// would for a NodePort.
//
//   outside 192.168.88.2 ── eth1 192.168.88.1 [node: listeners 22, 2222, 3333] ── cali<tag> ── pod 10.65.0.5 (listener 8080)
//                                             table ip <test>: tcp dport 30080 dnat to 10.65.0.5:8080

const NODE_IP = '192.168.88.1';
const OUTSIDE_IP = '192.168.88.2';
const POD_IP = '10.65.0.5';

const tcp = (port: number): Pick<Rule, 'protocol' | 'dstPorts'> => ({ protocol: 'tcp', dstPorts: [{ first: port, last: port }] });
const fromPort = (port: number): Pick<Rule, 'protocol' | 'srcPorts'> => ({ protocol: 'tcp', srcPorts: [{ first: port, last: port }] });

function policy(
  name: string,
  inbound: Array<Omit<Rule, 'position'>>,
  outbound: Array<Omit<Rule, 'position'>> = [],
  flags: Partial<Policy> = {},
): DataplaneMessage {
  return {
    kind: 'ActivePolicyUpdate',
    id: { tier: 'default', name },
    policy: { inboundRules: inbound.map((r, position) => ({ ...r, position })), outboundRules: outbound.map((r, position) => ({ ...r, position })), ...flags },
  };
}

/** One tier holding `ingress` (and `egress`) policies; untracked and preDNAT tiers end in Pass. */
function tier(defaultAction: TierInfo['defaultAction'], ingress: string[], egress: string[] = []): TierInfo[] {
  const id = (name: string): PolicyId => ({ tier: 'default', name });
  return [{ name: 'default', defaultAction, ingressPolicies: ingress.map(id), egressPolicies: egress.map(id) }];
}

function hep(over: Partial<HostEndpoint>): DataplaneMessage {
  return {
    kind: 'HostEndpointUpdate',
    id: { name: 'node1-eth1' },
    endpoint: {
      name: 'eth1',
      expectedIpv4Addrs: [],
      expectedIpv6Addrs: [],
      profileIds: [],
      tiers: [],
      untrackedTiers: [],
      preDnatTiers: [],
      forwardTiers: [],
      ...over,
    },
  };
}

const ALLOW_ALL = { name: 'allow-all' };

test('doNotTrack, preDNAT and applyOnForward host endpoint policy, with failsafe ports open under each', async (t) => {
  await requireNetnsTools();
  const prefix = uniquePrefix('chpm');
  const tag = prefix.slice(5);
  const [node, outside, pod] = [`${prefix}-node`, `${prefix}-out`, `${prefix}-pod`];
  const iface = `cali${tag}`;
  t.after(async () => {
    for (const ns of [pod, node, outside]) await deleteNetns(ns);
  });
  for (const ns of [node, outside, pod]) await createNetns(ns);
  await run('ip', ['-n', node, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outside]);
  await run('ip', ['-n', node, 'addr', 'add', `${NODE_IP}/24`, 'dev', 'eth1']);
  await run('ip', ['-n', outside, 'addr', 'add', `${OUTSIDE_IP}/24`, 'dev', 'eth0']);
  await run('ip', ['-n', node, 'link', 'set', 'eth1', 'up']);
  await run('ip', ['-n', outside, 'link', 'set', 'eth0', 'up']);
  await run('ip', ['-n', outside, 'route', 'add', '10.65.0.0/16', 'via', NODE_IP]);
  // The node's default route is the outside (proxy ARP answers the pod's 169.254.1.1 only when
  // the node has a route for it).
  await run('ip', ['-n', node, 'route', 'add', 'default', 'via', OUTSIDE_IP]);
  await wirePod(node, pod, iface, POD_IP);
  // kube-proxy's part, in a table of the test's own: a NodePort DNAT to the pod.
  await run(
    'ip',
    ['netns', 'exec', node, 'nft', '-f', '-'],
    `table ip ${prefix.replace(/-/g, '_')} {\n\tchain pre {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t\ttcp dport 30080 dnat to ${POD_IP}:8080\n\t}\n}\n`,
  );

  const hostListeners = await listenTcp(node, [22, 2222, 3333]);
  t.after(() => hostListeners.close());
  const podListener = await listenTcp(pod, [8080]);
  t.after(() => podListener.close());

  const dp = new LinuxDataplane({ exec: inNetns(processExec(), node), nodeName: 'n1', clock: new FakeClock() });
  t.after(() => dp.close());
  const apply = async (msgs: DataplaneMessage[]): Promise<void> => {
    dp.onMessages(msgs);
    assert.deepEqual((await dp.apply()).errors, []);
  };
  const toHost = (port: number) => tcpConnects(outside, NODE_IP, port);
  const nodePort = () => tcpConnects(outside, NODE_IP, 30080);
  const toPod = () => tcpConnects(outside, POD_IP, 8080);

  await apply([
    {
      kind: 'ActiveProfileUpdate',
      id: ALLOW_ALL,
      profile: { inboundRules: [{ action: 'Allow', position: 0 }], outboundRules: [{ action: 'Allow', position: 0 }] },
    },
    // Normal policy that matches nothing: its tier's default Deny is the host's default.
    policy('host-nothing', [{ action: 'Allow', srcNets: ['10.99.0.0/16'] }], [{ action: 'Allow', dstNets: ['10.99.0.0/16'] }]),
    policy('fwd-nothing', [{ action: 'Allow', srcNets: ['10.99.0.0/16'] }]),
    policy('fwd-8080', [{ action: 'Allow', ...tcp(8080) }]),
    policy('prednat-allow-30080', [{ action: 'Allow', ...tcp(30080) }], [], { preDnat: true }),
    policy('prednat-deny-30080', [{ action: 'Deny', ...tcp(30080) }], [], { preDnat: true }),
    policy('prednat-deny-all', [{ action: 'Deny' }], [], { preDnat: true }),
    policy('untracked-2222', [{ action: 'Allow', ...tcp(2222) }], [{ action: 'Allow', ...fromPort(2222) }], { untracked: true }),
    policy('untracked-in-3333', [{ action: 'Allow', ...tcp(3333) }], [], { untracked: true }),
    policy('untracked-deny-3333', [{ action: 'Deny', ...tcp(3333) }], [], { untracked: true }),
    policy('untracked-deny-all', [{ action: 'Deny' }], [{ action: 'Deny' }], { untracked: true }),
    {
      kind: 'WorkloadEndpointUpdate',
      id: { namespace: 'default', name: 'p' },
      endpoint: { name: iface, ipv4Nets: [`${POD_IP}/32`], ipv6Nets: [], profileIds: ['allow-all'], tiers: [] },
    },
    { kind: 'RouteUpdate', type: 'local-workload', dst: `${POD_IP}/32`, dstNodeName: 'n1', ifaceName: iface },
    hep({ tiers: tier('Deny', ['host-nothing'], ['host-nothing']) }),
    { kind: 'InSync' },
  ]);

  await t.test('applyOnForward: forwarded traffic is allowed until an applyOnForward policy applies', async () => {
    assert.equal(await toHost(2222), false, 'normal policy denies traffic to the host');
    assert.equal(await toHost(22), true, 'ssh is a failsafe port');
    assert.equal(await ping(outside, NODE_IP), false);
    assert.equal(await toPod(), true, 'no applyOnForward policy: forwarded to the pod');
    assert.equal(await ping(outside, POD_IP), true);
    await apply([hep({ tiers: tier('Deny', ['host-nothing'], ['host-nothing']), forwardTiers: tier('Deny', ['fwd-nothing']) })]);
    assert.equal(await toPod(), false, 'an applyOnForward ingress policy that allows nothing');
    assert.equal(await ping(outside, POD_IP), false);
    assert.equal(await toHost(22), true, 'failsafe');
    await apply([hep({ tiers: tier('Deny', ['host-nothing'], ['host-nothing']), forwardTiers: tier('Deny', ['fwd-8080']) })]);
    assert.equal(await toPod(), true, 'allowed by the applyOnForward policy');
    assert.equal(await ping(outside, POD_IP), false, 'but only tcp 8080');
  });

  await t.test('preDNAT: matches the original destination before DNAT, ingress, ahead of normal and forward policy', async () => {
    const denyForward = { tiers: tier('Deny', ['host-nothing'], ['host-nothing']), forwardTiers: tier('Deny', ['fwd-nothing']) };
    await apply([hep({ ...denyForward, preDnatTiers: tier('Pass', ['prednat-allow-30080']) })]);
    assert.equal(await nodePort(), true, 'node port 30080 allowed before DNAT: the forward deny is skipped');
    assert.equal(await toPod(), false, 'the same pod port, addressed directly, meets the forward deny');
    assert.match(await run('ip', ['netns', 'exec', node, 'nft', 'list', 'chain', 'inet', 'cattail', 'mangle-prerouting']), /priority mangle/);

    // A preDNAT Deny of the node port, everything else allowed by forward policy.
    const allowForward = { tiers: tier('Deny', ['host-nothing'], ['host-nothing']), forwardTiers: tier('Deny', ['fwd-8080']) };
    await apply([hep({ ...allowForward, preDnatTiers: tier('Pass', ['prednat-deny-30080']) })]);
    assert.equal(await nodePort(), false, 'denied by its pre-DNAT port');
    assert.equal(await toPod(), true, 'after DNAT the same flow would be 8080, which forward policy allows');

    await apply([hep({ ...allowForward, preDnatTiers: tier('Pass', ['prednat-deny-all']) })]);
    assert.equal(await toPod(), false, 'preDNAT deny-all');
    assert.equal(await toHost(22), true, 'failsafe ports are open ahead of preDNAT policy');
  });

  await t.test('doNotTrack: untracked, so both directions must be allowed; deny drops before conntrack; failsafes open', async () => {
    const denyHost = { tiers: tier('Deny', ['host-nothing'], ['host-nothing']) };
    await apply([hep({ ...denyHost, untrackedTiers: tier('Pass', ['untracked-2222'], ['untracked-2222']) })]);
    assert.equal(await toHost(2222), true, 'untracked Allow both ways wins over the normal deny');
    assert.equal(await toHost(3333), false, 'not matched by untracked policy: normal policy denies');
    assert.match(await run('ip', ['netns', 'exec', node, 'nft', 'list', 'chain', 'inet', 'cattail', 'raw-prerouting']), /priority raw/);

    // Normal policy allows everything; untracked policy allows 3333 inbound only. The request is
    // untracked, so the host's reply matches no connection, and nothing untracked allows it.
    const allowHost = { profileIds: ['allow-all'] };
    await apply([hep(allowHost)]);
    assert.equal(await toHost(3333), true, 'normal policy alone allows 3333');
    await apply([hep({ ...allowHost, untrackedTiers: tier('Pass', ['untracked-in-3333']) })]);
    assert.equal(await toHost(3333), false, 'an untracked allow of one direction breaks the connection');

    await apply([hep({ ...allowHost, untrackedTiers: tier('Pass', ['untracked-deny-3333']) })]);
    assert.equal(await toHost(3333), false, 'untracked Deny');
    assert.equal(await toHost(2222), true, 'not matched by untracked policy: on to normal policy, which allows');

    await apply([hep({ ...allowHost, untrackedTiers: tier('Pass', ['untracked-deny-all'], ['untracked-deny-all']) })]);
    assert.equal(await toHost(2222), false, 'untracked deny-all');
    assert.equal(await ping(outside, NODE_IP), false);
    assert.equal(await toHost(22), true, 'failsafe ssh, and its replies, pass the raw chains');
  });

  await t.test('removing the host endpoint removes every hook it used', async () => {
    await apply([{ kind: 'HostEndpointRemove', id: { name: 'node1-eth1' } }]);
    assert.equal(await toHost(3333), true);
    assert.equal(await ping(outside, NODE_IP), true);
    const table = await run('ip', ['netns', 'exec', node, 'nft', 'list', 'table', 'inet', 'cattail']);
    assert.doesNotMatch(table, /raw-prerouting|mangle-prerouting|hep/);
  });
});
