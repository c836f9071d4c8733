// The tunnel address allocator as it runs in the chart's tunnel-addrs container, on real etcd:
// a VXLAN pool created while it runs gives the node a VTEP address at once (the pool watch, not
// the resync), the pool's VXLAN switched off takes it back, a pool that no longer selects the
// node (after a label change, seen on the resync) gives its address up, and stop() ends every
// timer and watch.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@cattail/api';
import { ipam } from '@cattail/datastore';
import { sharedEtcd } from '@cattail/datastore/testing';
import { TunnelAddressController } from '../../src/index.js';

const fx = sharedEtcd();
const NODE = 'tc-node';
const passes: Array<{ v4?: string; v6?: string } | Error> = [];
let waiters: Array<() => void> = [];
let controller: TunnelAddressController | undefined;

after(async () => {
  await controller?.stop();
});

/** Resolves once a pass ends that satisfies `pred` (each pass wakes the waiters). */
async function passUntil(pred: (r: { v4?: string; v6?: string }) => boolean, what: string, ms = 20_000): Promise<{ v4?: string; v6?: string }> {
  const deadline = Date.now() + ms;
  for (;;) {
    const last = passes.at(-1);
    if (last && !(last instanceof Error) && pred(last)) return last;
    if (Date.now() > deadline) throw new Error(`no pass with ${what}; passes: ${JSON.stringify(passes.map((p) => (p instanceof Error ? p.message : p)))}`);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

function pool(name: string, cidr: string, spec: Record<string, unknown> = {}): Resource {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPPool',
    metadata: { name },
    spec: { cidr, blockSize: 26, vxlanMode: 'Always', nodeSelector: 'all()', ...spec },
  };
}

/** A controller for NODE whose passes land in `passes` and wake `passUntil`. */
async function startController(resyncMs: number): Promise<{ v4?: string; v6?: string }> {
  controller = new TunnelAddressController({
    ds: fx.ds,
    nodeName: NODE,
    log: { info: () => {}, warn: () => {} },
    resyncMs,
    onPass: (r) => {
      passes.push(r);
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    },
  });
  return controller.start();
}

const nodeTunnel = async () => ((await fx.ds.get({ kind: 'Node', name: NODE })).spec as Record<string, unknown>).ipv4VXLANTunnelAddr;

test('pool changes move the tunnel address while the allocator runs', { timeout: 120_000 }, async () => {
  await fx.ds.create({
    apiVersion: 'projectcalico.org/v3',
    kind: 'Node',
    metadata: { name: NODE, labels: { vx: 'yes' } },
    spec: { bgp: { ipv4Address: '10.88.0.1/24' } },
  });
  // A resync far longer than the test: only the pool watch can drive the first two steps.
  const first = await startController(3_600_000);
  assert.equal(first.v4, undefined, 'no VXLAN pool yet: no address');

  await fx.ds.create(pool('tc-vx', '10.89.0.0/16', { nodeSelector: 'vx == "yes"' }));
  const got = await passUntil((r) => r.v4 !== undefined, 'an IPv4 tunnel address');
  assert.match(got.v4!, /^10\.89\./);
  assert.equal(await nodeTunnel(), got.v4);
  const held = await new ipam.IpamClient(fx.ds).ipsByHandle(`vxlan-tunnel-addr-${NODE}`);
  assert.deepEqual(
    held.map((a) => a.address),
    [got.v4],
  );

  // VXLAN off on the pool: the address is released and the Node forgets it.
  const p = await fx.ds.get({ kind: 'IPPool', name: 'tc-vx' });
  await fx.ds.update({ ...p, spec: { ...(p.spec as object), vxlanMode: 'Never' } });
  await passUntil((r) => r.v4 === undefined, 'the address released');
  assert.equal(await nodeTunnel(), undefined);
  assert.deepEqual(await new ipam.IpamClient(fx.ds).ipsByHandle(`vxlan-tunnel-addr-${NODE}`), []);
  assert.ok(
    passes.every((x) => !(x instanceof Error)),
    'no pass failed',
  );
  await controller?.stop();
});

test('a label change is seen on the resync: a pool that stops selecting the node gives its address up', { timeout: 120_000 }, async () => {
  passes.length = 0;
  await fx.ds.create(pool('tc-vx2', '10.90.0.0/16', { nodeSelector: 'vx == "yes"' }));
  const first = await startController(300);
  assert.match(first.v4 ?? '', /^10\.90\./);
  const n = await fx.ds.get({ kind: 'Node', name: NODE });
  await fx.ds.update({ ...n, metadata: { ...n.metadata, labels: { vx: 'no' } } });
  await passUntil((r) => r.v4 === undefined, 'the address given up');
  assert.equal(await nodeTunnel(), undefined);
  await controller?.stop();
  const after = passes.length;
  // Stopped: no pass runs any more, even on a pool change.
  await fx.ds.create(pool('tc-vx3', '10.91.0.0/16'));
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(passes.length, after);
});
