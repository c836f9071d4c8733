/**
 * `helm install` of the chart into a real kube-apiserver (RBAC on; no kubelet, so no pod runs):
 * every object is accepted, the CRDs become Established, the generated TLS is a CA with a
 * server and a client certificate under the CNs each side checks, and each ServiceAccount may
 * do what its component's code does and not more. The expected permissions are derived from
 * the code where the code can say: Typha's from the collections its Kubernetes-datastore
 * stream follows for the kinds its syncers carry. Then `helm upgrade` keeps the certificates,
 * and `helm uninstall` removes everything but the CRDs (Helm never deletes those).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kdd } from '@cattail/datastore';
import { parseNetConf } from '@cattail/cni';
import { startKubeApiServer, until, type KubeApiServer } from '@cattail/datastore/testing';
import { loadTyphaConfig, TyphaDaemon } from '@cattail/typha';
import { FelixDaemon, loadFelixConfig } from '@cattail/felix';
import { KubeControllersDaemon, loadKubeControllersConfig } from '@cattail/controllers';
import { ConfdDaemon, birdCommands, loadConfdConfig } from '@cattail/confd';
import { SyncClient, k8sServiceDiscovery } from '@cattail/typha/client';
import { SYNCER_TYPES, syncerKinds } from '@cattail/typha/protocol';
import { CHART_DIR, helmOk, parseManifests } from '../chart-kit.js';

const CLI = new URL('../../../../cli/bin/cattail.js', import.meta.url).pathname;

const NS = 'cattail-system';
const RELEASE = 'cattail';

interface Access {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  /** The object's name (for rules with resourceNames). */
  name?: string;
}

/** `/apis/<group>/<version>/<plural>` or `/api/v1/<plural>` → group and resource. */
function accessOf(path: string, verb: string): Access {
  const core = /^\/api\/v1\/([a-z]+)$/.exec(path);
  if (core) return { verb, group: '', resource: core[1] };
  const named = /^\/apis\/([^/]+)\/[^/]+\/([a-z]+)$/.exec(path);
  assert.ok(named, `collection path ${path}`);
  return { verb, group: named[1], resource: named[2] };
}

function describeAccess(a: Access): string {
  const res = `${a.resource}${a.subresource ? `/${a.subresource}` : ''}${a.group ? `.${a.group}` : ''}`;
  return `${a.verb} ${res}${a.name ? ` ${a.name}` : ''}${a.namespace ? ` in ${a.namespace}` : ''}`;
}

describe('helm install on a real kube-apiserver', () => {
  let kube: KubeApiServer;
  const kubeconfig = (): string[] => ['--kubeconfig', kube.kubeconfigPath];

  /** One SubjectAccessReview per check, all in one kubectl call; resolves to allowed per check. */
  async function allowed(serviceAccount: string, checks: readonly Access[]): Promise<boolean[]> {
    const user = `system:serviceaccount:${NS}:${serviceAccount}`;
    const reviews = checks.map((c) => ({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${NS}`, 'system:authenticated'],
        resourceAttributes: {
          verb: c.verb,
          group: c.group,
          resource: c.resource,
          subresource: c.subresource ?? '',
          namespace: c.namespace ?? '',
          name: c.name ?? '',
        },
      },
    }));
    const out = await kube.kubectl(['create', '-o', 'jsonpath={.status.allowed}{"\\n"}', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: reviews }),
    });
    const answers = out.trim().split('\n');
    assert.equal(answers.length, checks.length, `one answer per review: ${out}`);
    return answers.map((a) => a === 'true');
  }

  async function assertAccess(serviceAccount: string, may: readonly Access[], mayNot: readonly Access[]): Promise<void> {
    const answers = await allowed(serviceAccount, [...may, ...mayNot]);
    const wrong: string[] = [];
    may.forEach((a, i) => answers[i] || wrong.push(`cannot ${describeAccess(a)}`));
    mayNot.forEach((a, i) => answers[may.length + i] && wrong.push(`can ${describeAccess(a)}`));
    assert.deepEqual(wrong, [], `${serviceAccount}`);
  }

  before(async () => {
    kube = await startKubeApiServer();
    await helmOk(['install', RELEASE, CHART_DIR, '--namespace', NS, '--create-namespace', ...kubeconfig()]);
  });
  after(async () => {
    await kube?.stop();
  });

  test('the CRDs are installed and Established', async () => {
    const dir = join(CHART_DIR, 'crds');
    assert.equal(readdirSync(dir).length, 22);
    await kube.kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', dir]);
  });

  test('the workloads, the Service with its named port, and the RBAC objects exist', async () => {
    const objs = parseManifests(
      await kube.kubectl([
        'get',
        '-n',
        NS,
        '-o',
        'yaml',
        'deployment/cattail-typha',
        'deployment/cattail-kube-controllers',
        'daemonset/cattail-node',
        'service/cattail-typha',
        'poddisruptionbudget/cattail-typha',
        'configmap/cattail-node-cni',
        'serviceaccount/cattail-typha',
        'serviceaccount/cattail-node',
        'serviceaccount/cattail-kube-controllers',
        'role/cattail-typha',
        'rolebinding/cattail-node',
        'clusterrole/cattail-typha',
        'clusterrole/cattail-node',
        'clusterrole/cattail-kube-controllers',
        'clusterrolebinding/cattail-typha',
      ]),
    );
    const items = (objs[0] as any).items as any[];
    assert.equal(items.length, 15);
    const svc = items.find((o) => o.kind === 'Service');
    assert.ok(svc.spec.ports.some((p: any) => p.name === 'cattail-typha' && p.port === 5473));
    const typha = items.find((o) => o.kind === 'Deployment' && o.metadata.name === 'cattail-typha');
    assert.equal(typha.spec.replicas, 3);
  });

  test('the generated TLS: one CA, Typha and node certificates under the CNs each side checks', async () => {
    const secret = async (name: string): Promise<Record<string, X509Certificate>> => {
      const s = JSON.parse(await kube.kubectl(['get', '-n', NS, 'secret', name, '-o', 'json'])) as { type: string; data: Record<string, string> };
      assert.equal(s.type, 'kubernetes.io/tls');
      assert.ok(Buffer.from(s.data['tls.key'], 'base64').toString().includes('PRIVATE KEY'));
      return {
        ca: new X509Certificate(Buffer.from(s.data['ca.crt'], 'base64')),
        cert: new X509Certificate(Buffer.from(s.data['tls.crt'], 'base64')),
      };
    };
    const typha = await secret('cattail-typha-tls');
    const node = await secret('cattail-node-tls');
    assert.equal(typha.ca.fingerprint256, node.ca.fingerprint256);
    assert.match(typha.cert.subject, /CN=cattail-typha/);
    assert.match(node.cert.subject, /CN=cattail-node/);
    assert.ok(typha.cert.verify(typha.ca.publicKey), 'Typha certificate signed by the CA');
    assert.ok(node.cert.verify(typha.ca.publicKey), 'node certificate signed by the CA');
  });

  test("Typha's ServiceAccount: list and watch of every collection it follows, its Leases, nothing else", async () => {
    const kinds = new Set(SYNCER_TYPES.flatMap((s) => syncerKinds(s)));
    const collections = kdd.sourcesForKinds(kinds).map((s) => s.path());
    assert.ok(collections.length > 15);
    const may = collections.flatMap((p) => [accessOf(p, 'list'), accessOf(p, 'watch')]);
    for (const verb of ['get', 'list', 'create', 'update', 'delete']) may.push({ verb, group: 'coordination.k8s.io', resource: 'leases', namespace: NS });
    await assertAccess('cattail-typha', may, [
      { verb: 'delete', group: '', resource: 'pods', namespace: 'default' },
      { verb: 'create', group: 'crd.projectcalico.org', resource: 'ippools' },
      { verb: 'update', group: 'crd.projectcalico.org', resource: 'ipamblocks' },
      { verb: 'list', group: '', resource: 'secrets', namespace: NS },
      { verb: 'patch', group: '', resource: 'nodes' },
      { verb: 'create', group: 'coordination.k8s.io', resource: 'leases', namespace: 'default' },
    ]);
    // The same question as a person asks it.
    assert.equal(
      (await kube.kubectl(['auth', 'can-i', 'watch', 'ippools.crd.projectcalico.org', `--as=system:serviceaccount:${NS}:cattail-typha`])).trim(),
      'yes',
    );
    await assert.rejects(kube.kubectl(['auth', 'can-i', 'delete', 'pods', '-n', 'default', `--as=system:serviceaccount:${NS}:cattail-typha`]), /exit code 1/);
  });

  test("the node agent's ServiceAccount: Typha discovery and what the CNI plugin does", async () => {
    const crd = (resource: string, verb: string): Access => ({ verb, group: 'crd.projectcalico.org', resource });
    const ipamWritten = ['ipamblocks', 'blockaffinities', 'ipamhandles'].flatMap((r) => ['get', 'list', 'create', 'update', 'delete'].map((v) => crd(r, v)));
    await assertAccess(
      'cattail-node',
      [
        { verb: 'list', group: 'discovery.k8s.io', resource: 'endpointslices', namespace: NS },
        { verb: 'get', group: '', resource: 'pods', namespace: 'default' },
        { verb: 'get', group: '', resource: 'namespaces' },
        { verb: 'patch', group: '', resource: 'pods', subresource: 'status', namespace: 'default' },
        { verb: 'get', group: '', resource: 'nodes' },
        crd('ippools', 'list'),
        crd('ipreservations', 'list'),
        crd('ipamconfigs', 'get'),
        crd('clusterinformations', 'get'),
        ...ipamWritten,
        // node init
        { verb: 'list', group: '', resource: 'nodes' },
        { verb: 'patch', group: '', resource: 'nodes' },
        { verb: 'patch', group: '', resource: 'nodes', subresource: 'status' },
        crd('ippools', 'create'),
        crd('tiers', 'create'),
        ...['get', 'list', 'update'].map((v) => crd('caliconodestatuses', v)),
        ...['felixconfigurations', 'bgpconfigurations', 'ipamconfigs', 'clusterinformations'].flatMap((r) => ['get', 'create', 'update'].map((v) => crd(r, v))),
        // the CNI daemon renews the CNI kubeconfig with a token of this account
        { verb: 'create', group: '', resource: 'serviceaccounts', subresource: 'token', namespace: NS, name: 'cattail-node' },
      ],
      [
        { verb: 'create', group: '', resource: 'serviceaccounts', subresource: 'token', namespace: NS, name: 'cattail-typha' },
        { verb: 'create', group: '', resource: 'serviceaccounts', subresource: 'token', namespace: 'default', name: 'cattail-node' },
        { verb: 'delete', group: '', resource: 'pods', namespace: 'default' },
        { verb: 'update', group: '', resource: 'pods', namespace: 'default' },
        { verb: 'update', group: '', resource: 'pods', subresource: 'status', namespace: 'default' },
        { verb: 'list', group: '', resource: 'pods', namespace: 'default' },
        { verb: 'list', group: 'discovery.k8s.io', resource: 'endpointslices', namespace: 'default' },
        { verb: 'list', group: '', resource: 'secrets', namespace: NS },
        { verb: 'delete', group: '', resource: 'nodes' },
        { verb: 'update', group: '', resource: 'nodes' },
        crd('ippools', 'update'),
        crd('ippools', 'delete'),
        crd('tiers', 'update'),
        crd('felixconfigurations', 'delete'),
        crd('caliconodestatuses', 'create'),
        crd('caliconodestatuses', 'delete'),
        crd('networkpolicies', 'list'),
      ],
    );
  });

  test("kube-controllers' ServiceAccount: its Lease, pods and nodes read, IPAM cleaned", async () => {
    const crd = (resource: string, verb: string): Access => ({ verb, group: 'crd.projectcalico.org', resource });
    await assertAccess(
      'cattail-kube-controllers',
      [
        ...['get', 'create', 'update'].map((verb) => ({ verb, group: 'coordination.k8s.io', resource: 'leases', namespace: NS })),
        ...['get', 'list', 'watch'].flatMap((verb) => ['pods', 'nodes'].map((resource) => ({ verb, group: '', resource }))),
        crd('ipamblocks', 'update'),
        crd('ipamhandles', 'delete'),
        crd('blockaffinities', 'delete'),
        crd('kubecontrollersconfigurations', 'get'),
      ],
      [
        { verb: 'delete', group: '', resource: 'pods', namespace: 'default' },
        { verb: 'delete', group: '', resource: 'nodes' },
        { verb: 'create', group: 'coordination.k8s.io', resource: 'leases', namespace: 'default' },
        crd('ippools', 'create'),
      ],
    );
  });

  test("Typha runs on the chart's env under its own ServiceAccount's token, and a node agent finds it and syncs over the chart's TLS", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'cattail-helm-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    // What the pods would mount: the TLS Secrets' files, and a kubeconfig with a token of the
    // ServiceAccount (the API server issues it; no kubelet is needed for that).
    const mountSecret = async (name: string): Promise<string> => {
      const data = JSON.parse(await kube.kubectl(['get', '-n', NS, 'secret', name, '-o', 'jsonpath={.data}'])) as Record<string, string>;
      const to = join(dir, name);
      await mkdir(to);
      for (const [file, b64] of Object.entries(data)) await writeFile(join(to, file), Buffer.from(b64, 'base64'), { mode: 0o600 });
      return to;
    };
    const token = async (sa: string): Promise<string> => (await kube.kubectl(['create', 'token', sa, '-n', NS, '--duration=1h'])).trim();
    const typhaTls = await mountSecret('cattail-typha-tls');
    const nodeTls = await mountSecret('cattail-node-tls');
    const kubeconfig = join(dir, 'typha-kubeconfig');
    await writeFile(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: kube.url, 'certificate-authority': kube.caFile } }],
        users: [{ name: 'typha', user: { token: await token('cattail-typha') } }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'typha' } }],
        'current-context': 'c',
      }),
    );

    // The Deployment's env as the cluster holds it, with this process's paths and free ports.
    const deployment = JSON.parse(await kube.kubectl(['get', '-n', NS, 'deployment', 'cattail-typha', '-o', 'json']));
    const env: Record<string, string> = {};
    for (const e of deployment.spec.template.spec.containers[0].env as Array<{ name: string; value: string }>) {
      env[e.name] = e.value.replace('/etc/cattail/typha-tls', typhaTls);
    }
    Object.assign(env, {
      TYPHA_KUBECONFIG: kubeconfig,
      TYPHA_SERVERHOST: '127.0.0.1',
      TYPHA_SERVERPORT: '0',
      TYPHA_HEALTHPORT: '0',
      TYPHA_PROMETHEUSMETRICSPORT: '0',
    });
    const quiet = { error() {}, warn() {}, info() {}, debug() {}, child: () => quiet };
    const typha = new TyphaDaemon(loadTyphaConfig(env), { logger: quiet });
    t.after(() => typha.stop({ handoffMs: 0 }));
    const { syncPort } = await typha.start();
    await until(() => typha.ready, 'Typha in sync with the API server under its own ServiceAccount', 60_000);
    await until(
      async () => (await kube.kubectl(['get', 'leases', '-n', NS, '-l', 'cattail.dev/typha-replica', '-o', 'name'])).trim() !== '',
      "Typha's replica Lease in the release namespace",
      30_000,
    );

    // No endpoint-slice controller runs here: publish the slice it would, for the named port.
    // The API server refuses loopback addresses in a slice, so it names a documentation address
    // (192.0.2.0/24, never contacted) that the agent's discovery maps back to this host.
    await kube.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'cattail-typha-test', namespace: NS, labels: { 'kubernetes.io/service-name': 'cattail-typha' } },
        addressType: 'IPv4',
        ports: [{ name: 'cattail-typha', port: syncPort, protocol: 'TCP' }],
        endpoints: [{ addresses: ['192.0.2.10'], conditions: { ready: true } }],
      }),
    });
    // The node agent: discovery with its ServiceAccount's token, mutual TLS with its certificate,
    // both as the DaemonSet's env says.
    const ds = JSON.parse(await kube.kubectl(['get', '-n', NS, 'daemonset', 'cattail-node', '-o', 'json']));
    const felixEnv = new Map<string, string>(
      (ds.spec.template.spec.containers[0].env as Array<{ name: string; value?: string }>).map((e) => [
        e.name,
        (e.value ?? '').replace('/etc/cattail/node-tls', nodeTls),
      ]),
    );
    const discovery = k8sServiceDiscovery({
      namespace: felixEnv.get('FELIX_TYPHAK8SNAMESPACE')!,
      service: felixEnv.get('FELIX_TYPHAK8SSERVICENAME')!,
      apiServer: kube.url,
      token: await token('cattail-node'),
      ca: kube.ca,
      secure: true,
    });
    const found = await discovery.endpoints();
    assert.deepEqual(
      found.map((e) => e.url),
      [`wss://192.0.2.10:${syncPort}/sync`],
    );
    const felix = new SyncClient({
      syncer: 'felix',
      node: 'node-1',
      discovery: { endpoints: async () => found.map((e) => ({ ...e, url: e.url.replace('192.0.2.10', '127.0.0.1') })) },
      tls: {
        ca: await readFile(felixEnv.get('FELIX_TYPHACAFILE')!),
        cert: await readFile(felixEnv.get('FELIX_TYPHACERTFILE')!),
        key: await readFile(felixEnv.get('FELIX_TYPHAKEYFILE')!),
        cn: felixEnv.get('FELIX_TYPHACN'),
      },
      callbacks: { onStatus() {}, onUpdates() {} },
    });
    t.after(() => felix.close());
    felix.start();
    await until(() => felix.state === 'in-sync', 'the node agent in sync through Typha', 30_000);

    // Felix and confd themselves, each on its container's env from the DaemonSet: discovery with
    // the node ServiceAccount's token (the slice's documentation address mapped to this host),
    // mutual TLS with the node certificate. Felix computes only (dry-run dataplane); confd's
    // BIRD checks each configuration with the real `bird -p` and counts the reloads.
    const nodeDiscovery = { endpoints: async () => (await discovery.endpoints()).map((e) => ({ ...e, url: e.url.replace('192.0.2.10', '127.0.0.1') })) };
    const containerEnv = (name: string): Record<string, string> => {
      const c = (ds.spec.template.spec.containers as Array<{ name: string; env: Array<{ name: string; value?: string }> }>).find((x) => x.name === name)!;
      const out: Record<string, string> = { NODENAME: 'node-1' };
      for (const e of c.env) if (e.value !== undefined) out[e.name] = e.value.replace('/etc/cattail/node-tls', nodeTls);
      return out;
    };
    const felixDaemon = new FelixDaemon(
      loadFelixConfig({ ...containerEnv('felix'), FELIX_DATAPLANEMODE: 'dry-run', FELIX_HEALTHPORT: '0', FELIX_PROMETHEUSMETRICSENABLED: 'false' }).layers,
      { discovery: nodeDiscovery },
    );
    t.after(() => felixDaemon.stop());
    await felixDaemon.start();
    await until(() => felixDaemon.agent.ready, 'Felix in sync through Typha on the chart env', 30_000);

    // Its Node as node init leaves it (the BGP address annotation), which BIRD's config needs.
    await kube.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: 'node-1', annotations: { 'projectcalico.org/IPv4Address': '10.201.0.9/24' } },
      }),
    });
    let reloads = 0;
    const realBird = birdCommands({ bird: 'bird', birdc: 'birdc', socket: join(dir, 'bird.ctl'), timeoutMs: 10_000 });
    const confd = new ConfdDaemon(loadConfdConfig({ ...containerEnv('confd'), CONFD_HEALTHPORT: '0', CONFD_BIRDCONFIGFILE: join(dir, 'bird.cfg') }), {
      discovery: nodeDiscovery,
      bird: { check: (file) => realBird.check(file), configure: async () => (reloads++, '0003 Reconfigured') },
    });
    t.after(() => confd.stop());
    await confd.start();
    await until(
      () => confd.agent.ready,
      () => `confd in sync through Typha on the chart env, its BIRD configuration written: ${JSON.stringify(confd.agent.status())}`,
      30_000,
    );
    assert.ok(reloads >= 1, 'confd reloaded BIRD');
    assert.match(await readFile(join(dir, 'bird.cfg'), 'utf8'), /protocol kernel/);
  });

  test("kube-controllers runs on the Deployment's env under its own ServiceAccount's token: takes the Lease, sweeps cleanly", async (t) => {
    const deployment = JSON.parse(await kube.kubectl(['get', '-n', NS, 'deployment', 'cattail-kube-controllers', '-o', 'json']));
    const env: Record<string, string> = { POD_NAME: 'cattail-kube-controllers-test' };
    for (const e of deployment.spec.template.spec.containers[0].env as Array<{ name: string; value?: string }>)
      if (e.value !== undefined) env[e.name] = e.value;
    assert.equal(env.DATASTORE_TYPE, 'kubernetes');
    Object.assign(env, { HEALTH_ENABLED: 'false', PROMETHEUS_METRICS_ENABLED: 'false' });
    const token = (await kube.kubectl(['create', 'token', 'cattail-kube-controllers', '-n', NS, '--duration=1h'])).trim();
    const daemon = new KubeControllersDaemon(loadKubeControllersConfig(env), {
      kube: () => new kdd.KubeDatastore({ config: { server: kube.url, ca: kube.ca, token } }),
    });
    t.after(() => daemon.stop());
    await daemon.start();
    await until(() => daemon.elector?.isLeader, 'kube-controllers leading under its own ServiceAccount', 30_000);
    const lease = JSON.parse(await kube.kubectl(['get', 'lease', '-n', NS, env.LEADER_ELECTION_LEASE_NAME, '-o', 'json'])) as {
      spec: { holderIdentity: string };
    };
    assert.equal(lease.spec.holderIdentity, 'cattail-kube-controllers-test');
    await until(
      () => daemon.status().ipam.sweeps > 0,
      () => `a first IPAM sweep: ${JSON.stringify(daemon.status())}`,
      30_000,
    );
    assert.equal(daemon.status().leader.errors, 0);
    assert.equal(daemon.status().ipam.sweepErrors, 0);
  });

  test("node init on the node-init container's env under the node ServiceAccount's token: the Node, pools, defaults, condition", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'cattail-helm-init-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    // The Node as a kubelet registers it, with the address kubernetes-internal-ip reads.
    await kube.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'init-node', labels: { 'kubernetes.io/hostname': 'init-node' } } }),
    });
    await kube.kubectl([
      'patch',
      'node',
      'init-node',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { addresses: [{ type: 'InternalIP', address: '10.201.0.5' }] } }),
    ]);
    const token = (await kube.kubectl(['create', 'token', 'cattail-node', '-n', NS, '--duration=1h'])).trim();
    const kubeconfig = join(dir, 'node-kubeconfig');
    await writeFile(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: kube.url, 'certificate-authority': kube.caFile } }],
        users: [{ name: 'node', user: { token } }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'node' } }],
        'current-context': 'c',
      }),
    );
    const ds = JSON.parse(await kube.kubectl(['get', '-n', NS, 'daemonset', 'cattail-node', '-o', 'json']));
    const init = (ds.spec.template.spec.initContainers as Array<{ name: string; command: string[]; env: Array<{ name: string; value?: string }> }>).find(
      (c) => c.name === 'node-init',
    )!;
    assert.deepEqual(init.command, ['cattail', 'node', 'init']);
    const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
    for (const e of init.env) if (e.value !== undefined) env[e.name] = e.value;
    assert.equal(env.DATASTORE_TYPE, 'kubernetes');
    Object.assign(env, {
      NODENAME: 'init-node',
      KUBECONFIG: kubeconfig,
      // The test host's own interfaces are not the node's: take Kubernetes' InternalIP.
      IP_AUTODETECTION_METHOD: 'kubernetes-internal-ip',
      CALICO_IPV4POOL_VXLAN: 'Always',
      CATTAIL_VAR_LIB_DIR: dir,
      CALICO_STARTUP_LOGLEVEL: 'Warning',
    });
    const res = spawnSync(process.execPath, [CLI, 'node', 'init'], { encoding: 'utf8', env, timeout: 60_000 });
    assert.equal(res.status, 0, res.stderr);

    const node = JSON.parse(await kube.kubectl(['get', 'node', 'init-node', '-o', 'json'])) as {
      metadata: { annotations: Record<string, string> };
      status: { conditions?: Array<{ type: string; status: string; reason: string }> };
    };
    assert.equal(node.metadata.annotations['projectcalico.org/IPv4Address'], '10.201.0.5/32');
    assert.match(node.metadata.annotations['projectcalico.org/IPv4VXLANTunnelAddr'], /^192\.168\.\d+\.\d+$/);
    assert.deepEqual(
      node.status.conditions?.filter((c) => c.type === 'NetworkUnavailable').map((c) => [c.status, c.reason]),
      [['False', 'CalicoIsUp']],
    );
    const pool = JSON.parse(await kube.kubectl(['get', 'ippools.crd.projectcalico.org', 'default-ipv4-ippool', '-o', 'json'])) as {
      spec: Record<string, unknown>;
    };
    assert.equal(pool.spec.cidr, '192.168.0.0/16');
    for (const [kind, name] of [
      ['clusterinformations', 'default'],
      ['felixconfigurations', 'default'],
      ['bgpconfigurations', 'default'],
      ['ipamconfigs', 'default'],
      ['tiers', 'default'],
      ['tiers', 'kube-admin'],
    ]) {
      await kube.kubectl(['get', `${kind}.crd.projectcalico.org`, name]);
    }
    assert.equal(await readFile(join(dir, 'nodename'), 'utf8'), 'init-node');

    // The status-reporter container's command under the same token answers the node's
    // CalicoNodeStatus (no BIRD runs here: the status is written without the BIRD classes).
    await kube.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'crd.projectcalico.org/v1',
        kind: 'CalicoNodeStatus',
        metadata: { name: 'init-node-status' },
        spec: { node: 'init-node', classes: ['Agent', 'BGP'], updatePeriodSeconds: 5 },
      }),
    });
    const reporterC = (ds.spec.template.spec.containers as Array<{ name: string; command: string[] }>).find((c) => c.name === 'status-reporter')!;
    const reporter = spawn(process.execPath, [CLI, ...reporterC.command.slice(1).map((a) => a.replace('/var/run/calico', dir))], {
      env: { ...env, LOG_LEVEL: 'Warning' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let reporterErr = '';
    reporter.stdout.on('data', (d) => (reporterErr += String(d)));
    reporter.stderr.on('data', (d) => (reporterErr += String(d)));
    t.after(async () => {
      if (reporter.exitCode === null && reporter.signalCode === null) {
        reporter.kill('SIGTERM');
        await once(reporter, 'exit');
      }
    });
    await until(
      async () => JSON.parse(await kube.kubectl(['get', 'caliconodestatuses.crd.projectcalico.org', 'init-node-status', '-o', 'json'])).status?.lastUpdated,
      () => `the status reporter's answer under the node token: ${reporterErr}`,
      30_000,
    );

    // Without a Kubernetes Node of that name it stops, saying so.
    const missing = spawnSync(process.execPath, [CLI, 'node', 'init'], { encoding: 'utf8', env: { ...env, NODENAME: 'no-such-node' }, timeout: 60_000 });
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /no Kubernetes Node "no-such-node".*STARTUP_NODE_MISSING/);
  });

  test("install-cni writes a plugin, conflist and kubeconfig with which the CNI plugin's calls pass, and no more", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'cattail-helm-cni-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const cm = JSON.parse(await kube.kubectl(['get', '-n', NS, 'configmap', 'cattail-node-cni', '-o', 'json'])) as { data: Record<string, string> };
    const sa = join(dir, 'sa');
    const config = join(dir, 'config');
    await mkdir(sa);
    await mkdir(config);
    await writeFile(join(sa, 'token'), await kube.kubectl(['create', 'token', 'cattail-node', '-n', NS, '--duration=1h']));
    await writeFile(join(sa, 'ca.crt'), kube.ca);
    await writeFile(join(config, 'conflist'), cm.data.conflist);
    await writeFile(join(config, 'install-cni.sh'), cm.data['install-cni.sh']);
    await writeFile(join(dir, 'cattail-cni'), '#!/bin/sh\n# shim\n');
    await writeFile(join(dir, 'cattail-cni-direct'), '#!/bin/sh\n# direct\n');
    const api = new URL(kube.url);
    const res = spawnSync('sh', [join(config, 'install-cni.sh')], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        NODENAME: 'node-1',
        KUBERNETES_SERVICE_HOST: api.hostname,
        KUBERNETES_SERVICE_PORT: api.port,
        CATTAIL_HOST_ROOT: join(dir, 'host'),
        CATTAIL_SA_DIR: sa,
        CATTAIL_CNI_CONFIG_DIR: config,
        CATTAIL_CNI_PLUGIN: join(dir, 'cattail-cni'),
        CATTAIL_CNI_DIRECT: join(dir, 'cattail-cni-direct'),
      },
    });
    assert.equal(res.status, 0, res.stderr);
    const netd = join(dir, 'host', 'etc', 'cni', 'net.d');
    for (const name of ['cattail-cni', 'cattail-cni-direct']) {
      const installed = join(dir, 'host', 'opt', 'cni', 'bin', name);
      assert.equal(statSync(installed).mode & 0o777, 0o755);
      assert.equal(await readFile(installed, 'utf8'), await readFile(join(dir, name), 'utf8'));
    }
    assert.equal(statSync(join(netd, 'cattail-kubeconfig')).mode & 0o777, 0o600, 'the token is readable by root only');
    const conflist = JSON.parse(await readFile(join(netd, '10-cattail.conflist'), 'utf8'));
    const conf = parseNetConf({ cniVersion: conflist.cniVersion, name: conflist.name, ...conflist.plugins[0] });
    assert.equal(conf.nodename, 'node-1');

    // What the plugin does with that kubeconfig (cni/src/k8s-pod.ts and IPAM on the CRDs).
    await kube.ensureNamespace('apps');
    await kube.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web', namespace: 'apps' },
        spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'web' }] },
      }),
    });
    const cni = new kdd.KubeDatastore({ kubeconfigPath: join(netd, 'cattail-kubeconfig') });
    t.after(() => cni.close());
    await cni.request('GET', '/api/v1/namespaces/apps/pods/web');
    await cni.request('GET', '/api/v1/namespaces/apps');
    await cni.request('PATCH', '/api/v1/namespaces/apps/pods/web/status', { metadata: { annotations: { 'cni.projectcalico.org/podIP': '10.66.0.5/32' } } });
    await cni.list('IPPool');
    await cni.list('IPAMBlock');
    await assert.rejects(cni.request('DELETE', '/api/v1/namespaces/apps/pods/web'), /403|forbidden/i);
    await assert.rejects(cni.request('GET', '/api/v1/namespaces/apps/secrets'), /403|forbidden/i);
  });

  test("every object rendered for other values passes the API server's own schema, strictly", async () => {
    const variants: string[][] = [
      [],
      ['datastore=etcd', 'etcd.endpoints={https://10.0.0.10:2379}', 'etcd.tls.secretName=etcd-client', 'tls.enabled=false'],
      ['typha.replicas=1', 'kubeControllers.enabled=false', 'node.cni.mtu=1400', 'node.cni.ipv4Pools={10.66.0.0/16}'],
    ];
    for (const sets of variants) {
      const rendered = await helmOk(['template', 'other', CHART_DIR, '--namespace', NS, ...sets.flatMap((s) => ['--set', s])]);
      // Unknown or misplaced fields are errors here, not the warnings a plain apply gives.
      const out = await kube.kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { input: rendered });
      assert.equal(out.trim().split('\n').length, parseManifests(rendered).length, `${sets.join(' ')}: ${out}`);
    }
  });

  test('helm upgrade keeps the certificates; helm uninstall leaves only the CRDs', async () => {
    const caOf = async () =>
      JSON.parse(await kube.kubectl(['get', '-n', NS, 'secret', 'cattail-node-tls', '-o', 'jsonpath={.data}'])) as Record<string, string>;
    const before = await caOf();
    await helmOk(['upgrade', RELEASE, CHART_DIR, '--namespace', NS, '--reuse-values', '--set', 'typha.replicas=5', ...kubeconfig()]);
    assert.equal((await kube.kubectl(['get', '-n', NS, 'deployment', 'cattail-typha', '-o', 'jsonpath={.spec.replicas}'])).trim(), '5');
    assert.deepEqual(await caOf(), before, 'the upgrade kept the generated certificates');

    await helmOk(['uninstall', RELEASE, '--namespace', NS, '--wait', ...kubeconfig()]);
    const left = await kube.kubectl([
      'get',
      'deployments,daemonsets,services,secrets,configmaps,serviceaccounts,roles,rolebindings,poddisruptionbudgets',
      '-n',
      NS,
      '-l',
      `app.kubernetes.io/instance=${RELEASE}`,
      '-o',
      'name',
    ]);
    assert.equal(left.trim(), '');
    const cluster = await kube.kubectl(['get', 'clusterroles,clusterrolebindings', '-l', `app.kubernetes.io/instance=${RELEASE}`, '-o', 'name']);
    assert.equal(cluster.trim(), '');
    assert.match(await kube.kubectl(['get', 'crd', 'ippools.crd.projectcalico.org', '-o', 'name']), /ippools/);
  });
});
