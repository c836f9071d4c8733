// Typha replicas die under a running lab. Killing the replica the agents use moves them to the
// other one, and a ping stream between pods on two nodes loses nothing; killing both leaves the
// dataplane exactly as it was (routes, nftables, BGP sessions); starting them again brings every
// agent back in sync without a single route change in any node namespace (watched with
// `ip monitor route`), and the cluster follows changes made afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { requireTools, REQUIRED_TOOLS, run, until, type Lab } from '../../src/index.js';
import { apply, diagnose, matrixBecomes, pingBecomes, pod, startLab, V3 } from './harness.js';

/** A child we started and end by its own pid, collecting its stdout. */
function collect(args: string[]): { child: ChildProcess; out: () => string; stop: () => Promise<string> } {
  const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    out: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await exited;
      return out;
    },
  };
}

async function dataplane(lab: Lab): Promise<string> {
  const parts: string[] = [];
  for (const n of lab.state!.nodes) {
    parts.push(await run('ip', ['-n', n.netns, 'route', 'show']));
    parts.push(await run('ip', ['netns', 'exec', n.netns, 'nft', 'list', 'table', 'inet', 'cattail']));
  }
  return parts.join('\n');
}

/** Which replica (1 or 2) each node's agents are connected to, as the replicas report it. */
async function placement(lab: Lab): Promise<Map<string, number[]>> {
  const s = await lab.status();
  return new Map(s.nodes.map((n) => [n.name, n.typhaClients.filter((c) => c.state === 'live').map((c) => c.replica)]));
}

test('Typha: one replica killed, then both, then restarted: traffic never stops, routes never flap', { timeout: 420_000 }, async (t) => {
  requireTools(REQUIRED_TOOLS);
  const lab = await startLab(t, { nodes: 2, podsPerNode: 1, mode: 'bgp' });
  await diagnose(lab, async () => {
    await matrixBecomes(lab, () => true, 'full reachability', 30_000);
    const a = pod(lab, 'web-1-1');
    const b = pod(lab, 'web-2-1');

    // A steady ping stream across nodes for the whole test (5 per second).
    const stream = collect(['netns', 'exec', a.netns, 'ping', '-n', '-i', '0.2', '-W', '1', b.ip!]);
    t.after(() => stream.stop());
    await until(() => /icmp_seq=2 /.test(stream.out()), 'the ping stream to start', 5_000);

    // Each node's Felix and confd: 4 live clients in all.
    const live = () => placement(lab).then((p) => ([...p.values()].flat().length === 4 ? p : undefined));
    const before = await until(live, 'every agent live on a replica', 15_000);
    const counts = [1, 2].map((r) => [...before.values()].flat().filter((x) => x === r).length);
    const victim = counts[0] >= counts[1] ? 1 : 2;
    const survivor = 3 - victim;
    const baseline = await dataplane(lab);

    // 1. Kill the busier replica: its clients move to the survivor.
    assert.ok(await lab.killTypha(victim));
    let last = '';
    await until(
      async () => {
        const p = await placement(lab);
        last = JSON.stringify([...p]);
        return [...p.values()].flat().length === 4 && [...p.values()].flat().every((r) => r === survivor);
      },
      `every agent on typha-${survivor}`,
      20_000,
      () => last,
    );
    assert.equal(await dataplane(lab), baseline, 'the dataplane changed when one replica died');

    // 2. Kill the other: agents lose Typha, the dataplane stays exactly as it is.
    assert.ok(await lab.killTypha(survivor));
    await until(async () => (await lab.status()).nodes.every((n) => n.typha?.connected === false), 'every Felix to notice Typha is gone', 15_000);
    assert.equal(await dataplane(lab), baseline, 'the dataplane changed without Typha');
    assert.equal(await lab.meshEstablished(), undefined, 'BGP sessions dropped without Typha');

    // 3. Both replicas back on their ports: everyone resyncs, and no route moves meanwhile.
    // IPv4 only: the kernel adds IPv6 link-local routes of fresh veths on its own schedule (DAD).
    const monitors = lab.state!.nodes.map((n) => collect(['-4', '-n', n.netns, 'monitor', 'route']));
    t.after(() => Promise.all(monitors.map((m) => m.stop())));
    // Prove each monitor sees changes: a throw-away route (TEST-NET-1) added and removed.
    for (const n of lab.state!.nodes) {
      await run('ip', ['-n', n.netns, 'route', 'add', 'blackhole', '192.0.2.1/32']);
      await run('ip', ['-n', n.netns, 'route', 'del', 'blackhole', '192.0.2.1/32']);
    }
    await until(() => monitors.every((m) => (m.out().match(/192\.0\.2\.1/g) ?? []).length >= 2), 'every route monitor to report the probe route', 5_000);
    const seenBefore = monitors.map((m) => m.out().length);
    await lab.startTypha();
    await until(live, 'every agent live again', 30_000);
    await until(async () => (await lab.status()).nodes.every((n) => n.typha?.connected === true && n.typha.inSync), 'every Felix in sync again', 15_000);
    // A write after the restart is the barrier: once it is enforced, every earlier resync has been applied.
    const written = Date.now();
    await apply(lab, {
      apiVersion: V3,
      kind: 'GlobalNetworkPolicy',
      metadata: { name: 'deny-icmp-to-b' },
      spec: { selector: "pod == 'web-2-1'", types: ['Ingress'], ingress: [{ action: 'Deny', protocol: 'ICMP' }, { action: 'Allow' }] },
    });
    await pingBecomes(pod(lab, 'web-1-1'), b, false, written, 3_000);
    const routeEvents = (await Promise.all(monitors.map((m) => m.stop())))
      .map((out, i) => out.slice(seenBefore[i]))
      .join('')
      .split('\n')
      .filter((l) => l.trim() !== '' && !/ table local /.test(l))
      .join('\n');
    assert.equal(routeEvents, '', `routes changed while Typha came back:\n${routeEvents}`);

    // The ping stream ran through all of it until the policy: nothing was lost before the deny.
    const transcript = await stream.stop();
    const seqs = [...transcript.matchAll(/icmp_seq=(\d+) /g)].map((m) => Number(m[1]));
    assert.ok(seqs.length > 10, `too few replies: ${transcript.slice(-500)}`);
    const gaps = seqs
      .slice(1)
      .map((s, i) => s - seqs[i])
      .filter((d) => d !== 1);
    assert.deepEqual(gaps, [], `the ping stream lost replies before the deny: ${transcript.slice(-800)}`);

    await lab.datastore().delete({ kind: 'GlobalNetworkPolicy', name: 'deny-icmp-to-b' });
    await matrixBecomes(lab, () => true, 'full reachability at the end', 10_000);
  });
});
