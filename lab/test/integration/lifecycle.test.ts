// The lab's lifecycle with real processes and namespaces, through the library and the CLI
// (`cattail lab status|probe -o json` shapes, and `probe --external`: NAT outgoing seen from a
// host outside the pool): `up` on a running lab changes nothing;
// `up` after a process died starts only that one again (same ports, same etcd data); `down`
// after a "crash" that lost the state file still finds every namespace (by prefix) and every
// process (by the lab's environment marker) and removes them all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Lab, findLabProcesses, isOurs, requireTools, REQUIRED_TOOLS, run, statePath } from '../../src/index.js';
import { listNamespaces } from '../../src/fabric.js';
import { diagnose, matrixBecomes, startLab } from './harness.js';

const CATTAIL = fileURLToPath(new URL('../../../../cli/bin/cattail.js', import.meta.url));

test('up is idempotent, restarts what died, and down cleans up without a state file', { timeout: 420_000 }, async (t) => {
  requireTools(REQUIRED_TOOLS);
  const lab = await startLab(t, { nodes: 2, podsPerNode: 1, mode: 'bgp' });
  const prefix = lab.names.prefix;
  await diagnose(lab, async () => {
    await matrixBecomes(lab, () => true, 'full reachability', 30_000);
    // The CLI on the running lab: the JSON shapes the issue names.
    const cli = (...args: string[]) => run(process.execPath, [CATTAIL, 'lab', ...args, '--name', lab.names.id, '--dir', lab.dir], { timeoutMs: 60_000 });
    const status = JSON.parse(await cli('status', '-o', 'json')) as {
      nodes: Array<{ name: string; bgpSessions: Array<{ peer: string; state: string }>; routes: unknown[]; endpoints: unknown[] }>;
    };
    assert.deepEqual(
      status.nodes.map((n) => n.name),
      ['node-1', 'node-2'],
    );
    for (const n of status.nodes) {
      assert.deepEqual(
        n.bgpSessions.map((b) => Object.keys(b).sort()),
        [['peer', 'state']],
      );
      assert.equal(n.bgpSessions[0].state, 'Established');
      assert.ok(Array.isArray(n.routes) && n.routes.length > 0);
      assert.equal(n.endpoints.length, 1);
    }
    const probed = JSON.parse(await cli('probe', '-o', 'json')) as { results: Array<{ from: string; to: string; reachable: boolean }> };
    assert.deepEqual(probed.results.map((r) => [r.from, r.to, r.reachable]).sort(), [
      ['frontend/web-1-1', 'frontend/web-2-1', true],
      ['frontend/web-2-1', 'frontend/web-1-1', true],
    ]);
    assert.match(await cli('probe'), /2\/2 reachable/);
    // The external host, outside every pool: the lab's pool has natOutgoing, so each pod's echo
    // arrives with its node's fabric address as the source.
    const ext = JSON.parse(await cli('probe', '--external', '-o', 'json')) as {
      external: { address: string; results: Array<{ from: string; reachable: boolean; sourceSeen: string | null }> };
    };
    assert.equal(ext.external.address, lab.names.externalAddress);
    const nodeAddress = (p: string) => lab.state!.nodes.find((n) => n.name === lab.state!.pods.find((x) => `${x.namespace}/${x.name}` === p)?.node)?.address;
    assert.deepEqual(
      ext.external.results.map((r) => [r.from, r.reachable, r.sourceSeen]),
      ext.external.results.map((r) => [r.from, true, nodeAddress(r.from)]),
    );
    assert.equal(ext.external.results.length, 2);
    assert.match(await cli('probe', '--external'), /2\/2 reachable/);
    assert.match(await cli('status'), /bgp: 172\.31\.\d+\.2 Established/);

    const pids = Object.fromEntries(Object.entries(lab.state!.processes).map(([role, r]) => [role, r.pid]));
    assert.deepEqual(Object.keys(pids).sort(), [
      'bird/node-1',
      'bird/node-2',
      'confd/node-1',
      'confd/node-2',
      'etcd',
      'felix/node-1',
      'felix/node-2',
      'relay/node-1',
      'relay/node-2',
      'typha-1',
      'typha-2',
    ]);
    const podIps = lab.state!.pods.map((p) => p.ip);

    // Again: nothing restarted, no pod re-added.
    await lab.up({ nodes: 2, podsPerNode: 1, mode: 'bgp' });
    assert.deepEqual(Object.fromEntries(Object.entries(lab.state!.processes).map(([role, r]) => [role, r.pid])), pids);
    assert.deepEqual(
      lab.state!.pods.map((p) => p.ip),
      podIps,
    );

    // A mode change on a running lab is refused, not half-done.
    await assert.rejects(lab.up({ nodes: 2, podsPerNode: 1, mode: 'vxlan' }), /runs in bgp mode/);

    // Felix on node-2 crashes: up starts exactly that one again, and the pods still reach each other.
    const felix2 = lab.state!.processes['felix/node-2'];
    process.kill(felix2.pid, 'SIGKILL');
    await matrixBecomes(lab, () => true, 'reachability without Felix (the dataplane stays)', 5_000);
    await lab.up({ nodes: 2, podsPerNode: 1, mode: 'bgp' });
    assert.notEqual(lab.state!.processes['felix/node-2'].pid, felix2.pid);
    assert.ok(isOurs(prefix, lab.state!.processes['felix/node-2']));
    for (const [role, pid] of Object.entries(pids)) if (role !== 'felix/node-2') assert.equal(lab.state!.processes[role].pid, pid, `${role} was restarted`);
    await matrixBecomes(lab, () => true, 'reachability after the restart', 10_000);
  });

  // The "crash": the state file is gone. A fresh Lab for the same name still removes everything.
  assert.ok(findLabProcesses(prefix).length >= 11, 'the lab runs its processes');
  rmSync(statePath(lab.dir));
  const again = new Lab({ id: lab.names.id, dir: lab.dir });
  assert.equal(again.state, undefined);
  const report = await again.down();
  assert.ok(report.namespaces.length >= 5, `namespaces deleted: ${report.namespaces.join(', ')}`);
  assert.deepEqual(
    (await listNamespaces()).filter((ns) => lab.names.owns(ns)),
    [],
  );
  assert.deepEqual(
    findLabProcesses(prefix).map((p) => `${p.pid} ${p.role}`),
    [],
  );
});
