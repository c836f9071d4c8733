// IPAM against a real etcd: claim + allocate + release, handle bookkeeping, reservations, pool
// selection, and 50 concurrent allocations without a duplicate.
import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { validateResource, type Resource } from '@cattail/api';
import { sharedEtcd } from '../../src/testing/index.js';
import {
  DatastoreLockedError,
  IpamClient,
  NoAddressesError,
  NoPoolsError,
  InvalidIpamRequestError,
  UnknownNodeError,
  listHostAffinities,
  readHandle,
} from '../../src/ipam/index.js';
import { UnavailableError } from '../../src/errors.js';
import type { Datastore } from '../../src/datastore.js';

const fx = sharedEtcd({ wipe: '/calico/' });

// IPAM allocates only for nodes with a Node resource, as Calico's does: every node these tests name has one.
beforeEach(async () => {
  for (const name of ['node-1', 'n', 'n1']) await fx.ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name }, spec: {} });
});

function pool(name: string, cidr: string, extra: Record<string, unknown> = {}): Resource {
  return { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr, blockSize: 26, ...extra } };
}

test('first allocation claims a block for the node, records the handle, release frees it', async () => {
  await fx.ds.create(pool('p1', '10.66.0.0/16'));
  const ipam = new IpamClient(fx.ds);
  const res = await ipam.autoAssign({ handleId: 'k8s-pod-network.c1', node: 'node-1', num4: 1, num6: 0, attrs: { pod: 'a', namespace: 'default' } });
  assert.equal(res.ipv4.length, 1);
  assert.equal(res.ipv6.length, 0);
  const [ip] = res.ipv4;
  assert.equal(ip.pool, 'p1');
  assert.match(ip.block, /^10\.66\.\d+\.\d+\/26$/);

  const affinities = await listHostAffinities(fx.ds, 'node-1', 4);
  assert.deepEqual(
    affinities.map((a) => [a.cidr, a.state]),
    [[ip.block, 'confirmed']],
  );
  const block = await fx.ds.get({ kind: 'IPAMBlock', name: ip.block.replace(/[./]/g, '-') });
  assert.equal((block.spec as { affinity: string }).affinity, 'host:node-1');
  assert.deepEqual(validateResource(block), [], 'the stored block is a valid IPAMBlock');
  const attrs = (block.spec as { attributes: Array<{ handle_id: string; secondary: Record<string, string> }> }).attributes;
  assert.deepEqual(attrs, [{ handle_id: 'k8s-pod-network.c1', secondary: { pod: 'a', namespace: 'default' } }]);
  assert.deepEqual((await readHandle(fx.ds, 'k8s-pod-network.c1')).counts, { [ip.block]: 1 });
  assert.deepEqual(
    (await ipam.ipsByHandle('k8s-pod-network.c1')).map((i) => i.address),
    [ip.address],
  );

  // Same node again: same block, next address.
  const second = await ipam.autoAssign({ handleId: 'k8s-pod-network.c2', node: 'node-1', num4: 1, num6: 0 });
  assert.equal(second.ipv4[0].block, ip.block);
  assert.notEqual(second.ipv4[0].address, ip.address);

  assert.deepEqual(await ipam.releaseByHandle('k8s-pod-network.c1'), [ip.address]);
  assert.equal((await readHandle(fx.ds, 'k8s-pod-network.c1')).resource, undefined, 'handle deleted');
  assert.deepEqual(await ipam.releaseByHandle('k8s-pod-network.c1'), [], 'release is idempotent');
  const after = await fx.ds.get({ kind: 'IPAMBlock', name: ip.block.replace(/[./]/g, '-') });
  assert.deepEqual(validateResource(after), []);
  const spec = after.spec as { unallocated: number[]; attributes: unknown[] };
  assert.equal(spec.attributes.length, 1, 'the released owner’s attribute is gone');
  assert.equal(spec.unallocated.at(-1), Number(ip.address.split('.')[3]) - Number(ip.block.split('.')[3].split('/')[0]), 'freed ordinal goes to the back');
});

test('IPv4 and IPv6 together; a shortfall in one version gives back the other', async () => {
  await fx.ds.create(pool('v4', '10.66.0.0/16'));
  await fx.ds.create(pool('v6', 'fd00:66::/48', { blockSize: 122 }));
  const ipam = new IpamClient(fx.ds);
  const res = await ipam.autoAssign({ handleId: 'h-dual', node: 'n', num4: 1, num6: 1 });
  assert.equal(res.ipv4.length, 1);
  assert.equal(res.ipv6.length, 1);
  assert.match(res.ipv6[0].address, /^fd00:66:/);

  await fx.ds.create(pool('tiny6', 'fd00:77::/126', { blockSize: 126 }));
  await assert.rejects(
    ipam.autoAssign({ handleId: 'h-short', node: 'n', num4: 1, num6: 5, pools: ['10.66.0.0/16', 'tiny6'] }),
    (err: unknown) => err instanceof NoAddressesError && /only 4 of 5 IPv6/.test(err.message),
  );
  assert.deepEqual(await ipam.ipsByHandle('h-short'), [], 'nothing kept from the failed request');
  assert.equal((await readHandle(fx.ds, 'h-short')).resource, undefined);
});

test('pool selection: disabled, nodeSelector, requested pools, no pools', async () => {
  const ipam = new IpamClient(fx.ds);
  await assert.rejects(ipam.autoAssign({ handleId: 'h0', node: 'n1', num4: 1, num6: 0 }), NoPoolsError);
  await fx.ds.create(pool('off', '10.1.0.0/16', { disabled: true }));
  await fx.ds.create(pool('zone-a', '10.2.0.0/16', { nodeSelector: "zone == 'a'" }));
  await fx.ds.create(pool('all', '10.3.0.0/16'));
  await fx.ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'n-a', labels: { zone: 'a' } }, spec: {} });

  const plain = await ipam.autoAssign({ handleId: 'h1', node: 'n1', num4: 1, num6: 0 });
  assert.equal(plain.ipv4[0].pool, 'all', 'n1 has no zone label: only the all() pool');
  const zoned = await ipam.autoAssign({ handleId: 'h2', node: 'n-a', num4: 1, num6: 0, pools: ['zone-a'] });
  assert.equal(zoned.ipv4[0].pool, 'zone-a');
  await assert.rejects(ipam.autoAssign({ handleId: 'h3', node: 'n1', num4: 1, num6: 0, pools: ['10.1.0.0/16'] }), InvalidIpamRequestError);
  await assert.rejects(ipam.autoAssign({ handleId: 'h4', node: 'n1', num4: 1, num6: 0, pools: ['10.9.0.0/16'] }), InvalidIpamRequestError);
  await assert.rejects(ipam.autoAssign({ handleId: 'h5', node: 'n1', num4: 1, num6: 0, pools: ['zone-a'] }), NoPoolsError);
});

test('IPReservation addresses are never handed out', async () => {
  await fx.ds.create(pool('small', '10.70.0.0/29', { blockSize: 29 }));
  await fx.ds.create({
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPReservation',
    metadata: { name: 'r' },
    spec: { reservedCIDRs: ['10.70.0.0/30', '10.70.0.5'] },
  });
  const ipam = new IpamClient(fx.ds);
  const got = await ipam.autoAssign({ handleId: 'h', node: 'n', num4: 3, num6: 0 });
  assert.deepEqual(got.ipv4.map((i) => i.address).sort(), ['10.70.0.4', '10.70.0.6', '10.70.0.7']);
  await assert.rejects(ipam.autoAssign({ handleId: 'h2', node: 'n', num4: 1, num6: 0 }), NoAddressesError);
});

test('assignIP: a given address from a Manual pool, claimed for the node; reserved or taken addresses are refused', async () => {
  await fx.ds.create(pool('manual', '10.71.0.0/24', { assignmentMode: 'Manual' }));
  await fx.ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPReservation', metadata: { name: 'r' }, spec: { reservedCIDRs: ['10.71.0.9'] } });
  const ipam = new IpamClient(fx.ds);
  const a = await ipam.assignIP({ address: '10.71.0.7', handleId: 'h1', node: 'n1' });
  assert.deepEqual(a, { address: '10.71.0.7', version: 4, block: '10.71.0.0/26', pool: 'manual' });
  assert.deepEqual(
    (await listHostAffinities(fx.ds, 'n1', 4)).map((x) => x.cidr),
    ['10.71.0.0/26'],
    'the block is claimed for the node',
  );
  await assert.rejects(ipam.assignIP({ address: '10.71.0.7', handleId: 'h2', node: 'n' }), { code: 'IPAM_ADDRESS_IN_USE' });
  await assert.rejects(ipam.assignIP({ address: '10.71.0.9', handleId: 'h2', node: 'n' }), { code: 'IPAM_ADDRESS_IN_USE' });
  await assert.rejects(ipam.assignIP({ address: '10.99.0.1', handleId: 'h2', node: 'n' }), InvalidIpamRequestError);
  assert.deepEqual(await ipam.ipsByHandle('h2'), [], 'nothing held by the refused requests');
  assert.deepEqual((await readHandle(fx.ds, 'h2')).resource, undefined, 'and no handle left behind');
  // Another node's block: a given address is taken from it all the same.
  const b = await ipam.assignIP({ address: '10.71.0.8', handleId: 'h3', node: 'n' });
  assert.equal(b.block, '10.71.0.0/26');
  assert.deepEqual(await ipam.releaseByHandle('h1'), ['10.71.0.7']);
});

test('50 concurrent allocations on one node: 50 distinct addresses; releasing them all empties the handles', async () => {
  await fx.ds.create(pool('p', '10.66.0.0/16'));
  const ipam = new IpamClient(fx.ds);
  const handles = Array.from({ length: 50 }, (_, i) => `k8s-pod-network.c${i}`);
  const results = await Promise.all(handles.map((h) => ipam.autoAssign({ handleId: h, node: 'node-1', num4: 1, num6: 0 })));
  const ips = results.map((r) => r.ipv4[0].address);
  assert.equal(new Set(ips).size, 50, 'no duplicates');
  const blocks = new Set(results.map((r) => r.ipv4[0].block));
  assert.equal(blocks.size, 1, 'concurrent ADDs on one node converge on one /26');
  for (const h of handles) assert.equal((await ipam.ipsByHandle(h)).length, 1);

  const released = await Promise.all(handles.map((h) => ipam.releaseByHandle(h)));
  assert.deepEqual(released.flat().sort(), [...ips].sort());
  const block = await fx.ds.get({ kind: 'IPAMBlock', name: [...blocks][0].replace(/[./]/g, '-') });
  const spec = block.spec as { allocations: Array<number | null>; unallocated: number[]; attributes: unknown[] };
  assert.ok(
    spec.allocations.every((a) => a === null),
    'block is empty',
  );
  assert.equal(spec.unallocated.length, 64);
  assert.equal(spec.attributes.length, 0);
  assert.equal((await fx.ds.list('IPAMHandle')).items.length, 0);
});

test('a block write of unknown outcome keeps the handle counting it, so release still frees the address', async () => {
  await fx.ds.create(pool('p', '10.66.0.0/16'));
  // The write reaches fx.etcd, but the caller sees a timeout (the reply was lost).
  let lost = 0;
  const flaky: Datastore = {
    get: (ref) => fx.ds.get(ref),
    list: (kind, opts) => fx.ds.list(kind, opts),
    create: (res) => fx.ds.create(res),
    delete: (ref, opts) => fx.ds.delete(ref, opts),
    listPrefix: (prefix) => fx.ds.listPrefix(prefix),
    watchPrefix: (prefix, rev, sink) => fx.ds.watchPrefix(prefix, rev, sink),
    close: async () => undefined,
    async update(res: Resource) {
      const out = await fx.ds.update(res);
      if (res.kind === 'IPAMBlock' && lost++ === 0) throw new UnavailableError('etcd: deadline exceeded');
      return out;
    },
  };
  const ipam = new IpamClient(flaky);
  await assert.rejects(ipam.autoAssign({ handleId: 'h-flaky', node: 'n', num4: 1, num6: 0 }), UnavailableError);
  const held = await ipam.ipsByHandle('h-flaky');
  assert.equal(held.length, 1, 'the address the block took is still found through the handle');
  assert.deepEqual(await ipam.releaseByHandle('h-flaky'), [held[0].address]);
  const { items } = await fx.ds.list('IPAMBlock');
  assert.ok(items.every((b) => (b.spec as { allocations: Array<number | null> }).allocations.every((a) => a === null)));
});

test('while ClusterInformation says datastoreReady: false (the migrate lock) nothing is allocated; unlocked, it is', async () => {
  await fx.ds.create(pool('p-lock', '10.70.0.0/16'));
  const ipam = new IpamClient(fx.ds);
  const info: Resource = { apiVersion: 'projectcalico.org/v3', kind: 'ClusterInformation', metadata: { name: 'default' }, spec: { datastoreReady: false } };
  const locked = await fx.ds.create(info);
  await assert.rejects(
    ipam.autoAssign({ handleId: 'h-lock', node: 'n', num4: 1, num6: 0 }),
    (err: unknown) => err instanceof DatastoreLockedError && err.code === 'IPAM_DATASTORE_LOCKED' && /datastore migrate lock/.test(err.message),
  );
  assert.deepEqual(await listHostAffinities(fx.ds, 'n', 4), [], 'no block claimed under the lock');
  assert.deepEqual((await readHandle(fx.ds, 'h-lock')).counts, {}, 'no handle written under the lock');

  await fx.ds.update({ ...locked, spec: { datastoreReady: true } });
  const got = await ipam.autoAssign({ handleId: 'h-lock', node: 'n', num4: 1, num6: 0 });
  assert.equal(got.ipv4.length, 1);
});

test('a node without a Node resource gets nothing, even with a pool for it: no block is claimed', async () => {
  await fx.ds.create(pool('p-ghost', '10.71.0.0/16'));
  const ipam = new IpamClient(fx.ds);
  await assert.rejects(
    ipam.autoAssign({ handleId: 'h-ghost', node: 'ghost', num4: 1, num6: 0 }),
    (err: unknown) => err instanceof UnknownNodeError && err.code === 'IPAM_UNKNOWN_NODE' && err.message.startsWith('node "ghost" has no Node resource'),
  );
  assert.deepEqual(await listHostAffinities(fx.ds, 'ghost', 4), []);
  assert.deepEqual((await fx.ds.list('IPAMBlock')).items, []);
});

test('releaseAddress frees one address only while the expected allocation holds it, then lowers its handle', async () => {
  await fx.ds.create(pool('p1', '10.66.0.0/16'));
  const ipam = new IpamClient(fx.ds);
  const got = await ipam.autoAssign({ handleId: 'h1', node: 'node-1', num4: 2, num6: 0 });
  const [first, second] = got.ipv4.map((a) => a.address);
  const block = got.ipv4[0].block;

  assert.equal(await ipam.releaseAddress({ address: first, handleId: 'someone-else' }), 'owner-changed');
  assert.equal(await ipam.releaseAddress({ address: first, handleId: 'h1', sequenceNumber: 7 }), 'owner-changed', 'handed out at sequence 0');
  assert.equal(await ipam.releaseAddress({ address: first, handleId: 'h1', sequenceNumber: 0 }), 'released');
  assert.deepEqual((await readHandle(fx.ds, 'h1')).counts, { [block]: 1 });
  assert.equal(await ipam.releaseAddress({ address: first }), 'not-assigned', 'idempotent');
  assert.equal(await ipam.releaseAddress({ address: '10.99.0.1' }), 'not-assigned', 'in no block');
  await assert.rejects(ipam.releaseAddress({ address: 'nope' }), InvalidIpamRequestError);

  assert.equal(await ipam.releaseAddress({ address: second }, [block]), 'released', 'with the block list given');
  assert.equal((await readHandle(fx.ds, 'h1')).resource, undefined, 'the emptied handle is deleted');
  assert.deepEqual(await ipam.ipsByHandle('h1'), []);
});
