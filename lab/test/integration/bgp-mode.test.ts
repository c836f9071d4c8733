// The lab in BGP mode, all real: three nodes (BIRD mesh over the fabric bridge, Felix
// programming each node namespace, confd rendering BIRD's config, two Typhas, one etcd) and two
// pods per node wired by the CNI plugin. Every pod reaches every other; a NetworkPolicy denying
// ICMP into one pod is enforced within 2 s of the write and blocks nothing else; deleting it
// restores the full matrix; a GlobalNetworkPolicy with a namespaceSelector blocks frontend →
// backend only, as in Calico; a fourth node joins the running lab: the mesh, routes and the
// policy follow it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireTools, REQUIRED_TOOLS, until } from '../../src/index.js';
import { apply, BACKEND_FROM_FRONTEND, frontToBack, diagnose, key, matrixBecomes, pingBecomes, pod, pods, startLab, V3 } from './harness.js';

const all = () => true;

test('BGP mode: mesh, reachability, a deny policy within 2 s, namespaceSelector, a node added', { timeout: 420_000 }, async (t) => {
  requireTools(REQUIRED_TOOLS);
  const lab = await startLab(t, { nodes: 3, podsPerNode: 2, mode: 'bgp' });
  await diagnose(lab, async () => {
    // Mesh: each node has one Established session to each other node's fabric address.
    const status = await lab.status();
    assert.equal(status.nodes.length, 3);
    for (const n of status.nodes) {
      const others = status.nodes
        .filter((o) => o !== n)
        .map((o) => o.address)
        .sort();
      assert.deepEqual(n.bgpSessions.map((s) => s.peer).sort(), others, `${n.name}: sessions ${JSON.stringify(n.bgpSessions)}`);
      for (const s of n.bgpSessions) assert.equal(s.state, 'Established', `${n.name} → ${s.peer}`);
      assert.equal(n.endpoints.length, 2, `${n.name}: endpoints ${JSON.stringify(n.endpoints)}`);
      assert.equal(n.typha?.connected, true, `${n.name}: Felix is not connected to Typha`);
    }

    // Every pod reaches every other (BIRD carried each node's block to the others).
    assert.equal(pods(lab).length, 6);
    await matrixBecomes(lab, all, 'full reachability', 30_000);
    const routed = await lab.status();
    for (const n of routed.nodes) {
      const own = n.routes.filter((r) => r.type === 'blackhole').map((r) => r.dst);
      assert.ok(own.length >= 1, `${n.name} has no blackhole for its own block: ${JSON.stringify(n.routes)}`);
      for (const o of routed.nodes.filter((x) => x !== n)) {
        for (const block of o.routes.filter((r) => r.type === 'blackhole').map((r) => r.dst)) {
          const r = n.routes.find((x) => x.dst === block);
          assert.equal(r?.gateway, o.address, `${n.name}: ${block} should go via ${o.name} (${o.address}), got ${JSON.stringify(r)}`);
          assert.equal(r?.protocol, 'bird');
        }
      }
    }

    // A NetworkPolicy denying ICMP into web-2-1 only: enforced within 2 s of the write, nothing else blocked.
    const target = pod(lab, 'web-2-1');
    const from = pod(lab, 'web-1-1');
    const denied = (_f: string, to: string) => to !== key(target);
    const written = Date.now();
    await apply(lab, {
      apiVersion: V3,
      kind: 'NetworkPolicy',
      metadata: { name: 'deny-icmp-web-2-1', namespace: 'frontend' },
      spec: { selector: "pod == 'web-2-1'", types: ['Ingress'], ingress: [{ action: 'Deny', protocol: 'ICMP' }, { action: 'Allow' }] },
    });
    const took = await pingBecomes(from, target, false, written, 2_000);
    assert.ok(took <= 2_000, `enforced after ${took} ms`);
    t.diagnostic(`deny enforced ${took} ms after the write`);
    await matrixBecomes(lab, denied, 'only traffic into web-2-1 blocked', 5_000);

    // Deleting it restores everything.
    const deleted = Date.now();
    await lab.datastore().delete({ kind: 'NetworkPolicy', namespace: 'frontend', name: 'deny-icmp-web-2-1' });
    await pingBecomes(from, target, true, deleted, 5_000);
    await matrixBecomes(lab, all, 'full reachability after the delete', 5_000);

    await apply(lab, BACKEND_FROM_FRONTEND);
    await matrixBecomes(lab, frontToBack, 'frontend → backend blocked, all else open', 5_000);

    // A fourth node joins the running lab: sessions to all three, its pods reach and are reached,
    // and the global policy already applies to its endpoints.
    const node4 = await lab.addNode();
    assert.equal(node4.name, 'node-4');
    const after = await lab.status();
    for (const n of after.nodes) {
      assert.equal(n.bgpSessions.length, 3, `${n.name}: ${JSON.stringify(n.bgpSessions)}`);
      for (const s of n.bgpSessions) assert.equal(s.state, 'Established', `${n.name} → ${s.peer}`);
    }
    // Its block reaches the others through it (BIRD learned it; nothing was restarted for it).
    let seen = '';
    await until(
      async () => {
        const st = await lab.status();
        const own4 = st.nodes
          .find((n) => n.name === 'node-4')!
          .routes.filter((r) => r.type === 'blackhole')
          .map((r) => r.dst);
        const missing = st.nodes
          .filter((n) => n.name !== 'node-4')
          .flatMap((n) =>
            own4.filter((b) => n.routes.find((r) => r.dst === b)?.gateway !== node4.address).map((b) => `${n.name} lacks ${b} via ${node4.address}`),
          );
        seen = own4.length ? missing.join(', ') : 'node-4 has no block yet';
        return own4.length > 0 && missing.length === 0;
      },
      "node-4's block routed via node-4 on every other node",
      15_000,
      () => seen,
    );
    assert.equal(pods(lab).length, 8);
    const newPods = pods(lab)
      .filter((p) => p.node === 'node-4')
      .map(key);
    assert.equal(newPods.length, 2);
    await matrixBecomes(lab, frontToBack, 'node-4 pods under the same policy', 30_000, { from: newPods });
    await matrixBecomes(lab, frontToBack, 'pods reaching node-4 under the same policy', 10_000, { to: newPods });
  });
});
