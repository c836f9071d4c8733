import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '@cattail/typha/testing';
import { inNetns, processExec } from '../../src/dataplane/exec.js';
import { LinuxDataplane } from '../../src/dataplane/linux-dataplane.js';
import type { DataplaneMessage } from '../../src/proto/messages.js';
import { createNetns, deleteNetns, requireNetnsTools, run, uniquePrefix } from '../../src/testing/netns.js';

// chainInsertMode on the real kernel: another table on the node (a host firewall, iptables-nft)
// has a forward chain at the standard filter priority that counts the pod's packets, and the
// pod's egress is denied by Cattail's policy. With Insert (Calico's default) our chain runs
// first, so the other table never sees the packets it drops; with Append it runs after, so the
// other table counts them before our drop.
//
//   pod 10.65.0.5 ── cali<tag> ┤ node eth0 198.51.100.1 ├── eth0 198.51.100.2 upstream

const NODE = '198.51.100.1';
const UP = '198.51.100.2';
const POD = '10.65.0.5';

test('chainInsertMode: Insert runs our base chains before another table’s at the same priority, Append after', async (t) => {
  await requireNetnsTools();
  const prefix = uniquePrefix('ccim');
  const tag = prefix.slice(5);
  const [node, pod, up] = [`${prefix}-node`, `${prefix}-pod`, `${prefix}-up`];
  const iface = `cali${tag}`;
  t.after(async () => {
    for (const ns of [pod, node, up]) await deleteNetns(ns);
  });
  for (const ns of [node, pod, up]) await createNetns(ns);
  await run('ip', ['-n', node, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', up]);
  await run('ip', ['-n', node, 'addr', 'add', `${NODE}/24`, 'dev', 'eth0']);
  await run('ip', ['-n', up, 'addr', 'add', `${UP}/24`, 'dev', 'eth0']);
  for (const ns of [node, up]) await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  await run('ip', ['-n', up, 'route', 'add', '10.65.0.0/16', 'via', NODE]);
  // A default route, as every node has: proxy ARP answers the pod's 169.254.1.1 only when the node can route it.
  await run('ip', ['-n', node, 'route', 'add', 'default', 'via', UP]);
  await run('ip', ['-n', node, 'link', 'add', iface, 'address', 'ee:ee:ee:ee:ee:ee', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod]);
  await run('ip', ['-n', node, 'link', 'set', iface, 'up']);
  await run('ip', ['-n', pod, 'link', 'set', 'eth0', 'up']);
  await run('ip', ['-n', pod, 'addr', 'add', `${POD}/32`, 'dev', 'eth0']);
  await run('ip', ['-n', pod, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
  await run('ip', ['-n', pod, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
  // The other table, registered before ours.
  await run(
    'ip',
    ['netns', 'exec', node, 'nft', '-f', '-'],
    `table inet other {\n  chain counts { type filter hook forward priority filter; policy accept; ip saddr ${POD} counter; }\n}\n`,
  );
  const counted = async () =>
    Number(/counter packets (\d+)/.exec(await run('ip', ['netns', 'exec', node, 'nft', 'list', 'chain', 'inet', 'other', 'counts']))?.[1] ?? NaN);
  const pingUp = async () => {
    // Denied by policy whatever the order: the ping must fail.
    await assert.rejects(run('ip', ['netns', 'exec', pod, 'ping', '-n', '-q', '-c', '2', '-i', '0.2', '-W', '1', UP]));
  };

  const dp = new LinuxDataplane({ exec: inNetns(processExec(), node), nodeName: 'n1', clock: new FakeClock() });
  t.after(() => dp.close());
  const apply = async (msgs: DataplaneMessage[]) => {
    dp.onMessages(msgs);
    assert.deepEqual((await dp.apply()).errors, []);
  };
  await apply([
    {
      kind: 'ActiveProfileUpdate',
      id: { name: 'kns.default' },
      profile: { inboundRules: [{ action: 'Allow', position: 0 }], outboundRules: [{ action: 'Deny', position: 0 }] },
    },
    {
      kind: 'WorkloadEndpointUpdate',
      id: { namespace: 'default', name: 'p' },
      endpoint: { name: iface, ipv4Nets: [`${POD}/32`], ipv6Nets: [], profileIds: ['kns.default'], tiers: [] },
    },
    { kind: 'InSync' },
  ]);
  assert.match(await run('ip', ['netns', 'exec', node, 'nft', 'list', 'chain', 'inet', 'cattail', 'filter-forward']), /priority filter - 1;/);
  await pingUp();
  assert.equal(await counted(), 0, 'Insert: our drop comes before the other table sees the packet');

  await apply([{ kind: 'ConfigUpdate', config: { chainInsertMode: 'Append' }, clusterInformation: {} }]);
  assert.match(await run('ip', ['netns', 'exec', node, 'nft', 'list', 'chain', 'inet', 'cattail', 'filter-forward']), /priority filter \+ 1;/);
  await pingUp();
  assert.ok((await counted()) >= 2, 'Append: the other table counts the packets before our drop');
});
