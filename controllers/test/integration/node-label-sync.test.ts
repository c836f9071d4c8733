// The node controller's label sync on the etcd datastore (Calico's SYNC_NODE_LABELS), with a
// real kube-apiserver holding the Kubernetes Nodes and a real etcd holding the Calico Nodes:
// each Kubernetes Node's labels land on its Calico Node (found by its k8s orchRef, else by
// name) next to the labels set there by hand; a label removed or changed in Kubernetes is
// removed or changed on the Calico Node, a hand-set one never; a Calico Node without a
// Kubernetes Node is left alone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@cattail/api';
import { EtcdDatastore, kdd } from '@cattail/datastore';
import { startEtcd, startKubeApiServer, until, type EtcdServer, type KubeApiServer } from '@cattail/datastore/testing';
import { KUBE_LABELS_ANNOTATION, KubeToEtcdSync, SYNC_TARGETS } from '../../src/kube-to-etcd-sync.js';

let kube: KubeApiServer;
let kds: kdd.KubeDatastore;
let etcd: EtcdServer;
let eds: EtcdDatastore;

const calicoNode = (name: string, labels: Record<string, string>, k8sName?: string): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'Node',
  metadata: { name, labels },
  spec: k8sName ? { orchRefs: [{ nodeName: k8sName, orchestrator: 'k8s' }] } : {},
});

before(async () => {
  kube = await startKubeApiServer();
  kds = new kdd.KubeDatastore({ kubeconfigPath: kube.kubeconfigPath });
  etcd = await startEtcd();
  eds = new EtcdDatastore(etcd.clientOptions());
});

after(async () => {
  await kds?.close();
  await eds?.close();
  await etcd?.stop();
  await kube?.stop();
});

const labelsOf = async (name: string) => (await eds.get({ kind: 'Node', name })).metadata.labels ?? {};

test('Kubernetes node labels follow onto the Calico Nodes; hand-set labels stay', async (t) => {
  await eds.create(calicoNode('calico-n1', { custom: 'x' }, 'n1'));
  await eds.create(calicoNode('n2', {}));
  await eds.create(calicoNode('lonely', { mine: 'y' }));
  for (const [name, labels] of [
    ['n1', { zone: 'a', rack: '1' }],
    ['n2', { zone: 'b' }],
  ] as const) {
    await kube.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels } }) });
  }
  const sync = new KubeToEtcdSync(kds, eds, SYNC_TARGETS.nodelabels, { debounceMs: 20 });
  sync.start();
  t.after(() => sync.stop());

  let seen: Record<string, string> = {};
  await until(
    async () => JSON.stringify((seen = await labelsOf('calico-n1'))) === JSON.stringify({ custom: 'x', rack: '1', zone: 'a' }),
    () => `calico-n1 by its orchRef: ${JSON.stringify(seen)}`,
  );
  await until(
    async () => (await labelsOf('n2')).zone === 'b',
    () => 'n2 by its name',
  );
  const n1 = await eds.get({ kind: 'Node', name: 'calico-n1' });
  assert.deepEqual(JSON.parse(n1.metadata.annotations?.[KUBE_LABELS_ANNOTATION] ?? ''), { rack: '1', zone: 'a' });

  await kube.kubectl(['label', 'node', 'n1', 'rack-', 'zone=c', '--overwrite']);
  await until(
    async () => JSON.stringify((seen = await labelsOf('calico-n1'))) === JSON.stringify({ custom: 'x', zone: 'c' }),
    () => `after the relabel: ${JSON.stringify(seen)}`,
  );
  assert.deepEqual(await labelsOf('lonely'), { mine: 'y' }, 'no Kubernetes Node: untouched');
  assert.ok(sync.status().updated >= 3);
  assert.equal(sync.status().errors, 0);
});
