// confd + real BIRD 2 in network namespaces, fed by real etcd through real Typha: the
// node-to-node mesh comes up, every node's blocks reach the others via the owner's fabric
// address, a node added later joins the mesh by reconfiguring the running BIRDs (same pids),
// and a BGPPeer that BIRD refuses leaves the running sessions and the live file alone while
// /status and /metrics report it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { block, node, peer, pool, affinity } from '../helpers/resources.js';
import { Cleanup, until } from '@cattail/datastore/testing';
import { ControlPlane, httpGet, type ConfdNode } from './harness/cluster.js';
import { Fabric, requireRoot, routes, type NodeNs } from './harness/netns.js';

const POOL = '10.66.0.0/16';
const blockOf = (i: number) => `10.66.${i}.0/26`;

/** Every session of `n` is Established, and there are `count` of them. */
async function meshUp(n: ConfdNode, count: number): Promise<boolean> {
  const sessions = await n.bird!.bgpSessions();
  return sessions.size === count && [...sessions.values()].every((s) => s === 'Established');
}

/** `n`'s kernel has a route to each other node's block via that node's fabric address, and a blackhole for its own. */
async function routesOk(n: ConfdNode, all: readonly { index: number; net: NodeNs }[], own: number): Promise<string | undefined> {
  const table = await routes(n.net.ns);
  for (const o of all) {
    const r = table.find((x) => x.dst === blockOf(o.index));
    if (o.index === own) {
      if (r?.type !== 'blackhole') return `${n.name}: no blackhole for its own block ${blockOf(o.index)}`;
    } else if (r?.gateway !== o.net.address || r.dev !== 'eth0') {
      return `${n.name}: ${blockOf(o.index)} should go via ${o.net.address} dev eth0, got ${JSON.stringify(r)}`;
    }
  }
  return undefined;
}

/** Waits until `problem()` finds nothing; on timeout, says what it last found. */
async function settled(problem: () => Promise<string | undefined>, what: string): Promise<void> {
  let last: string | undefined;
  await until(
    async () => (last = await problem()) === undefined,
    () => `${what}: ${last}`,
    15_000,
  );
}

test('mesh of two, then three nodes; a bad peer never reaches BIRD', { timeout: 90_000 }, async (t) => {
  requireRoot();
  const cleanup = new Cleanup();
  t.after(() => cleanup.run());
  const root = mkdtempSync(join(tmpdir(), 'ctcd-mesh-'));
  cleanup.add('temp dir', () => rmSync(root, { recursive: true, force: true }));
  const fabric = await Fabric.create();
  cleanup.add('namespaces', () => fabric.destroy());
  const cp = await ControlPlane.start(cleanup);

  const nets = [await fabric.addNode(1), await fabric.addNode(2)];
  await cp.create(pool('pool-a', POOL));
  for (const [i, net] of nets.entries()) {
    const name = `node-${i + 1}`;
    await cp.create(node(name, { ipv4: net.cidr }), block(blockOf(i + 1), name), affinity(name, blockOf(i + 1)));
  }
  const nodes: ConfdNode[] = [];
  for (const [i, net] of nets.entries()) nodes.push(await cp.startConfd(`node-${i + 1}`, net, root));
  for (const n of nodes) await cp.startBird(n);

  // Two nodes: one session each, Established; blocks cross over.
  await until(async () => (await Promise.all(nodes.map((n) => meshUp(n, 1)))).every(Boolean), 'a two-node mesh to be Established', 20_000);
  const two = [
    { index: 1, net: nets[0] },
    { index: 2, net: nets[1] },
  ];
  for (const [i, n] of nodes.entries()) await settled(() => routesOk(n, two, i + 1), `routes on ${n.name}`);
  const pids = nodes.map((n) => n.bird!.pid);
  const reloadsBefore = nodes.map((n) => n.confd.agent.status().counters.reloads);
  // Exactly one side of the mesh connects: the lower address is passive.
  assert.match(readFileSync(nodes[0].configFile, 'utf8'), /neighbor 172\.31\.\d+\.2 as 64512;\n {2}passive on;/);
  assert.doesNotMatch(readFileSync(nodes[1].configFile, 'utf8'), /passive on/);

  // A third node joins: the running BIRDs are reconfigured, not restarted.
  const net3 = await fabric.addNode(3);
  await cp.create(node('node-3', { ipv4: net3.cidr }), block(blockOf(3), 'node-3'), affinity('node-3', blockOf(3)));
  const n3 = await cp.startConfd('node-3', net3, root);
  await cp.startBird(n3);
  nodes.push(n3);
  await until(async () => (await Promise.all(nodes.map((n) => meshUp(n, 2)))).every(Boolean), 'a three-node mesh to be Established', 25_000);
  const three = [...two, { index: 3, net: net3 }];
  for (const [i, n] of nodes.entries()) await settled(() => routesOk(n, three, i + 1), `routes on ${n.name}`);
  for (const [i, n] of nodes.slice(0, 2).entries()) {
    assert.equal(n.bird!.pid, pids[i], `${n.name}: BIRD was restarted`);
    assert.ok(n.bird!.alive, `${n.name}: BIRD is not running`);
    assert.ok(n.confd.agent.status().counters.reloads > reloadsBefore[i], `${n.name}: no birdc configure after node-3 joined`);
    assert.match(readFileSync(n.configFile, 'utf8'), new RegExp(`neighbor ${net3.address.replace(/\./g, '\\.')} as 64512;`));
  }

  // A peer that passes validation but that BIRD refuses (keepalive above the 240 s hold time).
  const goodText = readFileSync(nodes[0].configFile, 'utf8');
  const checkFailures = nodes[0].confd.agent.status().counters.failures.check;
  await cp.create(peer('bad-tor', { peerIP: '192.0.2.1', asNumber: 65001, keepaliveTime: '1h' }));
  const failed = await until(
    () => {
      const s = nodes[0].confd.agent.status();
      return s.lastError?.stage === 'check' ? s : undefined;
    },
    'confd on node-1 to report the refused candidate',
    10_000,
  );
  assert.equal(failed.lastError?.code, 'CONFD_CHECK_FAILED');
  assert.match(failed.lastError?.message ?? '', /Keepalive time must be at most hold time/);
  assert.equal(failed.counters.failures.check, checkFailures + 1);
  assert.equal(readFileSync(nodes[0].configFile, 'utf8'), goodText, 'the live file changed');
  for (const n of nodes) assert.ok(await meshUp(n, 2), `${n.name}: sessions broke after the bad peer`);
  assert.equal(await routesOk(nodes[0], three, 1), undefined);

  const status = await httpGet(nodes[0].ports.healthPort, '/status');
  assert.equal(status.status, 200);
  assert.equal(JSON.parse(status.body).lastError.stage, 'check');
  const metrics = await httpGet(nodes[0].ports.metricsPort, '/metrics');
  assert.match(metrics.body, /^confd_config_failures_total\{stage="check"\} [1-9]/m);
  assert.match(metrics.body, /^confd_config_ok 0$/m);
  assert.equal((await httpGet(nodes[0].ports.healthPort, '/readiness')).status, 200, 'BIRD still runs a good configuration of ours');
  // The same refused text is not checked again on every periodic reconcile.
  const checksSoFar = nodes[0].confd.agent.status().counters.failures.check;
  await nodes[0].confd.agent.reconcileNow();
  assert.equal(nodes[0].confd.agent.status().counters.failures.check, checksSoFar);

  // Removing the bad peer clears the error.
  await cp.ds.delete({ kind: 'BGPPeer', name: 'bad-tor' });
  await until(() => nodes.every((n) => n.confd.agent.status().lastError === undefined), 'every confd to recover', 10_000);
  assert.match((await httpGet(nodes[0].ports.metricsPort, '/metrics')).body, /^confd_config_ok 1$/m);
  for (const n of nodes) assert.ok(await meshUp(n, 2), `${n.name}: sessions after recovery`);
});
