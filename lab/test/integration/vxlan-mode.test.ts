// The lab in VXLAN mode: the pool has vxlanMode Always, so Felix carries every remote block
// through the `vxlan.calico` device to the owner's VTEP (no BIRD, as calico/node's vxlan
// backend). Pods on different nodes reach each other over the kernel's VXLAN; a GlobalNetworkPolicy
// with a namespaceSelector blocks frontend → backend within 2 s and nothing else; deleting it
// restores the matrix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireTools, REQUIRED_TOOLS } from '../../src/index.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { apply, BACKEND_FROM_FRONTEND, frontToBack, diagnose, matrixBecomes, pingBecomes, pod, pods, startLab } from './harness.js';

async function linkMtu(netns: string, dev: string): Promise<number> {
  const { stdout } = await promisify(execFile)('ip', ['-n', netns, '-json', 'link', 'show', dev]);
  return (JSON.parse(stdout) as Array<{ mtu: number }>)[0].mtu;
}

test('VXLAN mode: routes through vxlan.calico, reachability, a namespaceSelector deny and its removal', { timeout: 420_000 }, async (t) => {
  requireTools(REQUIRED_TOOLS);
  const lab = await startLab(t, { nodes: 3, podsPerNode: 2, mode: 'vxlan' });
  await diagnose(lab, async () => {
    assert.equal(pods(lab).length, 6);
    // up waited for routing: every node routes each block affine to the other (its VTEP).
    const affinities = (await lab.datastore().list('BlockAffinity')).items.map((a) => (a.spec as { node: string }).node).sort();
    assert.deepEqual([...new Set(affinities)], ['node-1', 'node-2', 'node-3']);
    assert.equal(await lab.routesConverged(), undefined);
    await matrixBecomes(lab, () => true, 'full reachability over VXLAN', 30_000);

    const status = await lab.status();
    for (const n of status.nodes) {
      assert.deepEqual(n.bgpSessions, [], `${n.name}: no BIRD in VXLAN mode`);
      const remote = n.routes.filter((r) => r.dev === 'vxlan.calico' && r.protocol === '80');
      assert.ok(remote.length >= 2, `${n.name}: not a route through vxlan.calico per other node: ${JSON.stringify(n.routes)}`);
      for (const r of remote) assert.ok(r.gateway, `${n.name}: ${r.dst} has no VTEP next hop`);
      for (const other of lab.state!.nodes.filter((o) => o.name !== n.name)) {
        assert.ok(
          remote.some((r) => r.gateway === other.vxlanTunnelAddr),
          `${n.name}: no route via ${other.name}'s VTEP ${other.vxlanTunnelAddr}: ${JSON.stringify(remote)}`,
        );
      }
    }

    // MTU: each node's Felix writes uplink (1500) less VXLAN's 50 to its MTU file; the CNI plugin
    // gave every pod that, and the VXLAN device has it too.
    for (const p of pods(lab)) assert.equal(await linkMtu(p.netns, 'eth0'), 1450, `${p.namespace}/${p.name} eth0`);
    for (const n of lab.state!.nodes) assert.equal(await linkMtu(n.netns, 'vxlan.calico'), 1450, `${n.name} vxlan.calico`);

    const web = pod(lab, 'web-1-1');
    const db = pod(lab, 'db-3-2');
    const written = Date.now();
    await apply(lab, BACKEND_FROM_FRONTEND);
    const took = await pingBecomes(web, db, false, written, 2_000);
    t.diagnostic(`deny enforced across VXLAN ${took} ms after the write`);
    await matrixBecomes(lab, frontToBack, 'frontend → backend blocked, all else open', 5_000);

    await lab.datastore().delete({ kind: 'GlobalNetworkPolicy', name: 'backend-from-frontend' });
    await matrixBecomes(lab, () => true, 'full reachability after the delete', 5_000);
  });
});
