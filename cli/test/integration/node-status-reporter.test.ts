/**
 * The CalicoNodeStatus reporter against two real BIRD 2 daemons, each in a network namespace this
 * file creates, peering over a veth between them (no kernel protocol), and a real etcd: a request for this
 * node gets its Agent, BGP and Routes status; one for another node, or with period 0, is not
 * touched; a request answered recently waits its period; with BIRD down the status is written
 * without the classes BIRD could not give. Every BIRD is our child, ended by its own handle.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { sharedEtcd, until } from '@cattail/datastore/testing';
import { createNetns, deleteNetns, requireNetnsTools, run, uniquePrefix } from '@cattail/felix/testing';
import { birdCommand } from '../../src/bird-status.js';
import { NodeStatusReporter } from '../../src/node-status-reporter.js';

const fx = sharedEtcd({ wipe: '/calico/' });
let dir = '';
const birds: ChildProcess[] = [];
const prefix = uniquePrefix('cns');
const nsA = `${prefix}-a`;
const nsB = `${prefix}-b`;

const socketA = (): string => join(dir, 'a.ctl');

before(async () => {
  await requireNetnsTools();
  dir = await mkdtemp(join(tmpdir(), 'cattail-cns-'));
  await createNetns(nsA);
  await createNetns(nsB);
  await run('ip', ['-n', nsA, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', nsB]);
  for (const [ns, addr] of [
    [nsA, '10.200.0.1/24'],
    [nsB, '10.200.0.2/24'],
  ]) {
    await run('ip', ['-n', ns, 'addr', 'add', addr, 'dev', 'eth0']);
    await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  }
  const conf = (id: string, local: string, peer: string, block: string) => `router id ${id};
protocol device { }
protocol direct { ipv4; interface "eth0"; }
protocol bgp Mesh_${peer.replace(/\./g, '_')} {
  local ${local} as 64512;
  neighbor ${peer} as 64512;
  direct;
  ipv4 { import all; export all; next hop self; };
}
protocol static lab_blocks { ipv4; route ${block} blackhole; }
`;
  await writeFile(join(dir, 'a.conf'), conf('10.200.0.1', '10.200.0.1', '10.200.0.2', '10.66.1.0/26'));
  await writeFile(join(dir, 'b.conf'), conf('10.200.0.2', '10.200.0.2', '10.200.0.1', '10.66.2.0/26'));
  for (const [n, ns] of [
    ['a', nsA],
    ['b', nsB],
  ]) {
    birds.push(spawn('ip', ['netns', 'exec', ns, 'bird', '-f', '-c', join(dir, `${n}.conf`), '-s', join(dir, `${n}.ctl`)], { stdio: 'ignore' }));
  }
  await until(
    async () => (await birdCommand(socketA(), 'show protocols').catch(() => [])).some((l) => /Mesh_.*Established/.test(l)),
    'the two BIRDs Established',
    30_000,
  );
});

after(async () => {
  for (const b of birds) {
    if (b.exitCode === null && b.signalCode === null) {
      b.kill('SIGTERM');
      await once(b, 'exit');
    }
  }
  await deleteNetns(nsA);
  await deleteNetns(nsB);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const request = (name: string, node: string, updatePeriodSeconds: number, classes = ['Agent', 'BGP', 'Routes']) =>
  fx.ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'CalicoNodeStatus', metadata: { name }, spec: { node, classes, updatePeriodSeconds } });

function reporter(now = () => new Date()): NodeStatusReporter {
  return new NodeStatusReporter({ ds: fx.ds, nodeName: 'node-a', birdSocket: socketA(), logger: pino({ level: 'silent' }), now });
}

test('a request for this node is answered from BIRD: agent, BGP sessions and routes', async () => {
  await request('mine', 'node-a', 10);
  await request('theirs', 'node-b', 10);
  await request('never', 'node-a', 0);
  assert.deepEqual(await reporter().tick(), ['mine']);

  const status = (await fx.ds.get({ kind: 'CalicoNodeStatus', name: 'mine' })).status as Record<string, any>;
  assert.match(status.lastUpdated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(status.agent.birdV4.state, 'Ready');
  assert.equal(status.agent.birdV4.routerID, '10.200.0.1');
  assert.match(status.agent.birdV4.version, /^2\./);
  assert.ok(status.agent.birdV4.lastBootTime);
  assert.equal(status.agent.birdV6, undefined, 'no IPv6 sessions');
  assert.equal(status.bgp.numberEstablishedV4, 1);
  assert.equal(status.bgp.numberNotEstablishedV4, 0);
  assert.deepEqual(
    status.bgp.peersV4.map((p: any) => [p.peerIP, p.type, p.state]),
    [['10.200.0.2', 'NodeMesh', 'Established']],
  );
  const routes = status.routes.routesV4 as any[];
  const own = routes.find((r) => r.destination === '10.66.1.0/26');
  assert.deepEqual(own, { type: 'FIB', destination: '10.66.1.0/26', learnedFrom: { sourceType: 'Static' } });
  const learned = routes.find((r) => r.destination === '10.66.2.0/26');
  assert.ok(learned, JSON.stringify(routes));
  assert.deepEqual(learned, {
    type: 'FIB',
    destination: '10.66.2.0/26',
    gateway: '10.200.0.2',
    interface: 'eth0',
    learnedFrom: { sourceType: 'NodeMesh', peerIP: '10.200.0.2' },
  });
  assert.ok(
    routes.some((r) => r.destination === '10.200.0.0/24' && r.learnedFrom.sourceType === 'Direct' && r.interface === 'eth0'),
    JSON.stringify(routes),
  );

  for (const other of ['theirs', 'never']) assert.equal((await fx.ds.get({ kind: 'CalicoNodeStatus', name: other })).status, undefined, other);
});

test('a request answered within its period waits; after it, it is answered again', async () => {
  await request('mine', 'node-a', 30, ['Agent']);
  let now = new Date('2026-12-04T10:00:00Z');
  const r = reporter(() => now);
  assert.deepEqual(await r.tick(), ['mine']);
  now = new Date('2026-12-04T10:00:20Z');
  assert.deepEqual(await r.tick(), []);
  now = new Date('2026-12-04T10:00:31Z');
  assert.deepEqual(await r.tick(), ['mine']);
  const status = (await fx.ds.get({ kind: 'CalicoNodeStatus', name: 'mine' })).status as Record<string, unknown>;
  assert.equal(status.lastUpdated, '2026-12-04T10:00:31Z');
  assert.equal(status.bgp, undefined, 'only the classes asked for');
});

test('with BIRD down the status is written without what BIRD could not give', async () => {
  await request('mine', 'node-a', 5, ['Agent', 'BGP']);
  const down = new NodeStatusReporter({ ds: fx.ds, nodeName: 'node-a', birdSocket: join(dir, 'absent.ctl'), logger: pino({ level: 'silent' }) });
  assert.deepEqual(await down.tick(), ['mine']);
  const status = (await fx.ds.get({ kind: 'CalicoNodeStatus', name: 'mine' })).status as Record<string, unknown>;
  assert.ok(status.lastUpdated);
  assert.equal(status.agent, undefined);
  assert.equal(status.bgp, undefined);
});
