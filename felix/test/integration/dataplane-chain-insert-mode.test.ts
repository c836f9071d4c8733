import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '@cattail/typha/testing';
import { inNetns, processExec } from '../../src/dataplane/exec.js';
import { LinuxDataplane } from '../../src/dataplane/linux-dataplane.js';
import type { DataplaneMessage } from '../../src/proto/messages.js';
import { requireNetnsTools, run } from '../../src/testing/netns.js';
import { POD_ADDR, UP_ADDR, podUplink } from './pod-uplink.js';

// chainInsertMode on the real kernel: another table on the node (a host firewall, iptables-nft)
// has a forward chain at the standard filter priority that counts the pod's packets, and the
// pod's egress is denied by Cattail's policy. With Insert (Calico's default) our chain runs
// first, so the other table never sees the packets it drops; with Append it runs after, so the
// other table counts them before our drop.
//
//   pod 10.65.0.5 ── cali<tag> ┤ node eth0 198.51.100.1 ├── eth0 198.51.100.2 upstream

const UP = UP_ADDR;
const POD = POD_ADDR;

test('chainInsertMode: Insert runs our base chains before another table’s at the same priority, Append after', async (t) => {
  await requireNetnsTools();
  const { node, pod, iface } = await podUplink(t, 'ccim');
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
