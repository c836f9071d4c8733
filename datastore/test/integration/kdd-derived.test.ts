/**
 * KubeDatastore's derived kinds against a real kube-apiserver: WorkloadEndpoints from Pods,
 * Profiles from Namespaces and ServiceAccounts (plus projectcalico-default-allow), Nodes from
 * Kubernetes Nodes, and knp.default.* NetworkPolicies next to the CRD ones. Writes to them are
 * refused with DATASTORE_READ_ONLY, except a Node update, which lands in the Kubernetes Node's
 * projectcalico.org annotations.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource, ResourceRef } from '@cattail/api';
import { applyCalicoCrds, startKubeApiServer, type KubeApiServer } from '../../src/testing/index.js';
import { KubeDatastore } from '../../src/kdd/kube-datastore.js';
import { splitEndpointName } from '../../src/kdd/derived-kinds.js';
import { ConflictError, NotFoundError, ReadOnlyError } from '../../src/errors.js';

const NS = 'shop';
/** node-1 / web-0 with every '-' doubled: Calico's endpoint name. */
const WEP = 'node--1-k8s-web--0-eth0';

interface K8sObject {
  metadata: { name: string; resourceVersion: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

function readOnly(pattern: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof ReadOnlyError, String(err));
    assert.equal(err.code, 'DATASTORE_READ_ONLY');
    assert.match(err.message, pattern);
    return true;
  };
}

describe('KubeDatastore: kinds derived from Kubernetes objects', () => {
  let kube: KubeApiServer;
  let ds: KubeDatastore;
  const create = (obj: unknown): Promise<string> => kube.kubectl(['create', '-o', 'json', '-f', '-'], { input: JSON.stringify(obj) });
  const k8sGet = async (...args: string[]): Promise<K8sObject> => JSON.parse(await kube.kubectl(['get', ...args, '-o', 'json'])) as K8sObject;

  before(async () => {
    kube = await startKubeApiServer();
    await applyCalicoCrds(kube);
    await kube.ensureNamespace(NS);
    await kube.kubectl(['label', 'namespace', NS, 'team=retail']);
    await create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web-sa', namespace: NS, labels: { tier: 'front' } } });
    const pod = (name: string, spec: Record<string, unknown>, annotations: Record<string, string> = {}): unknown => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: NS, labels: { app: 'web' }, annotations },
      spec: { containers: [{ name: 'c', image: 'registry.invalid/web:1', ports: [{ name: 'http', containerPort: 8080 }] }], ...spec },
    });
    await create(pod('web-0', { nodeName: 'node-1', serviceAccountName: 'web-sa' }, { 'cni.projectcalico.org/podIP': '10.65.0.5/32' }));
    await create(pod('pending-0', {})); // not scheduled: no endpoint
    await create({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-web', namespace: NS },
      spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ port: 8080 }] }] },
    });
    await create({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-1', labels: { 'kubernetes.io/hostname': 'node-1' }, annotations: { 'projectcalico.org/IPv4Address': '192.0.2.10/24' } },
    });
    ds = new KubeDatastore({ kubeconfigPath: kube.kubeconfigPath });
  });

  after(async () => {
    await ds?.close();
    await kube?.stop();
  });

  test('the endpoint name splits on single dashes', () => {
    assert.deepEqual(splitEndpointName(WEP), ['node-1', 'k8s', 'web-0', 'eth0']);
    assert.equal(splitEndpointName('node-k8s-'), undefined, 'an empty part');
    assert.deepEqual(splitEndpointName('node--k8s'), ['node-k8s']);
  });

  test('WorkloadEndpoint: get and list from Pods; a pod Calico would not show is not found', async () => {
    const pod = await k8sGet('pod', 'web-0', '-n', NS);
    const wep = await ds.get({ kind: 'WorkloadEndpoint', name: WEP, namespace: NS });
    assert.equal(wep.metadata.resourceVersion, pod.metadata.resourceVersion);
    assert.deepEqual(wep.spec?.ipNetworks, ['10.65.0.5/32']);
    assert.deepEqual(wep.spec?.profiles, [`kns.${NS}`, `ksa.${NS}.web-sa`]);
    assert.equal(wep.spec?.node, 'node-1');
    assert.equal(wep.metadata.labels?.app, 'web');

    const inNs = await ds.list('WorkloadEndpoint', { namespace: NS });
    assert.deepEqual(
      inNs.items.map((r) => r.metadata.name),
      [WEP],
    );
    assert.deepEqual(inNs.errors, []);
    assert.ok(inNs.revision >= Number(pod.metadata.resourceVersion));
    assert.deepEqual(
      (await ds.list('WorkloadEndpoint')).items.map((r) => `${r.metadata.namespace}/${r.metadata.name}`),
      [`${NS}/${WEP}`],
    );
    assert.equal((await ds.list('WorkloadEndpoint', { namespace: 'default' })).items.length, 0);

    await assert.rejects(ds.get({ kind: 'WorkloadEndpoint', name: 'node--1-k8s-pending--0-eth0', namespace: NS }), NotFoundError);
    await assert.rejects(ds.get({ kind: 'WorkloadEndpoint', name: 'node--2-k8s-web--0-eth0', namespace: NS }), NotFoundError, 'another node');
    await assert.rejects(ds.get({ kind: 'WorkloadEndpoint', name: 'no-such-pod', namespace: NS }), NotFoundError);
    await assert.rejects(ds.get({ kind: 'WorkloadEndpoint', name: WEP }), (err: Error & { code: string }) => err.code === 'NAMESPACE_REQUIRED');
  });

  test('Profile: kns.* from Namespaces, ksa.* from ServiceAccounts, and the built-in default-allow', async () => {
    const kns = await ds.get({ kind: 'Profile', name: `kns.${NS}` });
    assert.equal((kns.spec?.labelsToApply as Record<string, string>)['pcns.team'], 'retail');
    assert.deepEqual(kns.spec?.ingress, [{ action: 'Allow', source: {}, destination: {} }]);
    const ns = await k8sGet('namespace', NS);
    assert.equal(kns.metadata.resourceVersion, `${ns.metadata.resourceVersion}/`);

    const ksa = await ds.get({ kind: 'Profile', name: `ksa.${NS}.web-sa` });
    assert.equal((ksa.spec?.labelsToApply as Record<string, string>)['pcsa.tier'], 'front');

    const allow = await ds.get({ kind: 'Profile', name: 'projectcalico-default-allow' });
    assert.deepEqual(allow.spec, { ingress: [{ action: 'Allow', source: {}, destination: {} }], egress: [{ action: 'Allow', source: {}, destination: {} }] });

    const names = (await ds.list('Profile')).items.map((r) => r.metadata.name);
    assert.equal(names[0], 'projectcalico-default-allow');
    for (const name of [`kns.${NS}`, 'kns.default', `ksa.${NS}.default`, `ksa.${NS}.web-sa`]) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);

    await assert.rejects(ds.get({ kind: 'Profile', name: 'kns.nope' }), NotFoundError);
    await assert.rejects(ds.get({ kind: 'Profile', name: `ksa.${NS}.nope` }), NotFoundError);
    await assert.rejects(ds.get({ kind: 'Profile', name: 'my-profile' }), NotFoundError);
  });

  test('NetworkPolicy: the CRD ones and knp.default.* from Kubernetes NetworkPolicies', async () => {
    await ds.create({
      apiVersion: 'projectcalico.org/v3',
      kind: 'NetworkPolicy',
      metadata: { name: 'calico-web', namespace: NS },
      spec: { tier: 'default', order: 10, selector: "app == 'web'", types: ['Ingress'], ingress: [{ action: 'Allow' }] },
    });
    const listed = await ds.list('NetworkPolicy', { namespace: NS });
    assert.deepEqual(
      listed.items.map((r) => r.metadata.name),
      ['calico-web', 'knp.default.allow-web'],
    );
    assert.deepEqual(
      (await ds.list('NetworkPolicy')).items.map((r) => r.metadata.name),
      ['calico-web', 'knp.default.allow-web'],
    );
    const knp = await ds.get({ kind: 'NetworkPolicy', name: 'knp.default.allow-web', namespace: NS });
    assert.equal(knp.spec?.order, 1000);
    assert.match(String(knp.spec?.selector), /app == 'web'/);
    assert.equal((await ds.get({ kind: 'NetworkPolicy', name: 'calico-web', namespace: NS })).spec?.order, 10);
    await assert.rejects(ds.get({ kind: 'NetworkPolicy', name: 'knp.default.nope', namespace: NS }), NotFoundError);
  });

  test('Profile and knp.default.* policies are read-only; Nodes are not created or deleted', async () => {
    const kns = await ds.get({ kind: 'Profile', name: `kns.${NS}` });
    await assert.rejects(ds.update(kns), readOnly(/^operation Update is not supported on Profile\(kns\.shop\): .*Namespace shop/));
    await assert.rejects(ds.create({ ...kns, metadata: { name: 'kns.other' } }), readOnly(/operation Create/));
    await assert.rejects(ds.delete({ kind: 'Profile', name: 'projectcalico-default-allow' }), readOnly(/built-in/));
    const knp = await ds.get({ kind: 'NetworkPolicy', name: 'knp.default.allow-web', namespace: NS });
    await assert.rejects(ds.update(knp), readOnly(/Kubernetes NetworkPolicy shop\/allow-web/));
    await assert.rejects(ds.delete({ kind: 'NetworkPolicy', name: 'knp.default.allow-web', namespace: NS }), readOnly(/operation Delete/));
    const node = await ds.get({ kind: 'Node', name: 'node-1' });
    await assert.rejects(ds.create({ ...node, metadata: { name: 'node-2' } }), readOnly(/Kubernetes creates and deletes/));
    await assert.rejects(ds.delete({ kind: 'Node', name: 'node-1' }), readOnly(/operation Delete/));
    // Nothing changed underneath.
    await k8sGet('node', 'node-1');
    await k8sGet('networkpolicies.networking.k8s.io', 'allow-web', '-n', NS);
  });

  test("WorkloadEndpoint writes are the pod's IP annotations (the CNI plugin's), with resourceVersion preconditions", async () => {
    await create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'cni-0', namespace: NS, labels: { app: 'cni' } },
      spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'registry.invalid/web:1' }] },
    });
    const name = 'node--1-k8s-cni--0-eth0';
    const ref: ResourceRef = { kind: 'WorkloadEndpoint', name, namespace: NS };
    await assert.rejects(ds.get(ref), NotFoundError, 'no IP yet: no endpoint');
    const wep: Resource = {
      apiVersion: 'projectcalico.org/v3',
      kind: 'WorkloadEndpoint',
      metadata: { name, namespace: NS },
      spec: {
        node: 'node-1',
        orchestrator: 'k8s',
        pod: 'cni-0',
        endpoint: 'eth0',
        containerID: 'abc123',
        interfaceName: 'cali0123456789a',
        ipNetworks: ['10.65.0.9/32', 'fd00::9/128'],
      },
    };
    const created = await ds.create(wep);
    assert.deepEqual(created.spec?.ipNetworks, ['10.65.0.9/32', 'fd00::9/128']);
    const pod = await k8sGet('pod', 'cni-0', '-n', NS);
    assert.equal(pod.metadata?.annotations?.['cni.projectcalico.org/podIP'], '10.65.0.9/32');
    assert.equal(pod.metadata?.annotations?.['cni.projectcalico.org/podIPs'], '10.65.0.9/32,fd00::9/128');
    assert.equal(pod.metadata?.annotations?.['cni.projectcalico.org/containerID'], 'abc123');
    assert.equal((await ds.get(ref)).spec?.containerID, 'abc123');
    // A stale resourceVersion is refused; the current one deletes (blanks the IPs).
    const stale = created.metadata.resourceVersion;
    await ds.update({ ...wep, metadata: { ...wep.metadata, resourceVersion: stale }, spec: { ...wep.spec, containerID: 'def456' } });
    await assert.rejects(ds.delete(ref, { resourceVersion: stale }), ConflictError);
    await ds.delete(ref);
    await assert.rejects(ds.get(ref), NotFoundError, 'IPs blanked: no endpoint');
    await assert.rejects(
      ds.create({ ...wep, metadata: { name: 'node--2-k8s-cni--0-eth0', namespace: NS }, spec: { ...wep.spec, node: 'node-2' } }),
      (err: Error) => /pod shop\/cni-0 on node node-1 does not derive an endpoint of this name/.test(err.message),
      'an endpoint name that does not match the pod',
    );
  });

  test('Node: read from the Kubernetes Node; update patches its projectcalico.org annotations', async () => {
    const node = await ds.get({ kind: 'Node', name: 'node-1' });
    assert.deepEqual(node.spec?.bgp, { ipv4Address: '192.0.2.10/24' });
    assert.equal(node.metadata.labels?.['kubernetes.io/hostname'], 'node-1');
    assert.deepEqual(
      (await ds.list('Node')).items.map((r) => r.metadata.name),
      ['node-1'],
    );

    const wanted: Resource = {
      ...node,
      metadata: { ...node.metadata, labels: { ...node.metadata.labels, 'calico-rack': 'r1' } },
      spec: { ...node.spec, bgp: { ipv4Address: '192.0.2.10/24', asNumber: 64512 } },
    };
    const updated = await ds.update(wanted);
    assert.equal((updated.spec?.bgp as { asNumber?: number }).asNumber, 64512);
    assert.equal(updated.metadata.labels?.['calico-rack'], 'r1');
    assert.ok(Number(updated.metadata.resourceVersion) > Number(node.metadata.resourceVersion));

    const k8s = await k8sGet('node', 'node-1');
    assert.equal(k8s.metadata.annotations?.['projectcalico.org/ASNumber'], '64512');
    assert.equal(k8s.metadata.annotations?.['projectcalico.org/IPv4Address'], '192.0.2.10/24');
    assert.equal(k8s.metadata.annotations?.['projectcalico.org/labels'], '{"calico-rack":"r1"}');
    assert.deepEqual(k8s.metadata.labels, { 'kubernetes.io/hostname': 'node-1' }, 'the Kubernetes labels are not written');
    assert.equal(k8s.metadata.resourceVersion, updated.metadata.resourceVersion);

    // The given resourceVersion is the patch's precondition.
    await assert.rejects(ds.update({ ...wanted, spec: { ...wanted.spec, bgp: { ipv4Address: '192.0.2.11/24' } } }), (err: Error) => {
      assert.ok(err instanceof ConflictError);
      assert.match(err.message, new RegExp(`resourceVersion ${node.metadata.resourceVersion} is stale, current ${updated.metadata.resourceVersion}`));
      return true;
    });
    // Without one, the annotations are written whatever the Node's version.
    const { resourceVersion: _rv, ...bare } = updated.metadata;
    const blind = await ds.update({ ...updated, metadata: bare, spec: { bgp: { ipv4Address: '192.0.2.12/24' } } });
    assert.deepEqual(blind.spec?.bgp, { ipv4Address: '192.0.2.12/24' });
    assert.equal((await k8sGet('node', 'node-1')).metadata.annotations?.['projectcalico.org/ASNumber'], undefined, 'a field left out is removed');

    await assert.rejects(ds.update({ ...wanted, metadata: { name: 'node-9' } }), NotFoundError);
  });
});
