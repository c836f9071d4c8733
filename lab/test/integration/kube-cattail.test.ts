// Cattail installed the way users install it, into the cluster users run it on: a
// `--engine kubernetes` lab (real kube-apiserver, scheduler, controller-manager; per node a real
// kubelet and containerd) with no CNI, the image built daemonless and imported into each
// containerd, then `cattail lab install` — the real `helm upgrade --install` of helm/cattail.
// Then, with kubelets calling cattail-cni through containerd for pods the scheduler placed:
//
//   - the chart's pods run and turn every Node Ready; a VXLAN pool added afterwards gets a
//     tunnel address on every node while it runs (the tunnel-addrs container);
//   - the workload pods' CNI ADDs are served by each node's cni-daemon container (through the
//     cattail-cni shim), none sent back to the direct plugin; each daemon renewed the CNI
//     kubeconfig's token through the TokenRequest API;
//   - every pod reaches every other pod across nodes, over BGP (BIRD's routes) and over VXLAN
//     (Felix's vxlan.calico routes) in one cluster (`lab probe`, real pings);
//   - a Kubernetes NetworkPolicy, and after a Typha rollout a Calico GlobalNetworkPolicy, each
//     block exactly the selected traffic, within 2 s of being applied;
//   - `kubectl rollout restart deployment/cattail-typha` while pods ping each other: no ping
//     lost, no pod route changed on any node (`ip monitor route`), no kubelet probe of the node
//     agents, kube-controllers or the draining Typhas failed and no node-agent container
//     restarted;
//   - a node that dies (its kubelet killed), deleted with its pods: kube-controllers frees every
//     address it held, its tunnel address and its blocks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findKubeBinary } from '@cattail/datastore/testing';
import { BUSYBOX_IMAGE, KUBE_ENGINE_TOOLS, Lab, findLabProcesses, requireTools, run, until, type ProbeResult } from '../../src/index.js';
import { listNamespaces } from '../../src/fabric.js';
import { logTail } from '../../src/processes.js';
import { takeSlot } from './harness.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const CATTAIL = join(REPO, 'cli/bin/cattail.js');
const IMAGE_BUILDER = join(REPO, 'image/dist/src/main.js');
const NS = 'cattail-system';
const BGP_POOL = 'default-ipv4-ippool';
const VXLAN_POOL = 'vxlan-pool';
const VXLAN_CIDR = '10.67.0.0/16';
/** The chart's cni-daemon health endpoint (node.cni.daemon.healthPort), its JSON /status. */
const CNI_DAEMON_STATUS = "fetch('http://127.0.0.1:9089/status').then((r) => r.text()).then((t) => process.stdout.write(t))";

interface PodObject {
  metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string> };
  spec: { nodeName?: string };
  status: {
    phase?: string;
    podIP?: string;
    conditions?: Array<{ type: string; status: string }>;
    containerStatuses?: Array<{ name: string; restartCount: number; ready: boolean }>;
  };
}

interface EventObject {
  reason: string;
  message: string;
  involvedObject: { name: string; uid?: string };
  lastTimestamp?: string;
  eventTime?: string;
}

function logs(dir: string): string {
  try {
    return readdirSync(join(dir, 'logs'))
      .filter((f) => /^(kubelet|containerd)/.test(f))
      .map((f) => `--- ${f} ---\n${logTail(join(dir, 'logs', f), 1200)}`)
      .join('\n');
  } catch {
    return '(no logs)';
  }
}

/** Ends an `ip monitor` child of this test by its own PID, once. */
function stopMonitor(m: ChildProcess): void {
  if (m.exitCode !== null || m.signalCode !== null || m.pid === undefined) return;
  try {
    process.kill(m.pid, 'SIGTERM');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

const deployment = (name: string, pool: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'e2e' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name }, annotations: { 'cni.projectcalico.org/ipv4pools': JSON.stringify([pool]) } },
      spec: {
        terminationGracePeriodSeconds: 1,
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: name } }, topologyKey: 'kubernetes.io/hostname' }],
          },
        },
        containers: [{ name: 'bb', image: BUSYBOX_IMAGE, imagePullPolicy: 'Never', command: ['sleep', '86400'] }],
      },
    },
  },
});

test('helm-installed cattail on kubelet nodes: pod networking over BGP and VXLAN, policy, Typha rollout, node deletion', { timeout: 1_800_000 }, async (t) => {
  requireTools([...KUBE_ENGINE_TOOLS, 'nsenter', 'ping']);
  const helm = findKubeBinary('helm');
  const kubectlBin = findKubeBinary('kubectl');
  assert.ok(existsSync(IMAGE_BUILDER), `${IMAGE_BUILDER}: build the repo first (tsc -b)`);
  const release = await takeSlot(900_000);
  const id = `c${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), `ctlab-${id}-`));
  const monitors: ChildProcess[] = [];
  let downDone = false;
  t.after(async () => {
    for (const m of monitors) stopMonitor(m);
    try {
      if (!downDone) await new Lab({ id, dir }).down();
    } finally {
      release();
    }
  });
  const lab = new Lab({ id, dir });
  const kubeconfig = join(dir, 'kube', 'kubeconfig');
  const kubectl = (args: string[], input?: string, timeoutMs = 60_000) =>
    run(kubectlBin, ['--kubeconfig', kubeconfig, ...args], { timeoutMs, ...(input ? { input } : {}) });
  const getJson = async <T>(args: string[]): Promise<T> => JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
  const cattail = (args: string[], timeoutMs = 60_000) =>
    run(process.execPath, [CATTAIL, ...args], { timeoutMs, env: { ...process.env, DATASTORE_TYPE: 'kubernetes', KUBECONFIG: kubeconfig } });
  const calicoApply = async (doc: object) => {
    const file = join(dir, `apply-${randomBytes(3).toString('hex')}.json`);
    writeFileSync(file, JSON.stringify(doc));
    await cattail(['apply', '-f', file]);
  };
  try {
    // The image, as `npm run image` makes it (its caches make a second build quick).
    const archive = join(dir, 'cattail.oci.tar');
    await run(process.execPath, [IMAGE_BUILDER, 'build', '--out', archive], { timeoutMs: 900_000 });

    await lab.up({ engine: 'kubernetes', nodes: 2, podsPerNode: 0, mode: 'bgp', cni: 'none' });
    const installed = await run(process.execPath, [CATTAIL, 'lab', 'install', '--image', archive, '--name', id, '--dir', dir, '--timeout', '600'], {
      timeoutMs: 700_000,
    });
    assert.match(installed, /cattail is installed in lab .*: release cattail in namespace cattail-system, image cattail\.local\/cattail\/cattail:/);
    assert.match(await run(helm, ['status', 'cattail', '-n', NS, '--kubeconfig', kubeconfig]), /STATUS: deployed/);

    // Every Node Ready now that cattail-cni is installed; every chart pod ready, one node agent and one Typha per node.
    const status = JSON.parse(await run(process.execPath, [CATTAIL, 'lab', 'status', '-o', 'json', '--name', id, '--dir', dir], { timeoutMs: 60_000 })) as {
      engine: string;
      nodes: Array<{ name: string; ready: boolean }>;
    };
    assert.equal(status.engine, 'kubernetes');
    assert.deepEqual(
      status.nodes.map((n) => [n.name, n.ready]),
      [
        ['node-1', true],
        ['node-2', true],
      ],
    );
    const chartPods = (await getJson<{ items: PodObject[] }>(['get', 'pods', '-n', NS])).items;
    const byComponent = (c: string) => chartPods.filter((p) => p.metadata.labels?.['app.kubernetes.io/component'] === c);
    assert.deepEqual(
      byComponent('node')
        .map((p) => p.spec.nodeName)
        .sort(),
      ['node-1', 'node-2'],
    );
    assert.deepEqual(
      byComponent('typha')
        .map((p) => p.spec.nodeName)
        .sort(),
      ['node-1', 'node-2'],
    );
    assert.equal(byComponent('kube-controllers').length, 1);
    for (const p of chartPods)
      assert.ok(
        p.status.containerStatuses?.every((c) => c.ready),
        `${p.metadata.name} ready`,
      );

    // A VXLAN pool added while the nodes run: each gets its tunnel address without a restart.
    await calicoApply({
      apiVersion: 'projectcalico.org/v3',
      kind: 'IPPool',
      metadata: { name: VXLAN_POOL },
      spec: { cidr: VXLAN_CIDR, vxlanMode: 'Always', natOutgoing: true },
    });
    let tunnels = '';
    await until(
      async () => {
        const nodes = JSON.parse(await cattail(['get', 'nodes', '-o', 'json'])) as {
          items: Array<{ metadata: { name: string }; spec: { ipv4VXLANTunnelAddr?: string } }>;
        };
        tunnels = JSON.stringify(nodes.items.map((n) => [n.metadata.name, n.spec.ipv4VXLANTunnelAddr]));
        return nodes.items.length === 2 && nodes.items.every((n) => n.spec.ipv4VXLANTunnelAddr?.startsWith('10.67.'));
      },
      'a VXLAN tunnel address on every node',
      60_000,
      () => tunnels,
      500,
    );

    // Workloads in both pools, one replica of each per node, networked by cattail-cni.
    await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'e2e' } }, deployment('bgp', BGP_POOL), deployment('vx', VXLAN_POOL)],
      }),
    );
    let seen = '';
    const workloads = await until(
      async () => {
        const pods = (await getJson<{ items: PodObject[] }>(['get', 'pods', '-n', 'e2e'])).items;
        seen = pods.map((p) => `${p.metadata.name}@${p.spec.nodeName ?? '-'}:${p.status.phase}/${p.status.podIP ?? '-'}`).join(' ');
        const up = pods.filter((p) => p.status.phase === 'Running' && p.status.podIP);
        return up.length === 4 ? up : undefined;
      },
      'the four workload pods Running',
      240_000,
      () => seen,
      1000,
    );
    const app = (p: PodObject) => p.metadata.labels?.app;
    for (const p of workloads) assert.match(p.status.podIP!, app(p) === 'bgp' ? /^10\.66\./ : /^10\.67\./, `${p.metadata.name} from its pool`);
    // The workload pods' ADDs were served by each node's cni-daemon container (the shim handed
    // them over its socket), none by the direct plugin: its /status on the node's loopback
    // counts them by command and result.
    const served = { ok: 0, fallback: 0 };
    for (const node of [1, 2]) {
      const status = JSON.parse(
        await run('ip', ['netns', 'exec', lab.names.nodeNs(node), process.execPath, '-e', CNI_DAEMON_STATUS], { timeoutMs: 30_000 }),
      ) as { requests: Record<string, number>; kubeconfigToken?: { refreshes: number; failures: number; expires?: string; lastError?: string } };
      served.ok += status.requests['command="ADD",result="ok"'] ?? 0;
      served.fallback += status.requests['command="ADD",result="fallback"'] ?? 0;
      // The daemon renewed the CNI kubeconfig's token through the TokenRequest API (the chart's
      // RBAC rule), before it reported ready: a day's token, bound to no pod.
      const token = status.kubeconfigToken;
      assert.ok(token && token.refreshes >= 1, `node-${node}: the CNI kubeconfig token renewed: ${JSON.stringify(token)}`);
      const hoursLeft = (Date.parse(token.expires ?? '') - Date.now()) / 3600_000;
      assert.ok(hoursLeft > 20 && hoursLeft <= 24, `node-${node}: the token expires in ${hoursLeft} h`);
    }
    assert.ok(served.ok >= workloads.length, `the workload pods' ADDs served by the daemons: ${JSON.stringify(served)}`);
    assert.equal(served.fallback, 0, 'no ADD sent back to the direct plugin');
    assert.deepEqual(
      workloads
        .filter((p) => app(p) === 'vx')
        .map((p) => p.spec.nodeName)
        .sort(),
      ['node-1', 'node-2'],
    );

    // Routing: node-1 reaches node-2's BGP block through BIRD, its VXLAN block through vxlan.calico.
    const remote = (pool: string) => workloads.find((p) => app(p) === pool && p.spec.nodeName === 'node-2')!.status.podIP!;
    const routes = await run('ip', ['-n', lab.names.nodeNs(1), 'route']);
    assert.match(
      routes,
      new RegExp(
        `^${remote('bgp').split('.').slice(0, 3).join('\\.')}\\.\\d+/26 via ${lab.names.nodeAddress(2).replace(/\./g, '\\.')} dev eth0 proto bird`,
        'm',
      ),
    );
    assert.match(routes, new RegExp(`^${remote('vx').split('.').slice(0, 3).join('\\.')}\\.\\d+/26 via \\S+ dev vxlan\\.calico`, 'm'));

    // Every pod reaches every other (the chart's kube-controllers pod too): `lab probe -o json`.
    const cliProbe = JSON.parse(await run(process.execPath, [CATTAIL, 'lab', 'probe', '-o', 'json', '--name', id, '--dir', dir], { timeoutMs: 120_000 })) as {
      results: ProbeResult[];
    };
    assert.equal(cliProbe.results.length, 5 * 4, 'five pod-network pods, every ordered pair');
    assert.deepEqual(
      cliProbe.results.filter((r) => !r.reachable),
      [],
    );
    const key = (p: PodObject) => `e2e/${p.metadata.name}`;
    const pod = (a: string, node: string) => workloads.find((p) => app(p) === a && p.spec.nodeName === node)!;
    const matrix = async () => new Map((await lab.probe({ concurrency: 8 })).map((r) => [`${r.from} -> ${r.to}`, r.reachable]));

    /**
     * Applies a policy, then pings `blocked` (which the policy must stop) until an echo is lost:
     * the time from the apply's return to the start of the first unanswered ping bounds when the
     * dataplane had it (a ping waits 1 s for its echo). Then the whole matrix must differ from
     * all-reachable in exactly `expectBlocked`.
     */
    const enforce = async (apply: () => Promise<void>, blocked: [PodObject, PodObject], expectBlocked: (from: string, to: string) => boolean) => {
      await apply();
      const applied = Date.now();
      let enforcedAfter = -1;
      while (Date.now() - applied < 30_000) {
        const start = Date.now();
        const [r] = await lab.probe({ from: [key(blocked[0])], to: [key(blocked[1])], timeoutSecs: 1 });
        if (!r.reachable) {
          enforcedAfter = start - applied;
          break;
        }
      }
      assert.ok(enforcedAfter >= 0, 'the policy took effect within 30 s');
      assert.ok(enforcedAfter <= 2000, `enforced ${enforcedAfter} ms after the apply returned`);
      const m = await matrix();
      const wrong = [...m].filter(([pair, ok]) => {
        const [from, to] = pair.split(' -> ');
        return ok === expectBlocked(from, to);
      });
      assert.deepEqual(wrong, [], 'exactly the selected traffic is blocked');
      return enforcedAfter;
    };
    const appOf = (podKey: string) => workloads.find((p) => key(p) === podKey)?.metadata.labels?.app ?? 'other';

    // A Kubernetes NetworkPolicy: vx pods take ingress only from bgp pods.
    const np = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'vx-from-bgp', namespace: 'e2e' },
      spec: { podSelector: { matchLabels: { app: 'vx' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { app: 'bgp' } } }] }] },
    };
    const npMs = await enforce(
      () => kubectl(['apply', '-f', '-'], JSON.stringify(np)).then(() => undefined),
      [pod('vx', 'node-1'), pod('vx', 'node-2')],
      (from, to) => appOf(to) === 'vx' && appOf(from) !== 'bgp',
    );
    t.diagnostic(`NetworkPolicy: the first unanswered ping started ${npMs} ms after kubectl apply returned`);
    await kubectl(['delete', 'networkpolicy', '-n', 'e2e', 'vx-from-bgp']);
    await until(async () => [...(await matrix()).values()].every(Boolean), 'every pair reachable again', 30_000, undefined, 500);

    // Typha rolled while pods ping across nodes: nothing a workload or an operator would notice.
    const agentsBefore = (await getJson<{ items: PodObject[] }>(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/component=node'])).items;
    const typhasBefore = new Set(
      (await getJson<{ items: PodObject[] }>(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/component=typha'])).items.map((p) => p.metadata.uid),
    );
    const since = Date.now();
    const routeEvents: string[] = [];
    for (const i of [1, 2]) {
      const m = spawn('ip', ['-n', lab.names.nodeNs(i), 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
      m.stdout.setEncoding('utf8').on('data', (d: string) =>
        routeEvents.push(
          ...d
            .split('\n')
            .filter((l) => /10\.6[67]\./.test(l))
            .map((l) => `node-${i}: ${l}`),
        ),
      );
      monitors.push(m);
    }
    let rolling = true;
    let pings = 0;
    const lost: string[] = [];
    const pinger = (async () => {
      const pairs: Array<[PodObject, PodObject]> = [
        [pod('bgp', 'node-1'), pod('bgp', 'node-2')],
        [pod('vx', 'node-2'), pod('vx', 'node-1')],
      ];
      while (rolling) {
        for (const [a, b] of pairs) {
          const [r] = await lab.probe({ from: [key(a)], to: [key(b)], timeoutSecs: 2 });
          pings++;
          if (!r.reachable) lost.push(`${r.from} -> ${r.to} at +${Date.now() - since} ms`);
        }
      }
    })();
    await kubectl(['rollout', 'restart', 'deployment/cattail-typha', '-n', NS]);
    await kubectl(['rollout', 'status', 'deployment/cattail-typha', '-n', NS, '--timeout=420s'], undefined, 450_000);
    // The agents settle on the new replicas (ready), then a last round of pings.
    await kubectl(['wait', '--for=condition=Ready', 'pod', '-l', 'app.kubernetes.io/component=node', '-n', NS, '--timeout=120s'], undefined, 150_000);
    rolling = false;
    await pinger;
    for (const m of monitors) stopMonitor(m);
    assert.ok(pings >= 4, `${pings} pings during the rollout`);
    assert.deepEqual(lost, [], 'no ping lost during the Typha rollout');
    assert.deepEqual(routeEvents, [], 'no pod route changed on any node');
    const agentsAfter = (await getJson<{ items: PodObject[] }>(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/component=node'])).items;
    assert.deepEqual(
      agentsAfter.map((p) => [p.metadata.uid, p.status.containerStatuses?.map((c) => [c.name, c.restartCount])]),
      agentsBefore.map((p) => [p.metadata.uid, p.status.containerStatuses?.map((c) => [c.name, c.restartCount])]),
      'the node agents ran on, no container restarted',
    );
    const events = (await getJson<{ items: EventObject[] }>(['get', 'events', '-n', NS, '--field-selector', 'reason=Unhealthy'])).items;
    // No probe of the chart's pods failed during the rollout: not the node agents', not
    // kube-controllers', not the old Typhas' (they stay ready while handing off). A new Typha
    // is first probed 3 s after it starts, when it is normally in sync; on a loaded machine it
    // may not be yet, and that readiness miss of a pod not yet serving is only reported.
    const during = events.filter((e) => Date.parse(e.lastTimestamp ?? e.eventTime ?? '') >= since - 1000);
    const newTyphaStarting = (e: EventObject) =>
      /^cattail-typha-/.test(e.involvedObject.name) && !typhasBefore.has(e.involvedObject.uid ?? '') && /^Readiness probe failed/.test(e.message);
    for (const e of during.filter(newTyphaStarting)) t.diagnostic(`a new Typha's first readiness probe: ${e.involvedObject.name}: ${e.message}`);
    // An old Typha answers ready all through its hand-off (a 503 would fail here); once it has
    // exited, a probe the kubelet sent before noticing the exit finds the port closed. That
    // refusal says the process is gone, not that it went unready while serving: only reported.
    const oldTyphaGone = (e: EventObject) =>
      /^cattail-typha-/.test(e.involvedObject.name) &&
      typhasBefore.has(e.involvedObject.uid ?? '') &&
      /^Readiness probe failed: .*connect: connection refused$/.test(e.message);
    for (const e of during.filter(oldTyphaGone)) t.diagnostic(`an old Typha probed after it exited: ${e.involvedObject.name}: ${e.message}`);
    assert.deepEqual(
      during.filter((e) => !newTyphaStarting(e) && !oldTyphaGone(e)).map((e) => `${e.involvedObject.name}: ${e.message}`),
      [],
      'no probe failed during the rollout',
    );
    const typhas = (await getJson<{ items: PodObject[] }>(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/component=typha'])).items;
    assert.equal(typhas.filter((p) => p.status.containerStatuses?.every((c) => c.ready)).length, 2, 'two Typhas ready');
    assert.deepEqual(
      typhas.filter((p) => typhasBefore.has(p.metadata.uid)).map((p) => p.metadata.name),
      [],
      'both Typhas are new pods',
    );
    t.diagnostic(`Typha rollout: ${Date.now() - since} ms, ${pings} cross-node pings, none lost`);

    // After the rollout, a Calico GlobalNetworkPolicy (through the new Typhas): bgp pods refuse vx pods.
    const gnpMs = await enforce(
      () =>
        calicoApply({
          apiVersion: 'projectcalico.org/v3',
          kind: 'GlobalNetworkPolicy',
          metadata: { name: 'bgp-refuses-vx' },
          spec: { selector: "app == 'bgp'", types: ['Ingress'], ingress: [{ action: 'Deny', source: { selector: "app == 'vx'" } }, { action: 'Allow' }] },
        }),
      [pod('vx', 'node-1'), pod('bgp', 'node-2')],
      (from, to) => appOf(to) === 'bgp' && appOf(from) === 'vx',
    );
    t.diagnostic(`GlobalNetworkPolicy: the first unanswered ping started ${gnpMs} ms after cattail apply returned`);

    // node-2 dies (its kubelet killed) and is deleted with its pods: its addresses come free.
    type Block = { spec: { cidr: string; affinity?: string; attributes?: Array<{ handle_id?: string; secondary?: Record<string, string> }> } };
    const held = async () =>
      (await getJson<{ items: Block[] }>(['get', 'ipamblocks.crd.projectcalico.org'])).items.flatMap((b) =>
        (b.spec.attributes ?? []).filter((a) => a.secondary?.node === 'node-2' || a.handle_id?.endsWith('node-2')).map((a) => `${b.spec.cidr} ${a.handle_id}`),
      );
    assert.ok((await held()).length >= 3, 'node-2 holds its pods’ addresses and its tunnel address');
    const kubelet = lab.state!.processes['kubelet/node-2'];
    process.kill(kubelet.pid, 'SIGKILL');
    await kubectl(['delete', 'node', 'node-2']);
    const onTwo = (await getJson<{ items: PodObject[] }>(['get', 'pods', '-A', '--field-selector', 'spec.nodeName=node-2'])).items;
    assert.ok(onTwo.length >= 4, `node-2's pods: ${onTwo.map((p) => p.metadata.name).join(', ')}`);
    for (const p of onTwo) await kubectl(['delete', 'pod', '-n', p.metadata.namespace, p.metadata.name, '--force', '--grace-period=0']);
    let left: string[] = [];
    await until(
      async () => {
        left = await held();
        const affinities = (await getJson<{ items: Array<{ spec: { node: string } }> }>(['get', 'blockaffinities.crd.projectcalico.org'])).items;
        return left.length === 0 && affinities.every((a) => a.spec.node !== 'node-2');
      },
      "node-2's addresses, tunnel address and blocks freed by kube-controllers",
      120_000,
      () => left.join(', '),
      1000,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n(state dir kept: ${dir})\n${logs(dir)}`, { cause: err });
  }

  await new Lab({ id, dir }).down();
  downDone = true;
  assert.deepEqual(
    (await listNamespaces()).filter((n) => n.startsWith(`ctlab-${id}`)),
    [],
  );
  assert.deepEqual(findLabProcesses(`ctlab-${id}`), []);
});
