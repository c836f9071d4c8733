// Datastore.commit on a real etcd (several guarded writes in one transaction, all or none), and
// IPAM's use of it: the block and the handle written together, a lost race retried, concurrent
// allocations and releases never sharing an address and leaving handles equal to the blocks.
import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@cattail/api';
import { sharedEtcd } from '../../src/testing/index.js';
import { AlreadyExistsError, ConflictError, UnsupportedError } from '../../src/errors.js';
import type { Datastore, WriteOp } from '../../src/datastore.js';
import { IpamClient, readHandle } from '../../src/ipam/index.js';

const fx = sharedEtcd({ wipe: '/calico/' });

beforeEach(async () => {
  await fx.ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'node-1' }, spec: {} });
});

function pool(name: string, cidr: string): Resource {
  return { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr, blockSize: 26 } };
}

function handle(name: string, block: Record<string, number>): Resource {
  return { apiVersion: 'projectcalico.org/v3', kind: 'IPAMHandle', metadata: { name }, spec: { handleID: name, block, deleted: false } };
}

test('commit writes a create, an update and a delete in one transaction, each new version the same revision', async () => {
  await fx.ds.create(handle('h-update', { '10.1.0.0/26': 1 }));
  const kept = await fx.ds.get({ kind: 'IPAMHandle', name: 'h-update' });
  const gone = await fx.ds.create(handle('h-delete', { '10.1.0.0/26': 1 }));
  const written = await fx.ds.commit([
    { op: 'create', resource: handle('h-create', { '10.1.0.0/26': 2 }) },
    { op: 'update', resource: { ...kept, spec: { ...kept.spec, block: { '10.1.0.0/26': 3 } } } },
    { op: 'delete', ref: { kind: 'IPAMHandle', name: 'h-delete' }, resourceVersion: gone.metadata.resourceVersion! },
  ]);
  assert.equal(written.length, 2);
  assert.equal(written[0].metadata.resourceVersion, written[1].metadata.resourceVersion);
  const created = await fx.ds.get({ kind: 'IPAMHandle', name: 'h-create' });
  assert.deepEqual(created.spec?.block, { '10.1.0.0/26': 2 });
  const updated = await fx.ds.get({ kind: 'IPAMHandle', name: 'h-update' });
  assert.deepEqual(updated.spec?.block, { '10.1.0.0/26': 3 });
  assert.deepEqual(updated.metadata, { ...kept.metadata, resourceVersion: written[1].metadata.resourceVersion }, 'an update writes back the metadata it read');
  assert.equal((await fx.ds.list('IPAMHandle')).items.length, 2, 'h-delete is gone');
});

test('one failed precondition writes nothing and names the write that lost', async () => {
  const a = await fx.ds.create(handle('h-a', { '10.1.0.0/26': 1 }));
  const stale = a.metadata.resourceVersion!;
  const a2 = await fx.ds.update({ ...a, spec: { ...a.spec, block: { '10.1.0.0/26': 2 } } });
  const tryAll = (last: WriteOp) => fx.ds.commit([{ op: 'create', resource: handle('h-new', { '10.1.0.0/26': 1 }) }, last]);

  await assert.rejects(tryAll({ op: 'update', resource: { ...a, spec: { ...a.spec, block: {} } } }), (err: unknown) => {
    assert.ok(err instanceof ConflictError);
    assert.match(err.message, /IPAMHandle.*h-a.*resourceVersion \d+ is stale, current \d+/);
    return true;
  });
  await assert.rejects(tryAll({ op: 'delete', ref: { kind: 'IPAMHandle', name: 'h-a' }, resourceVersion: stale }), ConflictError);
  await assert.rejects(tryAll({ op: 'create', resource: handle('h-a', {}) }), AlreadyExistsError);
  await assert.rejects(
    tryAll({ op: 'update', resource: { ...handle('h-missing', {}), metadata: { name: 'h-missing', resourceVersion: stale } } }),
    /h-missing.*current deleted/,
    'an update of a record that is gone is a conflict: re-read and decide',
  );
  await assert.rejects(tryAll({ op: 'update', resource: handle('h-a', {}) }), UnsupportedError, 'an update without the version it read is refused');
  assert.equal((await fx.ds.list('IPAMHandle')).items.length, 1, 'h-new was never created');
  assert.equal((await fx.ds.get({ kind: 'IPAMHandle', name: 'h-a' })).metadata.resourceVersion, a2.metadata.resourceVersion, 'h-a untouched');
});

test('autoAssign commits block and handle together: a commit that loses its race is retried and nothing is counted twice', async () => {
  await fx.ds.create(pool('p', '10.66.0.0/16'));
  const ipam = new IpamClient(fx.ds);
  await ipam.autoAssign({ handleId: 'h-first', node: 'node-1', num4: 1, num6: 0 }); // claims the block
  // Before our first commit lands, another writer takes an address in the same block.
  let commits = 0;
  let interfered = false;
  const racing: Datastore = new Proxy(fx.ds, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (prop === 'commit') {
        return async (writes: readonly WriteOp[]) => {
          commits++;
          if (!interfered) {
            interfered = true;
            await ipam.autoAssign({ handleId: 'h-rival', node: 'node-1', num4: 1, num6: 0 });
          }
          return target.commit(writes);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const got = await new IpamClient(racing).autoAssign({ handleId: 'h-mine', node: 'node-1', num4: 1, num6: 0 });
  assert.equal(commits, 2, 'the first commit lost (the block changed under it) and the retry landed');
  const all = await Promise.all(['h-first', 'h-rival', 'h-mine'].map((h) => ipam.ipsByHandle(h)));
  assert.deepEqual(
    all.map((ips) => ips.length),
    [1, 1, 1],
  );
  assert.equal(new Set(all.flat().map((a) => a.address)).size, 3, 'three distinct addresses');
  assert.equal(all[2][0].address, got.ipv4[0].address);
  assert.deepEqual((await readHandle(fx.ds, 'h-mine')).counts, { [got.ipv4[0].block]: 1 }, 'the handle counts exactly one address');
});

test('40 concurrent ADDs and DELs on one node: never one address twice, every handle equal to its block, nothing left', async () => {
  await fx.ds.create(pool('p', '10.67.0.0/16'));
  const ipam = new IpamClient(fx.ds);
  const first = Array.from({ length: 20 }, (_, i) => `k8s-pod-network.a${i}`);
  const second = Array.from({ length: 20 }, (_, i) => `k8s-pod-network.b${i}`);
  const a = await Promise.all(first.map((h) => ipam.autoAssign({ handleId: h, node: 'node-1', num4: 1, num6: 0 })));
  // Half of them leave while twenty more arrive.
  const [released, b] = await Promise.all([
    Promise.all(first.slice(0, 10).map((h) => ipam.releaseByHandle(h))),
    Promise.all(second.map((h) => ipam.autoAssign({ handleId: h, node: 'node-1', num4: 1, num6: 0 }))),
  ]);
  assert.deepEqual(
    released.flat().sort(),
    a
      .slice(0, 10)
      .map((r) => r.ipv4[0].address)
      .sort(),
  );
  const live = [...a.slice(10), ...b].map((r) => r.ipv4[0].address);
  assert.equal(new Set(live).size, 30, 'no address held twice');
  const blocks = (await fx.ds.list('IPAMBlock')).items;
  const held = new Map<string, number>();
  for (const blk of blocks) {
    const spec = blk.spec as { cidr: string; allocations: Array<number | null>; attributes: Array<{ handle_id?: string }> };
    for (const idx of spec.allocations) {
      if (idx === null) continue;
      const h = spec.attributes[idx]?.handle_id ?? '';
      held.set(`${h} ${spec.cidr}`, (held.get(`${h} ${spec.cidr}`) ?? 0) + 1);
    }
  }
  for (const h of [...first.slice(10), ...second]) {
    const { counts } = await readHandle(fx.ds, h);
    for (const [cidr, n] of Object.entries(counts)) assert.equal(held.get(`${h} ${cidr}`), n, `${h} counts what ${cidr} holds for it`);
  }
  await Promise.all([...first.slice(10), ...second].map((h) => ipam.releaseByHandle(h)));
  assert.equal((await fx.ds.list('IPAMHandle')).items.length, 0);
  for (const blk of (await fx.ds.list('IPAMBlock')).items) {
    assert.ok(
      (blk.spec as { allocations: Array<number | null> }).allocations.every((x) => x === null),
      'every block empty',
    );
  }
});
