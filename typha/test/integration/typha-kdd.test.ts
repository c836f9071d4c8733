// A whole Typha in-process in Kubernetes-datastore mode against a real kube-apiserver: Calico
// CRDs, and Pods, Namespaces, ServiceAccounts, Kubernetes NetworkPolicies and Nodes converted as
// Calico does, and Services and EndpointSlices cut down to what agents read, reach real
// SyncClients of the felix and bgp syncers; random pod churn converges;
// a reconnect to the same replica resumes, a move to another replica gets a snapshot (revisions
// are per replica in this mode); a malformed object is counted and skipped.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { adminKubeconfig, applyCalicoCrds, startKubeApiServer, startTcpProxy, until, type KubeApiServer } from '@cattail/datastore/testing';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kdd } from '@cattail/datastore';
import type { Resource } from '@cattail/api';
import { TyphaDaemon } from '../../src/daemon/daemon.js';
import { loadTyphaConfig } from '../../src/config.js';
import { SyncClient, staticDiscovery } from '../../src/client/index.js';
import type { SyncerType } from '../../src/protocol/messages.js';
import { rawSync } from '../../src/testing/index.js';

const quietLogger = { error() {}, warn() {}, info() {}, debug() {}, child: () => quietLogger };

let kube: KubeApiServer;
let ds: kdd.KubeDatastore;
const typhas: TyphaDaemon[] = [];
const clients: SyncClient[] = [];

async function startTypha(kubeconfig = kube.kubeconfigPath): Promise<{ daemon: TyphaDaemon; port: number; metricsPort: number }> {
  const config = loadTyphaConfig({
    TYPHA_DATASTORETYPE: 'kubernetes',
    TYPHA_KUBECONFIG: kubeconfig,
    TYPHA_SERVERHOST: '127.0.0.1',
    TYPHA_SERVERPORT: '0',
    TYPHA_SERVERBATCHWINDOWMS: '5',
    TYPHA_REBALANCEINTERVALSECS: '0.2',
    TYPHA_PROMETHEUSMETRICSENABLED: 'true',
    TYPHA_PROMETHEUSMETRICSHOST: '127.0.0.1',
    TYPHA_PROMETHEUSMETRICSPORT: '0',
  });
  const daemon = new TyphaDaemon(config, { logger: quietLogger });
  typhas.push(daemon);
  const { syncPort, metricsPort } = await daemon.start();
  await until(() => daemon.ready, 'typha in sync with the API server', 60_000);
  return { daemon, port: syncPort, metricsPort: metricsPort ?? 0 };
}

function client(syncer: SyncerType, port: number, node = 'n1'): SyncClient {
  const c = new SyncClient({ syncer, node, discovery: staticDiscovery(`127.0.0.1:${port}`), callbacks: { onStatus() {}, onUpdates() {} } });
  clients.push(c);
  c.start();
  return c;
}

/** kind/namespace/name → value, of what a client holds. */
function held(c: SyncClient): Map<string, Record<string, unknown>> {
  return new Map(c.snapshot().map((u) => [`${u.kind}/${u.namespace ?? ''}/${u.name}`, u.value as Record<string, unknown>]));
}

function pod(ns: string, name: string, node: string, ip: string | undefined, labels: Record<string, string> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels, ...(ip ? { annotations: { 'cni.projectcalico.org/podIP': `${ip}/32` } } : {}) },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] },
  });
}

const ippool = (name: string, cidr: string): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPPool',
  metadata: { name },
  spec: { cidr, blockSize: 26, natOutgoing: true },
});

before(async () => {
  kube = await startKubeApiServer();
  await applyCalicoCrds(kube);
  ds = new kdd.KubeDatastore({ kubeconfigPath: kube.kubeconfigPath });
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  for (const t of typhas) await t.stop();
  await ds?.close();
  await kube?.stop();
});

describe('Typha on the Kubernetes datastore', () => {
  test('CRDs and the Kubernetes objects Calico derives from reach felix and bgp clients, and follow changes', async () => {
    await kube.ensureNamespace('shop');
    await kube.kubectl(['label', 'namespace', 'shop', 'role=frontend']);
    await kube.kubectl(['apply', '-f', '-'], { input: pod('shop', 'web-0', 'node-a', '10.65.0.5', { app: 'web' }) });
    await kube.kubectl(['apply', '-f', '-'], { input: pod('shop', 'pending', 'node-a', undefined) });
    await kube.kubectl(['apply', '-f', '-'], { input: pod('shop', 'bad-ip', 'node-a', 'not-an-address') });
    await kube.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'deny-web', namespace: 'shop' },
        spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] },
      }),
    });
    await kube.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: 'node-a', annotations: { 'projectcalico.org/IPv4Address': '192.0.2.10/24', 'projectcalico.org/ASNumber': '64512' } },
      }),
    });
    await ds.create(ippool('pool-a', '10.65.0.0/16'));

    const { daemon, port, metricsPort } = await startTypha();
    const felix = client('felix', port);
    const bgp = client('bgp', port);
    await until(() => felix.state === 'in-sync' && bgp.state === 'in-sync', 'clients in sync', 30_000);

    const f = held(felix);
    const wep = f.get('WorkloadEndpoint/shop/node--a-k8s-web--0-eth0');
    assert.ok(wep, `the pod's endpoint reached felix; it holds ${[...f.keys()].join(', ')}`);
    assert.deepEqual((wep.spec as { ipNetworks?: string[] }).ipNetworks, ['10.65.0.5/32']);
    assert.ok(
      [...f.keys()].every((k) => !k.includes('pending')),
      'a pod without an IP has no endpoint',
    );
    assert.ok(![...f.keys()].some((k) => k.includes('bad--ip')), 'a pod with a malformed IP annotation has no endpoint');
    const problems = (daemon.status() as { kubernetes: { sources: Array<{ name: string; problems: number }> } }).kubernetes.sources.find(
      (s) => s.name === 'pods',
    )?.problems;
    assert.equal(problems, 1, 'and is counted');
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /typha_kubernetes_objects_unconverted\{source="pods"\} 1/);
    assert.ok(f.has('Profile//kns.shop'), 'namespace profile');
    assert.ok(f.has('Profile//projectcalico-default-allow'), "Calico's built-in profile");
    assert.ok(f.has('Profile//ksa.shop.default'), 'service account profile');
    assert.ok(f.has('NetworkPolicy/shop/knp.default.deny-web'), 'Kubernetes NetworkPolicy as knp.default.*');
    assert.ok(f.has('IPPool//pool-a'), 'IPPool CRD');
    const b = held(bgp);
    assert.ok(b.has('Node//node-a'), `the Node reached bgp; it holds ${[...b.keys()].join(', ')}`);

    // Changes follow: the pending pod gets its IP, web-0 goes, the policy goes.
    await kube.kubectl(['annotate', 'pod', '-n', 'shop', 'pending', 'cni.projectcalico.org/podIP=10.65.0.6/32']);
    await kube.kubectl(['delete', 'pod', '-n', 'shop', 'web-0', '--grace-period=0', '--force']);
    await kube.kubectl(['delete', 'networkpolicy', '-n', 'shop', 'deny-web']);
    await until(() => {
      const now = held(felix);
      return (
        now.has('WorkloadEndpoint/shop/node--a-k8s-pending-eth0') &&
        !now.has('WorkloadEndpoint/shop/node--a-k8s-web--0-eth0') &&
        !now.has('NetworkPolicy/shop/knp.default.deny-web')
      );
    }, 'felix follows pod and policy changes');

    const status = daemon.status() as { datastoreId: string; kubernetes: { sources: Array<{ name: string; listed: boolean }> } };
    assert.match(status.datastoreId, /^kdd-/);
    assert.ok(status.kubernetes.sources.every((s) => s.listed));
    assert.ok(status.kubernetes.sources.some((s) => s.name === 'pods'));
  });

  test('Services and EndpointSlices reach felix and bgp clients cut down to what they read; a change outside that sends nothing', async () => {
    await kube.ensureNamespace('svc');
    await kube.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', namespace: 'svc', labels: { app: 'web' } },
        spec: { type: 'NodePort', externalTrafficPolicy: 'Local', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      }),
    });
    const slice = (addresses: string[]) =>
      JSON.stringify({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'web-1', namespace: 'svc', labels: { 'kubernetes.io/service-name': 'web' } },
        addressType: 'IPv4',
        endpoints: addresses.map((a) => ({ addresses: [a], nodeName: 'node-a', conditions: { ready: true } })),
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      });
    await kube.kubectl(['apply', '-f', '-'], { input: slice(['10.65.3.1']) });
    const { port } = await startTypha();
    const felix = client('felix', port);
    const bgp = client('bgp', port);
    await until(() => felix.state === 'in-sync' && bgp.state === 'in-sync', 'clients in sync', 30_000);
    for (const c of [felix, bgp]) {
      const svc = held(c).get('KubernetesService/svc/web') as { spec: { clusterIPs: string[]; ports: unknown[]; externalTrafficPolicy: string } } | undefined;
      assert.ok(svc, 'the Service arrived');
      assert.deepEqual(Object.keys(svc), ['spec'], 'no labels or metadata');
      assert.match(svc.spec.clusterIPs[0], /^10\.96\./, 'the cluster IP the API server allocated');
      assert.deepEqual(svc.spec.ports, [{ name: 'http', protocol: 'TCP', port: 80 }]);
      assert.equal(svc.spec.externalTrafficPolicy, 'Local');
      assert.deepEqual(held(c).get('KubernetesEndpointSlice/svc/web-1'), {
        spec: {
          serviceName: 'web',
          addressType: 'IPv4',
          endpoints: [{ addresses: ['10.65.3.1'], nodeName: 'node-a', ready: true }],
          ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
        },
      });
    }
    // An annotation on the Service changes nothing the agents read: no update; the slice change
    // after it is the proof that everything before it has been delivered.
    const revisionOf = () => felix.snapshot().find((u) => u.kind === 'KubernetesService' && u.name === 'web')?.revision;
    const before = revisionOf();
    await kube.kubectl(['annotate', 'service', '-n', 'svc', 'web', 'note=unrelated']);
    await kube.kubectl(['apply', '-f', '-'], { input: slice(['10.65.3.1', '10.65.3.2']) });
    await until(() => JSON.stringify(held(felix).get('KubernetesEndpointSlice/svc/web-1')).includes('10.65.3.2'), 'the slice change arrived', 30_000);
    assert.equal(revisionOf(), before, 'the annotation sent nothing');
  });

  test('random pod churn converges; a reconnect resumes on the same replica and gets a snapshot on another', async () => {
    await kube.ensureNamespace('churn');
    const { daemon, port } = await startTypha();
    const felix = client('felix', port, 'node-c');
    await until(() => felix.state === 'in-sync', 'in sync', 30_000);

    const live = new Map<string, string>(); // pod → ip
    let next = 0;
    for (let op = 0; op < 40; op++) {
      const r = randomInt(10);
      if (r < 6 || live.size === 0) {
        const name = `p${next}`;
        const ip = `10.66.0.${++next}`;
        await kube.kubectl(['apply', '-f', '-'], { input: pod('churn', name, 'node-c', ip, { n: String(next) }) });
        live.set(name, ip);
      } else {
        const name = [...live.keys()][randomInt(live.size)];
        await kube.kubectl(['delete', 'pod', '-n', 'churn', name, '--grace-period=0', '--force']);
        live.delete(name);
      }
    }
    const want = () => new Map([...live].map(([name, ip]) => [`WorkloadEndpoint/churn/node--c-k8s-${name.replace(/-/g, '--')}-eth0`, [`${ip}/32`]]));
    const churnHeld = () =>
      new Map([...held(felix)].filter(([k]) => k.startsWith('WorkloadEndpoint/churn/')).map(([k, v]) => [k, (v.spec as { ipNetworks?: unknown }).ipNetworks]));
    await until(() => JSON.stringify([...churnHeld()].sort()) === JSON.stringify([...want()].sort()), 'felix holds exactly the live pods', 30_000);

    // The same replica: a resume, with only what changed since; another replica: a snapshot
    // (each replica numbers its own revisions), whose content is the same.
    const first = await rawSync(port);
    first.ws.close();
    assert.equal(first.hello.mode, 'snapshot');
    await kube.kubectl(['apply', '-f', '-'], { input: pod('churn', 'late', 'node-c', '10.66.1.1') });
    await until(() => held(felix).has('WorkloadEndpoint/churn/node--c-k8s-late-eth0'), 'the late pod arrived');
    const resumed = await rawSync(port, { revision: first.revision, datastoreId: first.hello.datastoreId });
    resumed.ws.close();
    assert.equal(resumed.hello.mode, 'resume');
    assert.ok(resumed.bytes < first.bytes / 2, `resume ${resumed.bytes} B vs snapshot ${first.bytes} B`);
    const second = await startTypha();
    const other = await rawSync(second.port, { revision: first.revision, datastoreId: first.hello.datastoreId });
    other.ws.close();
    assert.equal(other.hello.mode, 'snapshot');
    assert.notEqual(other.hello.datastoreId, first.hello.datastoreId, 'each replica numbers its own revisions');
    const moved = client('felix', second.port, 'node-c');
    await until(() => moved.state === 'in-sync', 'second replica client in sync', 30_000);
    const churnOf = (c: SyncClient) => JSON.stringify([...held(c)].filter(([k]) => k.startsWith('WorkloadEndpoint/churn/')).sort());
    await until(() => churnOf(moved) === churnOf(felix), 'both replicas serve the same endpoints');
    assert.ok((daemon.status() as { ready: boolean }).ready);

    // The replicas find each other through Lease objects, a crashed replica's Lease is removed
    // after ten durations without renewal, and a stopped one removes its own.
    await kube.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'cattail-typha-crashed', namespace: 'kube-system', labels: { 'cattail.dev/typha-replica': 'true' } },
        spec: { holderIdentity: 'crashed', leaseDurationSeconds: 15, renewTime: '2026-01-01T00:00:00.000000Z' },
      }),
    });
    type Replicas = { replicas: Array<{ serverId: string; fresh: boolean; connections: number }> };
    await until(() => {
      const seen = (second.daemon.status() as Replicas).replicas.filter((r) => r.fresh).map((r) => r.serverId);
      return seen.includes(daemon.serverId) && seen.includes(second.daemon.serverId);
    }, 'each replica sees the other as fresh');
    const leases = () =>
      kube.kubectl(['get', 'leases', '-n', 'kube-system', '-l', 'cattail.dev/typha-replica', '-o', 'jsonpath={.items[*].spec.holderIdentity}']);
    assert.ok((await leases()).split(' ').includes(second.daemon.serverId));
    await until(async () => !(await leases()).split(' ').includes('crashed'), 'the stale Lease is removed');
    await second.daemon.stop();
    assert.ok(!(await leases()).split(' ').includes(second.daemon.serverId), 'the stopped replica deleted its Lease');
  });

  test('a cut link to the API server: changes made meanwhile arrive once it heals', async (t) => {
    await kube.ensureNamespace('cut');
    await kube.kubectl(['apply', '-f', '-'], { input: pod('cut', 'before', 'node-d', '10.68.0.1') });
    const proxy = await startTcpProxy('127.0.0.1', Number(new URL(kube.url).port));
    const dir = await mkdtemp(join(tmpdir(), 'cattail-kdd-cut-'));
    t.after(async () => {
      await proxy.close();
      await rm(dir, { recursive: true, force: true });
    });
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, JSON.stringify(adminKubeconfig(`https://127.0.0.1:${proxy.port}`, kube)));
    const { daemon, port } = await startTypha(kubeconfig);
    const felix = client('felix', port, 'node-d');
    const cutEndpoints = () =>
      [...held(felix).keys()]
        .filter((k) => k.startsWith('WorkloadEndpoint/cut/'))
        .sort()
        .join(' ');
    await until(() => cutEndpoints() === 'WorkloadEndpoint/cut/node--d-k8s-before-eth0', 'the first pod arrived', 30_000);

    proxy.cut();
    await kube.kubectl(['apply', '-f', '-'], { input: pod('cut', 'during', 'node-d', '10.68.0.2') });
    await kube.kubectl(['delete', 'pod', '-n', 'cut', 'before', '--grace-period=0', '--force']);
    proxy.heal();
    await until(
      () => cutEndpoints() === 'WorkloadEndpoint/cut/node--d-k8s-during-eth0',
      () => `felix holds ${cutEndpoints()}`,
      30_000,
    );
    // The cut was seen, counted and said why, per source.
    const sources = (daemon.status() as { kubernetes: { sources: Array<{ name: string; retries: number; lastError?: string }> } }).kubernetes.sources;
    const pods = sources.find((s) => s.name === 'pods');
    assert.ok(pods && pods.retries > 0 && pods.lastError, `pods source: ${JSON.stringify(pods)}`);
  });
});
