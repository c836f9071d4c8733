import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inNetns, processExec } from '../../src/dataplane/exec.js';
import { FakeClock } from '@cattail/typha/testing';
import { LinuxDataplane } from '../../src/dataplane/linux-dataplane.js';
import type { DataplaneMessage, Rule, WorkloadEndpoint } from '../../src/proto/messages.js';
import { createNetns, deleteNetns, requireNetnsTools, run, succeeds, uniquePrefix } from '../../src/testing/netns.js';

// A "node" namespace and two "pod" namespaces joined by veth pairs, wired as a CNI plugin would
// (pod: eth0 with a /32, 169.254.1.1 link route, default via it; node: cali<…> host side).
// A LinuxDataplane operates inside the node namespace; we feed it messages directly and check
// the real kernel: routes, sysctls, nftables, and pings between the pods.

const POLICY = { tier: 'default', name: 'ping', namespace: 'default' };
const SET = 's:pods';

function endpoint(iface: string, ip: string, withPolicy: boolean, ipv6Nets: string[] = []): WorkloadEndpoint {
  return {
    name: iface,
    ipv4Nets: [`${ip}/32`],
    ipv6Nets,
    profileIds: ['kns.default'],
    tiers: withPolicy ? [{ name: 'default', defaultAction: 'Deny', ingressPolicies: [POLICY], egressPolicies: [] }] : [],
  };
}

async function ping(ns: string, ip: string): Promise<boolean> {
  return succeeds('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '1', ip]);
}

async function ourRoutes(ns: string): Promise<Array<{ dst: string; dev?: string }>> {
  return JSON.parse(await run('ip', ['-n', ns, '-json', 'route', 'show', 'proto', '80'])) as Array<{ dst: string; dev?: string }>;
}

test('linux dataplane programs routes, sysctls and nftables that really allow and deny', async (t) => {
  await requireNetnsTools();
  if (!(await succeeds('ping', ['-V']))) assert.fail('this test needs `ping` (apt-get install iputils-ping)');
  const prefix = uniquePrefix();
  const tag = prefix.slice(4);
  const node = `${prefix}-node`;
  const pods = { a: `${prefix}-a`, b: `${prefix}-b` };
  const ifaces = { a: `cali${tag}a`, b: `cali${tag}b`, c: `cali${tag}c` };
  const ips = { a: '10.65.0.1', b: '10.65.0.2', c: '10.65.0.3' };
  t.after(async () => {
    for (const ns of [node, pods.a, pods.b]) await deleteNetns(ns);
  });
  await createNetns(node);
  // Someone else's routes and table in the node: must survive everything we do.
  await run('ip', ['-n', node, 'link', 'add', 'ext0', 'type', 'veth', 'peer', 'name', 'ext1']);
  await run('ip', ['-n', node, 'link', 'set', 'ext1', 'up']);
  await run('ip', ['-n', node, 'link', 'set', 'ext0', 'up']);
  await run('ip', ['-n', node, 'route', 'add', 'default', 'dev', 'ext0']);
  await run('ip', ['-n', node, 'route', 'add', '192.0.2.0/24', 'dev', 'ext0', 'proto', 'static']);
  await run('ip', ['netns', 'exec', node, 'nft', 'add table inet other; add chain inet other c { type filter hook forward priority 10; policy accept; }']);
  for (const k of ['a', 'b'] as const) {
    await createNetns(pods[k]);
    await run('ip', ['-n', node, 'link', 'add', ifaces[k], 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pods[k]]);
    await run('ip', ['-n', node, 'link', 'set', ifaces[k], 'up']);
    await run('ip', ['-n', pods[k], 'addr', 'add', `${ips[k]}/32`, 'dev', 'eth0']);
    await run('ip', ['-n', pods[k], 'link', 'set', 'eth0', 'up']);
    await run('ip', ['-n', pods[k], 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
    await run('ip', ['-n', pods[k], 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
  }

  const errors: Error[] = [];
  const dp = new LinuxDataplane({ exec: inNetns(processExec(), node), nodeName: 'node1', clock: new FakeClock(), onError: (e) => errors.push(e) });
  t.after(() => dp.close());
  const allowIcmp: Rule[] = [{ action: 'Allow', position: 0, protocol: 'icmp', srcIpSetIds: [SET] }];
  const snapshot: DataplaneMessage[] = [
    { kind: 'IPSetUpdate', id: SET, type: 'net', members: [`${ips.a}/32`, `${ips.b}/32`] },
    { kind: 'ActivePolicyUpdate', id: POLICY, policy: { namespace: 'default', inboundRules: allowIcmp, outboundRules: [] } },
    {
      kind: 'ActiveProfileUpdate',
      id: { name: 'kns.default' },
      profile: { inboundRules: [{ action: 'Allow', position: 0 }], outboundRules: [{ action: 'Allow', position: 0 }] },
    },
    { kind: 'WorkloadEndpointUpdate', id: { namespace: 'default', name: 'a' }, endpoint: endpoint(ifaces.a, ips.a, true, ['fd00:65::1/128']) },
    { kind: 'WorkloadEndpointUpdate', id: { namespace: 'default', name: 'b' }, endpoint: endpoint(ifaces.b, ips.b, true) },
    { kind: 'InSync' },
  ];
  dp.onMessages(snapshot);
  const first = await dp.apply();
  assert.deepEqual(first.errors, []);
  assert.equal(first.nftApplied, true);

  const routes = await ourRoutes(node);
  assert.deepEqual(routes.map((r) => [r.dst, r.dev]).sort(), [
    [ips.a, ifaces.a],
    [ips.b, ifaces.b],
  ]);
  for (const key of ['proxy_arp', 'forwarding', 'route_localnet', 'rp_filter']) {
    assert.equal((await run('ip', ['netns', 'exec', node, 'sysctl', '-n', `net.ipv4.conf.${ifaces.a}.${key}`])).trim(), '1', key);
  }
  assert.equal((await run('ip', ['netns', 'exec', node, 'sysctl', '-n', `net.ipv4.neigh.${ifaces.a}.proxy_delay`])).trim(), '0');
  const v6 = JSON.parse(await run('ip', ['-n', node, '-6', '-json', 'route', 'show', 'proto', '80'])) as Array<{ dst: string; dev: string }>;
  assert.deepEqual(
    v6.map((r) => [r.dst, r.dev]),
    [['fd00:65::1', ifaces.a]],
  );
  assert.equal((await run('ip', ['netns', 'exec', node, 'sysctl', '-n', `net.ipv6.conf.${ifaces.a}.accept_ra`])).trim(), '0');
  assert.equal((await run('ip', ['netns', 'exec', node, 'sysctl', '-n', `net.ipv4.conf.${ifaces.b}.proxy_arp`])).trim(), '1');
  const table = await run('ip', ['netns', 'exec', node, 'nft', 'list', 'table', 'inet', 'cattail']);
  assert.match(table, new RegExp(`jump to-wl-${ifaces.b}`));
  assert.deepEqual(dp.status().get('default/a'), { state: 'ok' });

  assert.equal(await ping(pods.a, ips.b), true, 'ping a→b with the allow policy');
  assert.equal(await ping(pods.b, ips.a), true, 'ping b→a with the allow policy');

  // A second apply with nothing changed programs nothing.
  const idle = await dp.apply();
  assert.deepEqual([idle.nftApplied, idle.ipCommands, idle.sysctlWrites], [false, [], []]);

  // Deny ICMP: pings fail.
  dp.onMessages([
    {
      kind: 'ActivePolicyUpdate',
      id: POLICY,
      policy: { namespace: 'default', inboundRules: [{ action: 'Deny', position: 0, protocol: 'icmp' }], outboundRules: [] },
    },
  ]);
  assert.equal((await dp.apply()).nftApplied, true);
  assert.equal(await ping(pods.a, ips.b), false, 'ping a→b with the deny policy');

  // Policy removed (endpoints no longer list it): the profile allows again.
  dp.onMessages([
    { kind: 'WorkloadEndpointUpdate', id: { namespace: 'default', name: 'a' }, endpoint: endpoint(ifaces.a, ips.a, false, ['fd00:65::1/128']) },
    { kind: 'WorkloadEndpointUpdate', id: { namespace: 'default', name: 'b' }, endpoint: endpoint(ifaces.b, ips.b, false) },
    { kind: 'ActivePolicyRemove', id: POLICY },
  ]);
  await dp.apply();
  assert.equal(await ping(pods.a, ips.b), true, 'ping a→b after the policy is removed');

  // Drift: a route deleted by hand, our table flushed by hand; a refresh repairs both.
  await run('ip', ['-n', node, 'route', 'del', `${ips.a}/32`]);
  await run('ip', ['netns', 'exec', node, 'nft', 'flush', 'table', 'inet', 'cattail']);
  const repaired = await dp.refresh();
  assert.equal(repaired.nftApplied, true);
  assert.deepEqual(repaired.ipCommands, [`route replace ${ips.a}/32 dev ${ifaces.a} scope link proto 80`]);
  assert.ok((await ourRoutes(node)).some((r) => r.dst === ips.a));
  assert.equal(await ping(pods.a, ips.b), true, 'ping after the drift repair');

  // An endpoint whose interface does not exist yet: an error for it alone, fixed by a retry.
  dp.onMessages([{ kind: 'WorkloadEndpointUpdate', id: { namespace: 'default', name: 'c' }, endpoint: endpoint(ifaces.c, ips.c, false) }]);
  await dp.apply();
  const statusC = dp.status().get('default/c');
  assert.equal(statusC?.state, 'error');
  assert.match(statusC?.state === 'error' ? statusC.message : '', new RegExp(`interface ${ifaces.c} does not exist`));
  assert.deepEqual(dp.status().get('default/a'), { state: 'ok' });
  await run('ip', ['-n', node, 'link', 'add', ifaces.c, 'type', 'veth', 'peer', 'name', `x${tag}c`]);
  await run('ip', ['-n', node, 'link', 'set', ifaces.c, 'up']);
  await dp.apply();
  assert.deepEqual(dp.status().get('default/c'), { state: 'ok' });
  assert.ok((await ourRoutes(node)).some((r) => r.dst === ips.c && r.dev === ifaces.c));

  // Endpoint b removed: its route and chains go; a still works toward the node's other routes.
  dp.onMessages([{ kind: 'WorkloadEndpointRemove', id: { namespace: 'default', name: 'b' } }]);
  await dp.apply();
  assert.ok(!(await ourRoutes(node)).some((r) => r.dst === ips.b));
  const after = await run('ip', ['netns', 'exec', node, 'nft', 'list', 'table', 'inet', 'cattail']);
  assert.doesNotMatch(after, new RegExp(`to-wl-${ifaces.b}`));
  assert.match(after, new RegExp(`to-wl-${ifaces.a}`));

  // Someone else's routes and table are untouched.
  const all = await run('ip', ['-n', node, 'route', 'show']);
  assert.match(all, /^default dev ext0/m);
  assert.match(all, /^192\.0\.2\.0\/24 dev ext0 proto static/m);
  assert.match(await run('ip', ['netns', 'exec', node, 'nft', 'list', 'tables']), /table inet other/);
  assert.deepEqual(errors, []);
});
