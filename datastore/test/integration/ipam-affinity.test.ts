// IPAM's host affinity against a real etcd: two nodes racing for one block, concurrent claims on
// one node, maxBlocksPerHost, strictAffinity against borrowing, autoAllocateBlocks, and many
// nodes allocating at once from a pool too small for all of them to own blocks.
import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { cidrContainsIP, parseCIDR, parseIP, type Resource } from '@cattail/api';
import { sharedEtcd } from '../../src/testing/index.js';
import {
  DEFAULT_RETRY,
  IpamClient,
  NoAddressesError,
  claimBlock,
  listAllAffinities,
  listHostAffinities,
  readBlock,
  type AssignedIP,
} from '../../src/ipam/index.js';

const fx = sharedEtcd({ wipe: '/calico/' });

// IPAM allocates only for nodes with a Node resource, as Calico's does: every node these tests name has one.
beforeEach(async () => {
  for (const name of ['node-0', 'node-1', 'node-2', 'node-3', 'node-4', 'node-5', 'node-a', 'node-b'])
    await fx.ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name }, spec: {} });
});

function pool(name: string, cidr: string, blockSize: number): Resource {
  return { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr, blockSize } };
}

async function setIpamConfig(spec: Record<string, unknown>): Promise<void> {
  const res: Resource = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPAMConfiguration',
    metadata: { name: 'default' },
    spec: { autoAllocateBlocks: true, ...spec },
  };
  try {
    await fx.ds.create(res);
  } catch {
    await fx.ds.update(res);
  }
}

const one = (ipam: IpamClient, node: string, handleId: string) => ipam.autoAssign({ handleId, node, num4: 1, num6: 0 });

test('two nodes racing for one block: exactly one gets it, the loser keeps no affinity', async () => {
  for (let i = 0; i < 8; i++) {
    const cidr = parseCIDR(`10.80.${i}.0/26`)!;
    const outcomes = await Promise.all(
      ['node-a', 'node-b'].map((node) => claimBlock(fx.ds, DEFAULT_RETRY, { node, cidr, strictAffinity: false, claimTime: new Date().toISOString() })),
    );
    assert.deepEqual([...outcomes].sort(), ['claimed', 'taken'], `round ${i}`);
    const winner = outcomes[0] === 'claimed' ? 'node-a' : 'node-b';
    const loser = winner === 'node-a' ? 'node-b' : 'node-a';
    assert.equal((await readBlock(fx.ds, `10.80.${i}.0/26`))?.block.affinity, `host:${winner}`);
    assert.deepEqual(
      (await listHostAffinities(fx.ds, winner, 4)).filter((a) => a.cidr === `10.80.${i}.0/26`).map((a) => a.state),
      ['confirmed'],
    );
    assert.equal((await listHostAffinities(fx.ds, loser, 4)).filter((a) => a.cidr === `10.80.${i}.0/26`).length, 0);
  }
});

test('concurrent claims of one block on the same node both succeed and leave one confirmed affinity', async () => {
  const cidr = parseCIDR('10.81.0.0/26')!;
  const outcomes = await Promise.all(
    [1, 2, 3].map(() => claimBlock(fx.ds, DEFAULT_RETRY, { node: 'node-a', cidr, strictAffinity: false, claimTime: new Date().toISOString() })),
  );
  assert.deepEqual(outcomes, ['claimed', 'claimed', 'claimed']);
  assert.deepEqual(
    (await listHostAffinities(fx.ds, 'node-a', 4)).map((a) => [a.cidr, a.state]),
    [['10.81.0.0/26', 'confirmed']],
  );
});

test('releasing a node’s affinities: empty blocks deleted, a used block kept unless allowed, else unaffine until emptied', async () => {
  const ipam = new IpamClient(fx.ds);
  await fx.ds.create(pool('rel', '10.84.0.0/24', 26));
  const cidr = (ip: AssignedIP) => ip.block;
  const used = cidr((await one(ipam, 'node-0', 'h-used')).ipv4[0]);
  const empty = [0, 64, 128, 192].map((o) => `10.84.0.${o}/26`).find((c) => c !== used)!;
  assert.equal(
    await claimBlock(fx.ds, DEFAULT_RETRY, { node: 'node-0', cidr: parseCIDR(empty)!, strictAffinity: false, claimTime: new Date().toISOString() }),
    'claimed',
  );

  // requireEmpty: the used block stays the node's; the empty one is deleted with its record.
  assert.deepEqual(await ipam.releaseHostAffinities('node-0', { requireEmpty: true }), [empty]);
  assert.equal(await readBlock(fx.ds, empty), undefined);
  assert.deepEqual(
    (await listHostAffinities(fx.ds, 'node-0', 4)).map((a) => a.cidr),
    [used],
  );

  // Without: the used block keeps its allocation and loses its affinity; no record is left.
  assert.equal(await ipam.releaseBlockAffinity('node-0', used), 'released');
  const kept = await readBlock(fx.ds, used);
  assert.equal(kept?.block.affinity, undefined);
  assert.equal(kept?.block.allocations.filter((a) => a !== null).length, 1);
  assert.deepEqual(await listAllAffinities(fx.ds), []);
  assert.equal(await ipam.releaseBlockAffinity('node-0', used), 'not-held');
  // Emptied, the unaffine block is deleted by the release.
  await ipam.releaseByHandle('h-used');
  assert.equal(await readBlock(fx.ds, used), undefined);
});

test('maxBlocksPerHost: a full node borrows from another host’s block, or fails under strictAffinity', async () => {
  await fx.ds.create(pool('p', '10.82.0.0/24', 30)); // 64 blocks of 4
  await setIpamConfig({ maxBlocksPerHost: 1, strictAffinity: true });
  const ipam = new IpamClient(fx.ds);
  const first = await Promise.all([1, 2, 3, 4].map((i) => one(ipam, 'node-1', `h1-${i}`)));
  assert.equal(new Set(first.map((r) => r.ipv4[0].block)).size, 1, 'four addresses: one block');
  await assert.rejects(
    one(ipam, 'node-1', 'h1-5'),
    (err: unknown) => err instanceof NoAddressesError && /maxBlocksPerHost \(1\)/.test(err.message) && /strictAffinity forbids borrowing/.test(err.message),
  );
  assert.equal((await listHostAffinities(fx.ds, 'node-1', 4)).length, 1, 'no second block claimed');

  const other = await one(ipam, 'node-2', 'h2-1');
  await setIpamConfig({ maxBlocksPerHost: 1, strictAffinity: false });
  const borrowed = await one(ipam, 'node-1', 'h1-5');
  assert.equal(borrowed.ipv4[0].block, other.ipv4[0].block, 'borrowed from node-2’s block');
  assert.equal((await readBlock(fx.ds, other.ipv4[0].block))?.block.affinity, 'host:node-2', 'the block stays node-2’s');
  assert.equal((await listHostAffinities(fx.ds, 'node-1', 4)).length, 1);
  // Releasing the borrowed address leaves node-2's block in place.
  await ipam.releaseByHandle('h1-5');
  assert.ok(await readBlock(fx.ds, other.ipv4[0].block));
});

test('strictAffinity: no borrowing once the pool has no block left; borrowing when it is off', async () => {
  await fx.ds.create(pool('p', '10.83.0.0/28', 30)); // 4 blocks of 4
  await setIpamConfig({ strictAffinity: false });
  const ipam = new IpamClient(fx.ds);
  for (const n of [1, 2, 3, 4]) await one(ipam, `node-${n}`, `h-${n}`);
  await setIpamConfig({ strictAffinity: true });
  await assert.rejects(one(ipam, 'node-5', 'h-5'), (err: unknown) => err instanceof NoAddressesError && /no unclaimed block is left/.test(err.message));
  await setIpamConfig({ strictAffinity: false });
  const got = await one(ipam, 'node-5', 'h-5');
  assert.ok(cidrContainsIP(parseCIDR('10.83.0.0/28')!, parseIP(got.ipv4[0].address)!));
  assert.equal((await listHostAffinities(fx.ds, 'node-5', 4)).length, 0, 'node-5 owns no block');
});

test('autoAllocateBlocks off: a node without blocks only borrows', async () => {
  await fx.ds.create(pool('p', '10.84.0.0/24', 29));
  const ipam = new IpamClient(fx.ds);
  const seeded = await one(ipam, 'node-1', 'h-1');
  await setIpamConfig({ autoAllocateBlocks: false });
  const got = await one(ipam, 'node-2', 'h-2');
  assert.equal(got.ipv4[0].block, seeded.ipv4[0].block);
  assert.equal((await listHostAffinities(fx.ds, 'node-2', 4)).length, 0);
});

test('5 nodes × 10 concurrent allocations in a pool too small for a block each: 50 distinct addresses, all freed after', async () => {
  await fx.ds.create(pool('p', '10.85.0.0/26', 29)); // 8 blocks of 8 = 64 addresses for 50 requests
  const ipam = new IpamClient(fx.ds);
  const jobs: Array<Promise<{ handle: string; ip: AssignedIP }>> = [];
  for (let n = 0; n < 5; n++) {
    for (let i = 0; i < 10; i++) {
      const handle = `k8s-pod-network.n${n}-c${i}`;
      jobs.push(one(ipam, `node-${n}`, handle).then((r) => ({ handle, ip: r.ipv4[0] })));
    }
  }
  const got = await Promise.all(jobs);
  const ips = got.map((g) => g.ip.address);
  assert.equal(new Set(ips).size, 50, 'no address handed out twice');
  const poolCidr = parseCIDR('10.85.0.0/26')!;
  assert.ok(ips.every((ip) => cidrContainsIP(poolCidr, parseIP(ip)!)));
  // Every block has exactly one owner and the blocks' bookkeeping agrees with the handles.
  const { items: blocks } = await fx.ds.list('IPAMBlock');
  const allocated = blocks.reduce((sum, b) => sum + (b.spec as { allocations: Array<number | null> }).allocations.filter((a) => a !== null).length, 0);
  assert.equal(allocated, 50);
  for (const b of blocks) assert.match(String((b.spec as { affinity?: string }).affinity), /^host:node-[0-4]$/);

  await Promise.all(got.map((g) => ipam.releaseByHandle(g.handle)));
  const after = await fx.ds.list('IPAMBlock');
  assert.equal(
    after.items.reduce((sum, b) => sum + (b.spec as { allocations: Array<number | null> }).allocations.filter((a) => a !== null).length, 0),
    0,
  );
  assert.equal((await fx.ds.list('IPAMHandle')).items.length, 0);
});
