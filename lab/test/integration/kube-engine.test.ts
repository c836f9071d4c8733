// `--engine kubernetes`, all real: etcd, kube-apiserver, kube-scheduler and
// kube-controller-manager in the control-plane namespace; per node a kubelet and a containerd in
// the node's network and mount namespaces, registered as Nodes that become Ready; the scheduler
// spreads a busybox Deployment (required anti-affinity) over every node, containerd runs each
// pod in a sandbox of the lab's pause image with an address from the node's CNI (Debian's
// bridge plugin), `kubectl logs` and `kubectl exec` reach the kubelets; a hostNetwork pod sees
// the node's own eth0; a pod reaches the API server's fabric address. Then `down` — with the
// state file gone, as after a crash — leaves no namespace, process, cgroup or mount behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BUSYBOX_IMAGE,
  KUBE_ENGINE_TOOLS,
  Lab,
  cgroupMounts,
  cgroupPids,
  findLabProcesses,
  requireTools,
  run,
  statePath,
  until,
  writeOciArchive,
} from '../../src/index.js';
import { listNamespaces } from '../../src/fabric.js';
import { logTail } from '../../src/processes.js';
import { takeSlot } from './harness.js';

const CATTAIL = fileURLToPath(new URL('../../../../cli/bin/cattail.js', import.meta.url));
const NODES = 2;

interface PodObject {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { nodeName?: string };
  status: { phase?: string; podIP?: string; hostIP?: string; containerStatuses?: Array<{ restartCount: number; state?: { running?: unknown } }> };
}

/** On failure: which logs to read, with their tails. */
function logs(dir: string): string {
  try {
    return readdirSync(join(dir, 'logs'))
      .filter((f) => /^(kubelet|containerd|kube-)/.test(f))
      .map((f) => `--- ${f} ---\n${logTail(join(dir, 'logs', f), 1500)}`)
      .join('\n');
  } catch {
    return '(no logs)';
  }
}

test('kubernetes engine: real nodes run scheduled pods, and down leaves nothing', { timeout: 900_000 }, async (t) => {
  requireTools(KUBE_ENGINE_TOOLS);
  const release = await takeSlot(600_000);
  const id = `k${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), `ctlab-${id}-`));
  const prefix = `ctlab-${id}`;
  let downDone = false;
  t.after(async () => {
    try {
      if (!downDone) await new Lab({ id, dir }).down({ keepDir: true });
    } finally {
      release();
    }
  });
  const lab = new Lab({ id, dir });
  const kubectl = (...args: string[]) => lab.kubectl(args);
  try {
    await lab.up({ engine: 'kubernetes', nodes: NODES, podsPerNode: 0, mode: 'bgp' });

    // The Nodes: registered by their kubelets with their fabric addresses, Ready.
    const nodes = JSON.parse(await kubectl('get', 'nodes', '-o', 'json')) as {
      items: Array<{
        metadata: { name: string };
        status: { addresses: Array<{ type: string; address: string }>; conditions: Array<{ type: string; status: string }> };
      }>;
    };
    assert.deepEqual(nodes.items.map((n) => n.metadata.name).sort(), ['node-1', 'node-2']);
    for (const n of nodes.items) {
      const i = Number(n.metadata.name.slice('node-'.length));
      assert.equal(n.status.addresses.find((a) => a.type === 'InternalIP')?.address, lab.names.nodeAddress(i));
      assert.equal(n.status.conditions.find((c) => c.type === 'Ready')?.status, 'True');
    }

    // Where pods reach the API server without kube-proxy.
    const endpoint = JSON.parse(await kubectl('get', 'configmap', '-n', 'kube-system', 'kubernetes-services-endpoint', '-o', 'json')) as {
      data: Record<string, string>;
    };
    assert.deepEqual(endpoint.data, { KUBERNETES_SERVICE_HOST: lab.names.controlPlaneAddress, KUBERNETES_SERVICE_PORT: '6443' });

    // `lab status -o json` from the CLI.
    const cli = (...args: string[]) => run(process.execPath, [CATTAIL, 'lab', ...args, '--name', id, '--dir', dir], { timeoutMs: 60_000 });
    const status = JSON.parse(await cli('status', '-o', 'json')) as {
      engine: string;
      kubeconfig: string;
      nodes: Array<{ name: string; ready: boolean; problems: string[] }>;
    };
    assert.equal(status.engine, 'kubernetes');
    assert.ok(existsSync(status.kubeconfig), status.kubeconfig);
    assert.deepEqual(
      status.nodes.map((n) => [n.name, n.ready, n.problems]),
      [
        ['node-1', true, []],
        ['node-2', true, []],
      ],
    );

    // A Deployment the scheduler must spread: one replica per node (required anti-affinity), no nodeName given.
    const ns = 'kbox';
    await kubectl('create', 'namespace', ns);
    // A bare Pod is refused until the controller manager has made the namespace's default
    // ServiceAccount (the Deployment's ReplicaSet would retry; the Pod below would not).
    await until(
      () =>
        kubectl('get', 'serviceaccount', 'default', '-n', ns).then(
          () => true,
          () => false,
        ),
      `the default ServiceAccount of ${ns}`,
      60_000,
      undefined,
      250,
    );
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'bb', namespace: ns },
      spec: {
        replicas: NODES,
        selector: { matchLabels: { app: 'bb' } },
        template: {
          metadata: { labels: { app: 'bb' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            affinity: {
              podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'bb' } }, topologyKey: 'kubernetes.io/hostname' }],
              },
            },
            containers: [{ name: 'bb', image: BUSYBOX_IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', 'ip -4 -o addr show eth0; exec sleep 3600'] }],
          },
        },
      },
    };
    const hostPod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'host', namespace: ns },
      spec: {
        hostNetwork: true,
        terminationGracePeriodSeconds: 1,
        nodeSelector: { 'kubernetes.io/hostname': 'node-1' },
        containers: [{ name: 'bb', image: BUSYBOX_IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', 'ip -4 -o addr show eth0; exec sleep 3600'] }],
      },
    };
    await lab.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [deployment, hostPod] }));

    let seen = '';
    const running = await until(
      async () => {
        const list = JSON.parse(await kubectl('get', 'pods', '-n', ns, '-o', 'json')) as { items: PodObject[] };
        seen = list.items.map((p) => `${p.metadata.name}@${p.spec.nodeName ?? '-'}:${p.status.phase ?? '?'}/${p.status.podIP ?? '-'}`).join(' ');
        const up = list.items.filter((p) => p.status.phase === 'Running' && p.status.podIP);
        return up.length === NODES + 1 ? up : undefined;
      },
      'every pod Running with an address',
      240_000,
      () => seen,
      1000,
    );
    const bb = running.filter((p) => p.metadata.labels?.app === 'bb');
    // One replica on each node, each with an address from its node's bridge range.
    assert.deepEqual(bb.map((p) => p.spec.nodeName).sort(), ['node-1', 'node-2']);
    for (const p of bb) {
      const i = Number(p.spec.nodeName!.slice('node-'.length));
      assert.match(p.status.podIP!, new RegExp(`^10\\.244\\.${i}\\.\\d+$`), `${p.metadata.name} on ${p.spec.nodeName}`);
      // kubectl logs goes through the API server to the node's kubelet: the pod saw that address on its eth0.
      assert.match(await kubectl('logs', '-n', ns, p.metadata.name), new RegExp(`inet ${p.status.podIP!.replace(/\./g, '\\.')}/24`));
    }
    // The hostNetwork pod is in the node's network namespace: its eth0 is the node's fabric address.
    const host = running.find((p) => p.metadata.name === 'host')!;
    assert.equal(host.status.podIP, lab.names.nodeAddress(1));
    assert.match(await kubectl('logs', '-n', ns, 'host'), new RegExp(`inet ${lab.names.nodeAddress(1).replace(/\./g, '\\.')}/24`));
    // A pod reaches the control plane's fabric address (where the API server listens), through its node.
    await kubectl('exec', '-n', ns, bb[0].metadata.name, '--', 'ping', '-c', '1', '-W', '5', lab.names.controlPlaneAddress);

    // An image of the user's (as the chart's will be), imported into every node.
    const archive = join(dir, 'hello.tar');
    const hello = join(dir, 'hello.sh');
    writeFileSync(hello, '#!/bin/busybox sh\necho hello from $(hostname)\nexec /bin/busybox sleep 3600\n');
    chmodSync(hello, 0o755);
    await writeOciArchive({ ref: 'cattail.local/hello:1', files: { 'bin/busybox': '/bin/busybox', hello: hello }, entrypoint: ['/hello'] }, archive);
    assert.deepEqual(await lab.importImage(archive), ['cattail.local/hello:1']);
    for (const n of lab.state!.nodes) {
      const sock = join(dir, 'nodes', n.name, 'containerd', 'containerd.sock');
      assert.match(await run('ctr', ['--address', sock, '-n', 'k8s.io', 'images', 'ls', '-q']), /^cattail\.local\/hello:1$/m);
    }

    // `up` again converges: every process is still the one it was.
    const pids = Object.fromEntries(Object.entries(lab.state!.processes).map(([role, r]) => [role, r.pid]));
    assert.deepEqual(Object.keys(pids).sort(), [
      'api-relay',
      'containerd/node-1',
      'containerd/node-2',
      'etcd',
      'kube-apiserver',
      'kube-controller-manager',
      'kube-scheduler',
      'kubelet/node-1',
      'kubelet/node-2',
      'node/node-1',
      'node/node-2',
    ]);
    await lab.up({ engine: 'kubernetes', nodes: NODES, podsPerNode: 0, mode: 'bgp' });
    assert.deepEqual(Object.fromEntries(Object.entries(lab.state!.processes).map(([role, r]) => [role, r.pid])), pids);

    // A node whose mount namespace is lost (its holder killed) starts over whole on the next
    // `up`: what ran in its cgroup is ended, and its pod runs again in a new sandbox.
    const node1 = `/${prefix}/node-1`;
    const oldNode1 = cgroupPids(node1);
    process.kill(lab.state!.processes['node/node-1'].pid, 'SIGKILL');
    await lab.up({ engine: 'kubernetes', nodes: NODES, podsPerNode: 0, mode: 'bgp' });
    assert.deepEqual(
      oldNode1.filter((pid) => cgroupPids(node1).includes(pid)),
      [],
      'nothing of the old node-1 runs on',
    );
    await until(
      async () => {
        const list = JSON.parse(await kubectl('get', 'pods', '-n', ns, '-l', 'app=bb', '-o', 'json')) as { items: PodObject[] };
        seen = list.items
          .map((p) => `${p.metadata.name}@${p.spec.nodeName ?? '-'}:${p.status.phase ?? '?'}:${JSON.stringify(p.status.containerStatuses)}`)
          .join(' ');
        const restarted = list.items.some((p) => p.spec.nodeName === 'node-1' && (p.status.containerStatuses?.[0]?.restartCount ?? 0) >= 1);
        return restarted && list.items.every((p) => p.status.containerStatuses?.[0]?.state?.running !== undefined);
      },
      'the pod on node-1 restarted and every replica running',
      180_000,
      () => seen,
      1000,
    );

    // The node that started over still has the imported image: a pod of it runs there.
    const helloPod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'hello', namespace: ns },
      spec: {
        terminationGracePeriodSeconds: 1,
        nodeSelector: { 'kubernetes.io/hostname': 'node-1' },
        containers: [{ name: 'hello', image: 'cattail.local/hello:1', imagePullPolicy: 'Never' }],
      },
    };
    await lab.kubectl(['apply', '-f', '-'], JSON.stringify(helloPod));
    await until(
      async () => /hello from hello/.test(await kubectl('logs', '-n', ns, 'hello').catch((e: Error) => (seen = e.message))),
      'the hello pod to greet',
      120_000,
      () => seen,
      1000,
    );

    // Every container runs under the lab's cgroup: down will find them there.
    const inCgroups = cgroupPids(`/${prefix}`);
    assert.ok(inCgroups.length >= 6, `processes under /${prefix}: ${inCgroups.join(', ')}`);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n(state dir kept: ${dir})\n${logs(dir)}`, { cause: err });
  }

  // Down as after a crash: no state file, a fresh Lab object.
  const before = cgroupPids(`/${prefix}`);
  rmSync(statePath(dir));
  const report = await new Lab({ id, dir }).down();
  downDone = true;
  assert.ok(report.processes >= before.length, `${report.processes} stopped, ${before.length} were in the cgroups`);
  assert.deepEqual(
    (await listNamespaces()).filter((n) => n === prefix || n.startsWith(`${prefix}-`)),
    [],
  );
  assert.deepEqual(findLabProcesses(prefix), []);
  assert.deepEqual(
    before.filter((pid) => existsSync(`/proc/${pid}`)),
    [],
    'every process that was in the cgroups is gone',
  );
  assert.deepEqual(
    cgroupMounts().filter((m) => existsSync(join(m, prefix))),
    [],
  );
  assert.deepEqual(
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.includes(dir) || l.includes(prefix)),
    [],
  );
  assert.equal(existsSync(dir), false);
});
