// A route-reflector topology with real BIRD 2 in network namespaces: the mesh is off, one node
// carries routeReflectorClusterID, and one BGPPeer (every node ↔ nodes labelled
// route-reflector) gives each client a session to the reflector and, in reverse, the reflector
// a session to each client. Clients have no session with each other yet learn each other's
// blocks, via the owner's address (the reflector passes next hops on unchanged).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { affinity, bgpConfig, block, node, peer, pool } from '../helpers/resources.js';
import { Cleanup, until } from '@cattail/datastore/testing';
import { ControlPlane, type ConfdNode } from './harness/cluster.js';
import { Fabric, requireRoot, routes } from './harness/netns.js';

const blockOf = (i: number) => `10.67.${i}.0/26`;

test('route reflector: clients peer only with the reflector and learn each other’s blocks', { timeout: 60_000 }, async (t) => {
  requireRoot();
  const cleanup = new Cleanup();
  t.after(() => cleanup.run());
  const root = mkdtempSync(join(tmpdir(), 'ctcd-rr-'));
  cleanup.add('temp dir', () => rmSync(root, { recursive: true, force: true }));
  const fabric = await Fabric.create();
  cleanup.add('namespaces', () => fabric.destroy());
  const cp = await ControlPlane.start(cleanup);

  const nets = [await fabric.addNode(1), await fabric.addNode(2), await fabric.addNode(3)];
  const names = ['rr', 'client-a', 'client-b'];
  await cp.create(
    bgpConfig('default', { nodeToNodeMeshEnabled: false }),
    pool('pool-a', '10.67.0.0/16'),
    peer('peer-with-reflectors', { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" }),
    node('rr', { ipv4: nets[0].cidr, rr: '244.0.0.1', labels: { 'route-reflector': 'true' } }),
    node('client-a', { ipv4: nets[1].cidr }),
    node('client-b', { ipv4: nets[2].cidr }),
  );
  for (const [i, name] of names.entries()) await cp.create(block(blockOf(i + 1), name), affinity(name, blockOf(i + 1)));
  const nodes: ConfdNode[] = [];
  for (const [i, name] of names.entries()) nodes.push(await cp.startConfd(name, nets[i], root));
  for (const n of nodes) await cp.startBird(n);
  const [rr, a, b] = nodes;

  // The reflector has a session per client, each client exactly one: to the reflector.
  const established = async (n: ConfdNode, expected: string[]) => {
    const s = await n.bird!.bgpSessions();
    return [...s.keys()].sort().join() === expected.sort().join() && [...s.values()].every((v) => v === 'Established');
  };
  const proto = (i: number) => `Node_${nets[i].address.replace(/\./g, '_')}`;
  await until(
    async () => (await established(rr, [proto(1), proto(2)])) && (await established(a, [proto(0)])) && (await established(b, [proto(0)])),
    'the reflector and client sessions to be Established',
    20_000,
  ).catch(async (err: Error) => {
    const state = await Promise.all(nodes.map(async (n) => `${n.name}: ${JSON.stringify([...(await n.bird!.bgpSessions())])}`));
    throw new Error(`${err.message}; ${state.join('; ')}`);
  });
  assert.match(readFileSync(rr.configFile, 'utf8'), /rr client;\n {2}rr cluster id 244\.0\.0\.1;/);
  assert.doesNotMatch(readFileSync(a.configFile, 'utf8'), /rr client|Mesh_/);

  // Every node reaches every other node's block via the owner, not via the reflector.
  const wanted = (self: number) => [0, 1, 2].filter((j) => j !== self).map((j) => ({ dst: blockOf(j + 1), gateway: nets[j].address }));
  let last = '';
  await until(
    async () => {
      for (const [i, n] of nodes.entries()) {
        const table = await routes(n.net.ns);
        for (const w of wanted(i)) {
          const r = table.find((x) => x.dst === w.dst);
          if (r?.gateway !== w.gateway) {
            last = `${n.name}: ${w.dst} via ${r?.gateway ?? 'nothing'}, want ${w.gateway}`;
            return false;
          }
        }
        if (table.find((x) => x.dst === blockOf(i + 1))?.type !== 'blackhole') {
          last = `${n.name}: no blackhole for its own block`;
          return false;
        }
      }
      return true;
    },
    () => last,
    15_000,
  );
});
