import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '@cattail/typha/testing';
import { inNetns, processExec } from '../../src/dataplane/exec.js';
import { LinuxDataplane } from '../../src/dataplane/linux-dataplane.js';
import type { DataplaneMessage } from '../../src/proto/messages.js';
import { requireNetnsTools, run } from '../../src/testing/netns.js';
import { POD_ADDR, UP_ADDR, podUplink, startServerIn } from './pod-uplink.js';

// Service loop prevention (FelixConfiguration serviceLoopPrevention, BGPConfiguration default's
// serviceClusterIPs) on the real kernel. A node namespace with one pod and an uplink to an
// "upstream" namespace, which plays the BGP peer the service range was advertised to: it routes
// the range back to the node and also answers on one address of it, so a packet to a service
// address nothing DNATed goes out and arrives instead of looping. A stand-in for kube-proxy
// DNATs one service address to the upstream's own: that traffic must still flow.
//
//   pod 10.65.0.5 ── cali<tag> ┤ node eth0 198.51.100.1 ├── eth0 198.51.100.2 upstream
//                                  kube-proxy stand-in:       also 10.96.0.10 (an address in the
//                                  10.96.0.20:P → .2:P        service range nothing serves)

const UP = UP_ADDR;
const UNSERVED = '10.96.0.10';
const SERVED = '10.96.0.20';
const POD = POD_ADDR;

const SERVER = `
const s = require('node:net').createServer((c) => c.end('hello'));
s.listen(0, '0.0.0.0', () => console.log('ready ' + s.address().port));`;
// Prints what happened: "ok", "refused" or "timeout".
const CLIENT = `
const c = require('node:net').connect({ host: process.argv[1], port: Number(process.argv[2]) });
c.setTimeout(3000, () => { console.log('timeout'); process.exit(0); });
c.on('data', () => { console.log('ok'); process.exit(0); }).on('error', (e) => { console.log(e.code === 'ECONNREFUSED' ? 'refused' : e.code); process.exit(0); });`;

test('serviceLoopPrevention: unserved service addresses are dropped or rejected from pods and the host; DNATed service traffic flows; Disabled lets all through', async (t) => {
  await requireNetnsTools();
  const { node, pod, up, iface } = await podUplink(t, 'cslp', [`${UNSERVED}/32`]);

  const port = await startServerIn(t, up, SERVER);
  // kube-proxy's part, in a table of its own: the served service address DNATed before routing
  // (prerouting for pods, nat output for the host), as kube-proxy does.
  await run(
    'ip',
    ['netns', 'exec', node, 'nft', '-f', '-'],
    `table ip kp {
  chain pre { type nat hook prerouting priority dstnat; ip daddr ${SERVED} tcp dport ${port} dnat to ${UP}:${port}; }
  chain out { type nat hook output priority -100; ip daddr ${SERVED} tcp dport ${port} dnat to ${UP}:${port}; }
}
`,
  );

  const dp = new LinuxDataplane({ exec: inNetns(processExec(), node), nodeName: 'n1', clock: new FakeClock() });
  t.after(() => dp.close());
  const apply = async (msgs: DataplaneMessage[]) => {
    dp.onMessages(msgs);
    assert.deepEqual((await dp.apply()).errors, []);
  };
  const connect = async (from: string, host: string) => (await run('ip', ['netns', 'exec', from, process.execPath, '-e', CLIENT, host, String(port)])).trim();
  const outcomes = async () => ({
    podUnserved: await connect(pod, UNSERVED),
    podServed: await connect(pod, SERVED),
    hostUnserved: await connect(node, UNSERVED),
    hostServed: await connect(node, SERVED),
  });

  const bgp = (cidrs: string[]): DataplaneMessage => ({
    kind: 'GlobalBGPConfigUpdate',
    serviceClusterCidrs: cidrs,
    serviceExternalCidrs: [],
    serviceLoadBalancerCidrs: [],
  });
  await apply([
    {
      kind: 'ActiveProfileUpdate',
      id: { name: 'kns.default' },
      profile: { inboundRules: [{ action: 'Allow', position: 0 }], outboundRules: [{ action: 'Allow', position: 0 }] },
    },
    {
      kind: 'WorkloadEndpointUpdate',
      id: { namespace: 'default', name: 'p' },
      endpoint: { name: iface, ipv4Nets: [`${POD}/32`], ipv6Nets: [], profileIds: ['kns.default'], tiers: [] },
    },
    bgp([]),
    { kind: 'InSync' },
  ]);
  // Nothing advertised: the unserved address goes out of the default route (and the upstream answers).
  assert.deepEqual(await outcomes(), { podUnserved: 'ok', podServed: 'ok', hostUnserved: 'ok', hostServed: 'ok' }, 'no service range advertised');

  // The range advertised, serviceLoopPrevention Drop (the default).
  await apply([bgp(['10.96.0.0/12'])]);
  assert.deepEqual(await outcomes(), { podUnserved: 'timeout', podServed: 'ok', hostUnserved: 'timeout', hostServed: 'ok' }, 'Drop');
  assert.match(await run('ip', ['netns', 'exec', node, 'nft', 'list', 'chain', 'inet', 'cattail', 'cidr-block']), /ip daddr 10\.96\.0\.0\/12 drop/);

  await apply([{ kind: 'ConfigUpdate', config: { serviceLoopPrevention: 'Reject' }, clusterInformation: {} }]);
  assert.deepEqual(await outcomes(), { podUnserved: 'refused', podServed: 'ok', hostUnserved: 'refused', hostServed: 'ok' }, 'Reject');

  await apply([{ kind: 'ConfigUpdate', config: { serviceLoopPrevention: 'Disabled' }, clusterInformation: {} }]);
  assert.deepEqual(await outcomes(), { podUnserved: 'ok', podServed: 'ok', hostUnserved: 'ok', hostServed: 'ok' }, 'Disabled');
  assert.doesNotMatch(await run('ip', ['netns', 'exec', node, 'nft', 'list', 'table', 'inet', 'cattail']), /cidr-block/);

  // Back to Drop, then the range withdrawn from BGPConfiguration: the rule goes with it.
  await apply([{ kind: 'ConfigUpdate', config: {}, clusterInformation: {} }]);
  assert.equal((await connect(pod, UNSERVED)).trim(), 'timeout');
  await apply([bgp([])]);
  assert.equal(await connect(pod, UNSERVED), 'ok');
});
