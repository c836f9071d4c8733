import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inNetns, processExec } from '../../src/dataplane/exec.js';
import { FakeClock } from '@cattail/typha/testing';
import { LinuxDataplane } from '../../src/dataplane/linux-dataplane.js';
import type { DataplaneMessage } from '../../src/proto/messages.js';
import { createNetns, deleteNetns, requireNetnsTools, run, succeeds, uniquePrefix } from '../../src/testing/netns.js';

// IPv6 between two pods, wired as Calico's CNI plugin does: the host side of each veth has MAC
// ee:ee:ee:ee:ee:ee, so its link-local address is fe80::ecee:eeff:feee:eeee, the pods' gateway.
// DAD is off in the test namespaces so addresses are usable at once (no waiting).

const GW = 'fe80::ecee:eeff:feee:eeee';

test('IPv6: /128 routes, accept_ra=0, neighbour discovery allowed, pods ping each other', async (t) => {
  await requireNetnsTools();
  const prefix = uniquePrefix();
  const tag = prefix.slice(4);
  const node = `${prefix}-node`;
  const pods = [`${prefix}-a`, `${prefix}-b`];
  const ifaces = [`cali${tag}a`, `cali${tag}b`];
  const ips = ['fd00:65::1', 'fd00:65::2'];
  t.after(async () => {
    for (const ns of [node, ...pods]) await deleteNetns(ns);
  });
  for (const ns of [node, ...pods]) {
    await createNetns(ns);
    await run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0']);
  }
  const msgs: DataplaneMessage[] = [
    {
      kind: 'ActiveProfileUpdate',
      id: { name: 'kns.default' },
      profile: { inboundRules: [{ action: 'Allow', position: 0 }], outboundRules: [{ action: 'Allow', position: 0 }] },
    },
  ];
  for (const [i, pod] of pods.entries()) {
    await run('ip', ['-n', node, 'link', 'add', ifaces[i], 'address', 'ee:ee:ee:ee:ee:ee', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod]);
    await run('ip', ['-n', node, 'link', 'set', ifaces[i], 'up']);
    await run('ip', ['-n', pod, 'link', 'set', 'eth0', 'up']);
    await run('ip', ['-n', pod, '-6', 'addr', 'add', `${ips[i]}/128`, 'dev', 'eth0', 'nodad']);
    await run('ip', ['-n', pod, '-6', 'route', 'add', 'default', 'via', GW, 'dev', 'eth0']);
    msgs.push({
      kind: 'WorkloadEndpointUpdate',
      id: { namespace: 'default', name: `p${i}` },
      endpoint: { name: ifaces[i], ipv4Nets: [], ipv6Nets: [`${ips[i]}/128`], profileIds: ['kns.default'], tiers: [] },
    });
  }
  msgs.push({ kind: 'InSync' });
  const dp = new LinuxDataplane({ exec: inNetns(processExec(), node), nodeName: 'n1', clock: new FakeClock() });
  t.after(() => dp.close());
  dp.onMessages(msgs);
  assert.deepEqual((await dp.apply()).errors, []);

  const routes = JSON.parse(await run('ip', ['-n', node, '-6', '-json', 'route', 'show', 'proto', '80'])) as Array<{ dst: string; dev: string }>;
  assert.deepEqual(routes.map((r) => [r.dst, r.dev]).sort(), [
    [ips[0], ifaces[0]],
    [ips[1], ifaces[1]],
  ]);
  assert.equal((await run('ip', ['netns', 'exec', node, 'sysctl', '-n', `net.ipv6.conf.${ifaces[0]}.accept_ra`])).trim(), '0');
  assert.equal((await run('ip', ['netns', 'exec', node, 'sysctl', '-n', 'net.ipv6.conf.all.forwarding'])).trim(), '1');
  assert.equal(await succeeds('ip', ['netns', 'exec', pods[0], 'ping', '-6', '-c', '1', '-W', '2', ips[1]]), true, 'pod a → pod b over IPv6');
});
