// The IPAM garbage collector's rules, one sweep at a time on a fake clock, with IPAM on a real
// etcd and the cluster (nodes, pods) faked: which allocations are leak candidates, that nothing
// goes before the grace period, that a reused address starts its grace period again, that a
// grace period of 0 disables address GC, that a deleted node's leaks are confirmed at once (as
// Calico's), and what is never touched.
import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { ipam } from '@cattail/datastore';
import { sharedEtcd } from '@cattail/datastore/testing';
import { FakeClock } from '@cattail/typha/testing';
import { IpamGarbageCollector, type ClusterView, type PodAddresses } from '../../src/index.js';

const fx = sharedEtcd({ wipe: '/calico/' });
const GRACE = 60_000;

class FakeCluster implements ClusterView {
  nodes = new Set(['n1', 'n2']);
  podList: PodAddresses[] = [];
  async nodeNames() {
    return new Set(this.nodes);
  }
  async pods() {
    return [...this.podList];
  }
  async pod(namespace: string, name: string) {
    return this.podList.find((p) => p.namespace === namespace && p.name === name);
  }
}

let cluster: FakeCluster;
let client: ipam.IpamClient;

beforeEach(async () => {
  cluster = new FakeCluster();
  client = new ipam.IpamClient(fx.ds);
  for (const name of ['n1', 'n2', 'n3']) await fx.ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name }, spec: {} });
  await fx.ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.95.0.0/16', blockSize: 28 } });
});

async function alloc(handle: string, node: string, attrs: Record<string, string> = {}): Promise<string> {
  return (await client.autoAssign({ handleId: handle, node, num4: 1, num6: 0, attrs: { node, ...attrs } })).ipv4[0].address;
}

const held = async (handle: string) => (await client.ipsByHandle(handle)).map((a) => a.address);

test('leak rules: a pod gone, moved or showing other addresses, a gone node’s allocations; kept: live, unknown owners, Windows-reserved', async () => {
  const clock = new FakeClock();
  const gc = new IpamGarbageCollector(fx.ds, cluster, { clock, leakGracePeriodMs: GRACE });
  const live = await alloc('h-live', 'n1', { namespace: 's', pod: 'live' });
  await alloc('h-moved', 'n1', { namespace: 's', pod: 'moved' });
  await alloc('h-other', 'n1', { namespace: 's', pod: 'other' });
  await alloc('h-gone', 'n1', { namespace: 's', pod: 'gone' });
  await alloc('h-unknown', 'n1'); // no pod named, node exists: never ours to judge
  await alloc('h-node-gone', 'n3'); // no pod named, node gone
  await alloc('windows-reserved-ipam-handle', 'n3');
  cluster.nodes = new Set(['n1', 'n2']);
  cluster.podList = [
    { namespace: 's', name: 'live', node: 'n1', ips: [live] },
    { namespace: 's', name: 'moved', node: 'n2', ips: [] },
    { namespace: 's', name: 'other', node: 'n1', ips: ['10.99.0.1'] },
  ];

  await gc.sweep();
  assert.equal(gc.status().candidates, 4, 'moved, other, gone, node-gone');
  clock.advance(GRACE - 1);
  await gc.sweep();
  for (const h of ['h-moved', 'h-other', 'h-gone', 'h-node-gone']) assert.equal((await held(h)).length, 1, `${h}: nothing goes before the grace period`);

  clock.advance(1);
  await gc.sweep();
  for (const h of ['h-moved', 'h-other', 'h-gone', 'h-node-gone']) assert.deepEqual(await held(h), [], h);
  for (const h of ['h-live', 'h-unknown', 'windows-reserved-ipam-handle']) assert.equal((await held(h)).length, 1, h);
  assert.equal(gc.status().candidates, 0);
  // n3's block still holds the Windows reservation: it loses its affinity but keeps the address.
  assert.deepEqual(
    (await ipam.listAllAffinities(fx.ds)).map((a) => a.node),
    ['n1'],
  );
});

test('an address released and handed out again during the grace period starts a new one', async () => {
  const clock = new FakeClock();
  const gc = new IpamGarbageCollector(fx.ds, cluster, { clock, leakGracePeriodMs: GRACE });
  const first = await alloc('h-first', 'n1', { namespace: 's', pod: 'first' });
  await gc.sweep();
  assert.equal(gc.status().candidates, 1);
  clock.advance(GRACE / 2);
  await client.releaseByHandle('h-first');
  const again = await client.assignIP({ address: first, handleId: 'h-second', node: 'n1', attrs: { node: 'n1', namespace: 's', pod: 'second' } });
  assert.equal(again.address, first);
  await gc.sweep();
  clock.advance(GRACE / 2);
  await gc.sweep();
  assert.deepEqual(await held('h-second'), [first], 'the new allocation’s grace period runs from when it was first seen');
  clock.advance(GRACE / 2);
  await gc.sweep();
  assert.deepEqual(await held('h-second'), []);
});

test('leakGracePeriod 0 disables address GC on nodes that exist; a gone node’s confirmed leaks still go', async () => {
  const clock = new FakeClock();
  const gc = new IpamGarbageCollector(fx.ds, cluster, { clock, leakGracePeriodMs: 0 });
  await alloc('h-on-n1', 'n1', { namespace: 's', pod: 'gone-from-n1' });
  await alloc('h-on-n3', 'n3', { namespace: 's', pod: 'gone-from-n3' });
  await gc.sweep();
  clock.advance(24 * 3_600_000);
  await gc.sweep();
  assert.equal((await held('h-on-n1')).length, 1, 'n1 exists: kept, GC is off');
  assert.deepEqual(await held('h-on-n3'), [], 'n3 and its pod are gone: a confirmed leak');
  assert.deepEqual(
    (await ipam.listAllAffinities(fx.ds)).map((a) => a.node),
    ['n1'],
  );
  assert.equal(gc.status().candidates, 1);
});

test('a deleted node: its pods’ addresses, then its tunnel address and blocks go at once, not after the grace period — once none of its pods is left', async () => {
  const clock = new FakeClock();
  const gc = new IpamGarbageCollector(fx.ds, cluster, { clock, leakGracePeriodMs: GRACE });
  const running = await alloc('h-running', 'n2', { namespace: 's', pod: 'still-there' });
  await alloc('h-stopped', 'n2', { namespace: 's', pod: 'stopped' });
  await alloc('vxlan-tunnel-addr-n2', 'n2', { type: 'vxlanTunnelAddress' });
  cluster.podList = [{ namespace: 's', name: 'still-there', node: 'n2', ips: [running] }];
  cluster.nodes = new Set(['n1']);

  // The node is gone but one of its pods is still in the API: only the stopped pod's address goes.
  await gc.sweep();
  assert.deepEqual(await held('h-stopped'), [], 'pod and node gone: released without the grace period');
  assert.deepEqual(await held('h-running'), [running]);
  assert.equal((await held('vxlan-tunnel-addr-n2')).length, 1, 'the tunnel address waits for the node’s last pod');
  assert.deepEqual(
    (await ipam.listAllAffinities(fx.ds)).map((a) => a.node),
    ['n2'],
    'a node with a pod still in the API keeps its affinity',
  );

  // The last pod is deleted (PodGC): the next sweep takes the rest, still well inside the grace period.
  cluster.podList = [];
  clock.advance(1000);
  await gc.sweep();
  assert.deepEqual(await held('h-running'), []);
  assert.deepEqual(await held('vxlan-tunnel-addr-n2'), []);
  assert.deepEqual(
    (await ipam.listBlocks(fx.ds)).filter((b) => b.block.allocations.some((x) => x !== null)).map((b) => b.block.affinity),
    [],
    'no block holds an address any more',
  );
  assert.deepEqual(
    (await ipam.listAllAffinities(fx.ds)).map((a) => a.node),
    [],
  );
});
