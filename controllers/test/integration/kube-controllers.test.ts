// kube-controllers on a real kube-apiserver with Calico's CRDs: the node controller's IPAM
// garbage collection (addresses of pods that are gone, of a deleted node and its tunnel
// address released after the grace period; live ones kept, including one only a pod's
// annotation shows and one whose pod appears during the grace period; the deleted node's
// affinity and block gone), then leader election between two complete instances (exactly one
// leads; a crashed leader is replaced within the lease duration; a clean stop hands over at once).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIP } from '@cattail/api';
import { EtcdDatastore, ipam, kdd } from '@cattail/datastore';
import { applyCalicoCrds, startEtcd, startKubeApiServer, until, type KubeApiServer } from '@cattail/datastore/testing';
import { IpamGarbageCollector, KubeControllersDaemon, kubeClusterView, loadKubeControllersConfig } from '../../src/index.js';

let kube: KubeApiServer;
let ds: kdd.KubeDatastore;

before(async () => {
  kube = await startKubeApiServer();
  await applyCalicoCrds(kube);
  ds = new kdd.KubeDatastore({ kubeconfigPath: kube.kubeconfigPath });
});

after(async () => {
  await ds?.close();
  await kube?.stop();
});

async function apply(obj: unknown): Promise<void> {
  await kube.kubectl(['apply', '-f', '-'], { input: JSON.stringify(obj) });
}

function node(name: string) {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name } };
}

function pod(namespace: string, name: string, nodeName: string, ip?: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace, name, annotations: ip ? { 'cni.projectcalico.org/podIP': `${ip}/32`, 'cni.projectcalico.org/podIPs': `${ip}/32` } : {} },
    spec: { nodeName, containers: [{ name: 'c', image: 'registry.invalid/none' }] },
  };
}

describe('the node controller: IPAM garbage collection', () => {
  test('releases exactly the leaked addresses after the grace period (a deleted node’s at once), keeps live ones, frees a deleted node’s blocks', async () => {
    const client = new ipam.IpamClient(ds);
    await apply(node('node-1'));
    await apply(node('node-2'));
    await kube.ensureNamespace('shop');
    await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool' }, spec: { cidr: '10.90.0.0/16', blockSize: 26 } });
    // The grace period comes from KubeControllersConfiguration, as in Calico.
    await ds.create({
      apiVersion: 'projectcalico.org/v3',
      kind: 'KubeControllersConfiguration',
      metadata: { name: 'default' },
      spec: { controllers: { node: { leakGracePeriod: '2s' } } },
    });

    const alloc = async (handle: string, nodeName: string, attrs: Record<string, string>) =>
      (await client.autoAssign({ handleId: handle, node: nodeName, num4: 1, num6: 0, attrs: { node: nodeName, ...attrs } })).ipv4[0];
    const podAttrs = (name: string) => ({ namespace: 'shop', pod: name, timestamp: new Date().toISOString() });

    const live = await alloc('k8s-pod-network.live', 'node-1', podAttrs('live'));
    await apply(pod('shop', 'live', 'node-1', live.address));
    const starting = await alloc('k8s-pod-network.starting', 'node-1', podAttrs('starting')); // pod exists, no address yet
    await apply(pod('shop', 'starting', 'node-1'));
    const shown = await alloc('k8s-pod-network.ghost', 'node-1', podAttrs('ghost')); // pod gone, but another pod shows the address
    await apply(pod('shop', 'witness', 'node-1', shown.address));
    const late = await alloc('k8s-pod-network.late', 'node-1', podAttrs('late')); // pod appears during the grace period
    const gone = await alloc('k8s-pod-network.gone', 'node-1', podAttrs('gone'));
    const onTwo = await alloc('k8s-pod-network.on-two', 'node-2', podAttrs('on-two'));
    const tunnel = await alloc('vxlan-tunnel-addr-node-2', 'node-2', { type: 'vxlanTunnelAddress' });
    const nodeTwoBlocks = (await ipam.listHostAffinities(ds, 'node-2', 4)).map((a) => a.cidr);
    assert.equal(nodeTwoBlocks.length, 1);
    await kube.kubectl(['delete', 'node', 'node-2']);

    const gc = new IpamGarbageCollector(ds, kubeClusterView(ds), { reconcilerPeriodMs: 200 });
    gc.start();
    try {
      await until(() => gc.status().sweeps >= 1, 'the first sweep');
      const first = gc.status();
      assert.equal(first.leakGracePeriodMs, 2000);
      // node-2 and its pod are gone: its addresses are confirmed leaks, freed by the first sweep
      // (as Calico's); on node-1, within the grace period, nothing is freed.
      assert.equal(first.candidates, 2, 'late and gone look leaked and wait');
      for (const h of ['k8s-pod-network.gone', 'k8s-pod-network.late']) assert.equal((await client.ipsByHandle(h)).length, 1, h);
      for (const h of ['k8s-pod-network.on-two', 'vxlan-tunnel-addr-node-2']) assert.deepEqual(await client.ipsByHandle(h), [], h);
      await apply(pod('shop', 'late', 'node-1', late.address));

      await until(
        async () =>
          (await ipam.listAllAffinities(ds)).every((a) => a.node !== 'node-2') &&
          (await ipam.readBlock(ds, nodeTwoBlocks[0])) === undefined &&
          (await client.ipsByHandle('k8s-pod-network.gone')).length === 0,
        'node-2’s affinity released and its block deleted, and the grace period of gone over',
        15_000,
      );
      const held = async (h: string) => (await client.ipsByHandle(h)).map((a) => a.address);
      assert.deepEqual(await held('k8s-pod-network.live'), [live.address]);
      assert.deepEqual(await held('k8s-pod-network.starting'), [starting.address]);
      assert.deepEqual(await held('k8s-pod-network.ghost'), [shown.address]);
      assert.deepEqual(await held('k8s-pod-network.late'), [late.address]);
      assert.deepEqual(await held('k8s-pod-network.gone'), []);
      assert.deepEqual(await held('k8s-pod-network.on-two'), []);
      assert.deepEqual(await held('vxlan-tunnel-addr-node-2'), []);
      // The released addresses' handles are gone with them; the live ones stay.
      const handles = (await ds.list('IPAMHandle')).items.map((h) => h.metadata.name).sort();
      assert.deepEqual(handles, ['k8s-pod-network.ghost', 'k8s-pod-network.late', 'k8s-pod-network.live', 'k8s-pod-network.starting']);
      assert.ok(
        (await ipam.listAllAffinities(ds)).some((a) => a.node === 'node-1'),
        'node-1 keeps its block',
      );
      const s = gc.status();
      assert.equal(
        [...s.reclamations.values()].reduce((x, y) => x + y, 0),
        3,
      );
      assert.equal(s.reclamations.get('pool|node-2'), 2);
      assert.equal(s.affinitiesReleased, 1);
      assert.equal(s.candidates, 0);
      const allocated = new Set(
        (await ipam.listBlocks(ds)).flatMap((b) => b.block.allocations.flatMap((x, o) => (x === null ? [] : [ipam.ipAt(b.cidr, o)]))).map(formatIP),
      );
      assert.deepEqual(
        [live, starting, shown, late, gone, onTwo, tunnel].map((a) => allocated.has(a.address)),
        [true, true, true, true, false, false, false],
      );
    } finally {
      await gc.stop();
    }
  });
});

describe('leader election on a Lease', () => {
  const config = (id: string) =>
    loadKubeControllersConfig({
      KUBECONFIG: kube.kubeconfigPath,
      POD_NAME: id,
      LEADER_ELECTION_NAMESPACE: 'kube-system',
      LEADER_ELECTION_LEASE_DURATION: '2',
      LEADER_ELECTION_RENEW_DEADLINE: '1.5',
      LEADER_ELECTION_RETRY_PERIOD: '0.2',
      RECONCILER_PERIOD: '1s',
      HEALTH_HOST: '127.0.0.1',
      HEALTH_PORT: '0',
      PROMETHEUS_METRICS_HOST: '127.0.0.1',
      PROMETHEUS_METRICS_PORT: '0',
    });
  const leaders = (ds: readonly KubeControllersDaemon[]) => ds.filter((d) => d.elector?.isLeader).map((d) => d.identity);

  test('two instances: exactly one leads; a crashed leader is replaced within the lease duration; a clean stop hands over at once', async (t) => {
    await kube.ensureNamespace('kube-system');
    const a = new KubeControllersDaemon(config('kc-a'));
    const b = new KubeControllersDaemon(config('kc-b'));
    const running = new Set([a, b]);
    t.after(async () => {
      for (const d of running) await d.stop();
    });
    const portsA = await a.start();
    await b.start();

    const first = await until(() => leaders([a, b]).length === 1 && leaders([a, b])[0], 'one leader');
    // Over several renew periods the lead never doubles and never moves.
    const seen = new Set<string>();
    const until2 = Date.now() + 1_500;
    await until(() => {
      const now = leaders([a, b]);
      assert.ok(now.length <= 1, `two leaders: ${now.join(', ')}`);
      for (const l of now) seen.add(l);
      return Date.now() > until2;
    }, 'an observation window');
    assert.deepEqual([...seen], [first]);
    const lease = JSON.parse(await kube.kubectl(['get', 'lease', '-n', 'kube-system', 'cattail-kube-controllers', '-o', 'json'])) as {
      spec: { holderIdentity: string; leaseDurationSeconds: number };
    };
    assert.equal(lease.spec.holderIdentity, first);
    assert.equal(lease.spec.leaseDurationSeconds, 2);
    const leader = first === 'kc-a' ? a : b;
    const standby = leader === a ? b : a;
    await until(() => leader.status().ipam.sweeps >= 1, 'the leader sweeps');
    assert.equal(standby.status().ipam.sweeps, 0, 'the standby runs no controller');
    if (leader === a) {
      const metrics = await (await fetch(`http://127.0.0.1:${portsA.metricsPort}/metrics`)).text();
      assert.match(metrics, /^cattail_kube_controllers_leader 1$/m);
      assert.match(metrics, /^ipam_allocations_in_use\{ippool="pool",node="node-1"\} \d+$/m);
    }
    assert.equal((await fetch(`http://127.0.0.1:${portsA.healthPort}/readiness`)).status, 200);

    // Crash: the leader stops renewing without handing the Lease back.
    const crashedAt = Date.now();
    await leader.stop({ release: false });
    running.delete(leader);
    await until(() => standby.elector?.isLeader, 'the standby takes over', 10_000, 50);
    const takeover = Date.now() - crashedAt;
    assert.ok(takeover <= 2_000 + 2 * 200 + 1_000, `took over after ${takeover} ms (lease 2 s)`);
    assert.ok(takeover >= 1_500, `took over after ${takeover} ms: before the Lease could have expired`);

    // A new instance waits; the leader's clean stop hands over at its next try, long before the lease would run out.
    const c = new KubeControllersDaemon(config('kc-c'));
    running.add(c);
    await c.start();
    await until(() => c.status().leader.holder === standby.identity, 'the newcomer sees the holder');
    assert.equal(c.elector?.isLeader, false);
    const stoppedAt = Date.now();
    await standby.stop();
    running.delete(standby);
    await until(() => c.elector?.isLeader, 'the newcomer takes over', 10_000, 50);
    assert.ok(Date.now() - stoppedAt < 1_500, `handover after ${Date.now() - stoppedAt} ms`);
  });
});

describe('etcd mode: namespaces, service accounts, NetworkPolicies and pod labels synced into etcd; the node controller on etcd', () => {
  test('creates, updates and deletes kns./ksa./knp.default. resources to match the API server, leaves others alone; deletes the Calico Node and IPAM of a gone node', async (t) => {
    const etcd = await startEtcd();
    const store = new EtcdDatastore(etcd.clientOptions());
    t.after(async () => {
      await store.close();
      await etcd.stop();
    });
    const profile = (name: string) => ({ apiVersion: 'projectcalico.org/v3', kind: 'Profile', metadata: { name }, spec: {} });
    await store.create(profile('kns.gone-ns')); // a namespace deleted while no controller ran
    await store.create(profile('mine')); // written by hand: not ours
    await kube.ensureNamespace('etcd-shop');
    await store.create({
      apiVersion: 'projectcalico.org/v3',
      kind: 'NetworkPolicy',
      metadata: { name: 'knp.default.old', namespace: 'etcd-shop' },
      spec: { tier: 'default', order: 1000, selector: 'all()', types: ['Ingress'] },
    });
    await apply({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { namespace: 'etcd-shop', name: 'allow-web' },
      spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ port: 80, protocol: 'TCP' }] }] },
    });

    // The node controller on etcd: a Calico Node whose Kubernetes node is gone goes, with its tunnel address.
    const calicoNode = (name: string, k8s?: string) => ({
      apiVersion: 'projectcalico.org/v3',
      kind: 'Node',
      metadata: { name },
      spec: k8s ? { orchRefs: [{ orchestrator: 'k8s', nodeName: k8s }] } : {},
    });
    await store.create(calicoNode('node-1', 'node-1'));
    await store.create(calicoNode('etcd-gone', 'etcd-gone'));
    await store.create(calicoNode('by-hand'));
    await store.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool' }, spec: { cidr: '10.91.0.0/16', blockSize: 26 } });
    const etcdIpam = new ipam.IpamClient(store);
    await etcdIpam.autoAssign({
      handleId: 'vxlan-tunnel-addr-etcd-gone',
      node: 'etcd-gone',
      num4: 1,
      num6: 0,
      attrs: { node: 'etcd-gone', type: 'vxlanTunnelAddress' },
    });
    await etcdIpam.autoAssign({
      handleId: 'vxlan-tunnel-addr-by-hand',
      node: 'by-hand',
      num4: 1,
      num6: 0,
      attrs: { node: 'node-1', type: 'vxlanTunnelAddress' },
    });

    // workloadendpoint: the CNI plugin's endpoint in etcd gets the pod's labels (and only that).
    await apply({
      ...pod('etcd-shop', 'web', 'node-1', '10.91.9.9'),
      metadata: { ...pod('etcd-shop', 'web', 'node-1', '10.91.9.9').metadata, labels: { app: 'web' } },
    });
    const decoded = kdd.podSource().decode(JSON.parse(await kube.kubectl(['get', 'pod', '-n', 'etcd-shop', 'web', '-o', 'json'])));
    assert.equal(decoded.outcome, 'resource');
    const wep = decoded.outcome === 'resource' ? decoded.resource : undefined;
    const wepRef = { kind: 'WorkloadEndpoint', name: wep!.metadata.name, namespace: 'etcd-shop' };
    await store.create({ ...wep!, metadata: { name: wep!.metadata.name, namespace: 'etcd-shop', labels: { app: 'old' } } });

    const daemon = new KubeControllersDaemon(
      loadKubeControllersConfig({
        LEAK_GRACE_PERIOD: '1s',
        DATASTORE_TYPE: 'etcdv3',
        ETCD_ENDPOINTS: etcd.endpoints.join(','),
        KUBECONFIG: kube.kubeconfigPath,
        POD_NAME: 'kc-etcd',
        LEADER_ELECTION_LEASE_NAME: 'kc-etcd',
        LEADER_ELECTION_LEASE_DURATION: '2',
        LEADER_ELECTION_RENEW_DEADLINE: '1.5',
        LEADER_ELECTION_RETRY_PERIOD: '0.2',
        RECONCILER_PERIOD: '1s',
        HEALTH_ENABLED: 'false',
        PROMETHEUS_METRICS_ENABLED: 'false',
      }),
    );
    t.after(() => daemon.stop());
    assert.deepEqual(daemon.status().controllers, ['node', 'namespace', 'serviceaccount', 'policy', 'workloadendpoint']);
    await daemon.start();

    const names = async (kind: string) =>
      (await store.list(kind)).items.map((r) => `${r.metadata.namespace ? `${r.metadata.namespace}/` : ''}${r.metadata.name}`).sort();
    let seen = '';
    await until(
      async () => {
        const p = await names('Profile');
        const n = await names('NetworkPolicy');
        seen = `profiles ${p.join(', ')}; policies ${n.join(', ')}`;
        return (
          p.includes('kns.etcd-shop') && p.includes('ksa.etcd-shop.default') && !p.includes('kns.gone-ns') && n.join() === 'etcd-shop/knp.default.allow-web'
        );
      },
      () => seen,
      15_000,
    );
    assert.ok((await names('Profile')).includes('mine'), 'a Profile we do not own is kept');
    const policy = await store.get({ kind: 'NetworkPolicy', name: 'knp.default.allow-web', namespace: 'etcd-shop' });
    assert.equal(policy.spec?.selector, "projectcalico.org/orchestrator == 'k8s' && app == 'web'");

    // A label on the namespace reaches its Profile; a deleted policy leaves etcd.
    await kube.kubectl(['label', 'namespace', 'etcd-shop', 'team=blue']);
    await kube.kubectl(['delete', 'networkpolicy', '-n', 'etcd-shop', 'allow-web']);
    await until(
      async () =>
        JSON.stringify((await store.get({ kind: 'Profile', name: 'kns.etcd-shop' })).spec).includes('"pcns.team":"blue"') &&
        (await names('NetworkPolicy')).length === 0,
      'the label applied and the policy deleted',
      15_000,
    );
    await until(
      async () =>
        (await etcdIpam.ipsByHandle('vxlan-tunnel-addr-etcd-gone')).length === 0 &&
        (await ipam.listHostAffinities(store, 'etcd-gone', 4)).length === 0 &&
        daemon.status().ipam.calicoNodesDeleted === 1,
      'the gone node’s tunnel address, block affinity and Calico Node gone',
      15_000,
    );
    assert.deepEqual(await names('Node'), ['by-hand', 'node-1']);
    assert.equal((await etcdIpam.ipsByHandle('vxlan-tunnel-addr-by-hand')).length, 1);
    assert.equal((await ipam.listHostAffinities(store, 'by-hand', 4)).length, 1, 'a Calico Node of no Kubernetes node keeps its block');
    await until(async () => (await store.get(wepRef)).metadata.labels?.app === 'web', 'the pod’s labels on its endpoint', 15_000);
    assert.deepEqual((await store.get(wepRef)).metadata.labels, wep!.metadata.labels);
    assert.deepEqual((await store.get(wepRef)).spec, wep!.spec, 'the plugin’s spec is left alone');
    await kube.kubectl(['label', 'pod', '-n', 'etcd-shop', 'web', 'tier=front']);
    await until(async () => (await store.get(wepRef)).metadata.labels?.tier === 'front', 'a new pod label on its endpoint', 15_000);
    assert.equal((await store.list('WorkloadEndpoint')).items.length, 1, 'no endpoint is created for pods the plugin did not wire');

    const synced = daemon.status().syncs;
    assert.deepEqual(
      synced.map((x) => [x.controller, x.synced]),
      [
        ['namespace', true],
        ['serviceaccount', true],
        ['policy', true],
        ['workloadendpoint', true],
        ['node-labels', true],
      ],
    );
  });
});

describe('least privilege', () => {
  test('runs on a ServiceAccount token with exactly the grants controllers/README.md lists; deletions and grace ends drive the sweeps', async (t) => {
    const rules = {
      cluster: [
        { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
        {
          apiGroups: ['crd.projectcalico.org'],
          resources: ['ipamblocks', 'blockaffinities', 'ipamhandles'],
          verbs: ['get', 'list', 'create', 'update', 'delete'],
        },
        { apiGroups: ['crd.projectcalico.org'], resources: ['ippools', 'kubecontrollersconfigurations'], verbs: ['get', 'list'] },
      ],
      lease: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }],
    };
    const sa = { kind: 'ServiceAccount', name: 'kc-rbac', namespace: 'kube-system' };
    await apply({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa.name, namespace: sa.namespace } },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'kc-rbac' }, rules: rules.cluster },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name: 'kc-rbac' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kc-rbac' },
          subjects: [sa],
        },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'kc-rbac', namespace: 'kube-system' }, rules: rules.lease },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'kc-rbac', namespace: 'kube-system' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'kc-rbac' },
          subjects: [sa],
        },
      ],
    });
    const token = (await kube.kubectl(['create', 'token', sa.name, '-n', sa.namespace])).trim();
    const client = new ipam.IpamClient(ds);
    const podAlloc = async (handleId: string, name: string) =>
      (await client.autoAssign({ handleId, node: 'node-1', num4: 1, num6: 0, attrs: { node: 'node-1', namespace: 'shop', pod: name } })).ipv4[0].address;
    const leaked = await podAlloc('k8s-pod-network.rbac', 'never');
    const doomed = await podAlloc('k8s-pod-network.doomed', 'doomed');
    await apply(pod('shop', 'doomed', 'node-1', doomed));

    const daemon = new KubeControllersDaemon(
      loadKubeControllersConfig({
        POD_NAME: 'kc-rbac',
        LEADER_ELECTION_LEASE_NAME: 'kc-rbac',
        LEADER_ELECTION_LEASE_DURATION: '2',
        LEADER_ELECTION_RENEW_DEADLINE: '1.5',
        LEADER_ELECTION_RETRY_PERIOD: '0.2',
        RECONCILER_PERIOD: '1h', // only a deletion event or a grace period's end can make a sweep happen
        LEAK_GRACE_PERIOD: '500ms',
        HEALTH_ENABLED: 'false',
        PROMETHEUS_METRICS_ENABLED: 'false',
      }),
      { kube: () => new kdd.KubeDatastore({ config: { server: kube.url, ca: kube.ca, token } }) },
    );
    t.after(() => daemon.stop());
    await daemon.start();
    await until(() => daemon.elector?.isLeader, 'the lead, with the ServiceAccount');
    // Leaked at start: released when its grace period ends, not at the end of the period.
    await until(async () => (await client.ipsByHandle('k8s-pod-network.rbac')).length === 0, `${leaked} released`, 15_000);
    assert.deepEqual(
      (await client.ipsByHandle('k8s-pod-network.doomed')).map((a) => a.address),
      [doomed],
    );
    // A pod deleted later: its watch event makes the sweep that starts the grace period.
    await kube.kubectl(['delete', 'pod', '-n', 'shop', 'doomed', '--grace-period=0', '--force']);
    await until(async () => (await client.ipsByHandle('k8s-pod-network.doomed')).length === 0, `${doomed} released after its pod’s deletion`, 15_000);
    const s = daemon.status();
    assert.equal(s.leader.errors, 0);
    assert.equal(s.ipam.sweepErrors, 0);
    // Nothing wider: the token may not write pods or read secrets (and can-i answers at all: list pods is yes).
    const asSa = `--as=system:serviceaccount:${sa.namespace}:${sa.name}`;
    assert.equal((await kube.kubectl(['auth', 'can-i', 'list', 'pods', asSa])).trim(), 'yes');
    for (const [verb, what] of [
      ['delete', 'pods'],
      ['get', 'secrets'],
      ['create', 'ippools.crd.projectcalico.org'],
    ]) {
      assert.equal((await kube.kubectl(['auth', 'can-i', verb, what, asSa]).catch(() => 'no')).trim(), 'no', `${verb} ${what}`);
    }
  });
});
