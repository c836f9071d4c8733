// The agent against one real BIRD in a namespace: a first file written before BIRD runs is
// reloaded once BIRD answers, a change is applied with `birdc configure` (same pid), and when
// BIRD itself refuses a file (here the bird -p step is bypassed on purpose, standing for a
// check that disagrees with the running BIRD) the last good file is put back and BIRD keeps
// running its configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfdAgent, birdCommands, type BirdControl } from '../../src/index.js';
import { requireBinary } from '../helpers/binaries.js';
import { FakeClock } from '@cattail/typha/testing';
import { bgpUpdates, block, node, peer, pool } from '../helpers/resources.js';
import { BirdProcess } from './harness/bird.js';
import { Cleanup, until } from '@cattail/datastore/testing';
import { Fabric, requireRoot, routes } from './harness/netns.js';

test('reload through birdc: applied in place, and a file BIRD refuses is rolled back', { timeout: 30_000 }, async (t) => {
  requireRoot();
  const cleanup = new Cleanup();
  t.after(() => cleanup.run());
  const dir = mkdtempSync(join(tmpdir(), 'ctcd-reload-'));
  cleanup.add('temp dir', () => rmSync(dir, { recursive: true, force: true }));
  const fabric = await Fabric.create();
  cleanup.add('namespaces', () => fabric.destroy());
  const net = await fabric.addNode(1);

  const file = join(dir, 'bird.cfg');
  const socket = join(dir, 'bird.ctl');
  const real = birdCommands({ bird: requireBinary('bird'), birdc: requireBinary('birdc'), socket, timeoutMs: 5_000 });
  let skipCheck = false;
  const bird: BirdControl = { check: (f) => (skipCheck ? Promise.resolve() : real.check(f)), configure: () => real.configure() };
  // A clock nobody advances: the agent's own timers never fire, every pass is a reconcileNow().
  const agent = new ConfdAgent({ nodeName: 'node-1', configFile: file, bird, clock: new FakeClock(1_000), reconcileIntervalMs: 0 });
  cleanup.add('agent', () => agent.close());
  await agent.start();
  const base = [node('node-1', { ipv4: net.cidr }), pool('p', '10.68.0.0/16'), block('10.68.1.0/26', 'node-1')];
  agent.onUpdates(bgpUpdates(base), 1);
  agent.onStatus('in-sync', { revision: 1 });

  // No BIRD yet: the file is written and the reload waits.
  assert.equal(await agent.reconcileNow(), 'failed');
  assert.equal(agent.status().lastError?.code, 'CONFD_BIRD_UNREACHABLE');
  assert.equal(agent.status().config.reloadPending, true);

  const b = await BirdProcess.start(net.ns, file, socket);
  cleanup.add('BIRD', () => b.stop());
  assert.equal(await agent.reconcileNow(), 'reloaded');
  assert.equal(agent.ready, true);
  const blackhole = async (cidr: string) => (await routes(net.ns)).some((r) => r.dst === cidr && r.type === 'blackhole');
  await until(() => blackhole('10.68.1.0/26'), 'the blackhole for 10.68.1.0/26', 5_000);

  // A second block: a new file, birdc configure, same BIRD.
  agent.onUpdates(bgpUpdates([block('10.68.2.0/26', 'node-1')], 2), 2);
  assert.equal(await agent.reconcileNow(), 'installed');
  await until(() => blackhole('10.68.2.0/26'), 'the blackhole for 10.68.2.0/26', 5_000);
  const good = readFileSync(file, 'utf8');
  const pid = b.pid;

  // BIRD refuses the next file: it is replaced by the good one again, BIRD runs on.
  skipCheck = true;
  agent.onUpdates(bgpUpdates([peer('bad', { peerIP: '192.0.2.1', asNumber: 65001, keepaliveTime: '1h' })], 3), 3);
  assert.equal(await agent.reconcileNow(), 'failed');
  const st = agent.status();
  assert.equal(st.lastError?.code, 'CONFD_RELOAD_REJECTED');
  assert.match(st.lastError?.message ?? '', /^BIRD refused to reconfigure: 8\d{3} .*Keepalive time must be at most hold time/);
  assert.equal(readFileSync(file, 'utf8'), good);
  assert.equal(st.config.reloadPending, false);
  assert.ok(b.alive);
  assert.equal(b.pid, pid);
  assert.ok(await blackhole('10.68.2.0/26'), 'BIRD lost its routes');
  assert.equal((await b.protocols()).has('Global_192_0_2_1'), false);
});
