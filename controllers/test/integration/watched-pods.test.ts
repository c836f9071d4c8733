// The collector's pods cache on a real kube-apiserver: filled by the first list, kept by the
// watch (a new pod and a changed annotation appear, a deleted pod goes and kicks), and a view
// whose pods() answers from it without listing the cluster (the listing view is asked only
// before the cache is filled).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { kdd } from '@cattail/datastore';
import { startKubeApiServer, until, type KubeApiServer } from '@cattail/datastore/testing';
import { cachedClusterView, WatchedPods, type ClusterView, type PodAddresses } from '../../src/cluster-view.js';

const NS = 'cache';
let kube: KubeApiServer;
let ds: kdd.KubeDatastore;

async function pod(name: string, ip: string): Promise<void> {
  await kube.kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: NS, annotations: { 'cni.projectcalico.org/podIP': `${ip}/32` } },
      spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'busybox' }] },
    }),
  });
}

before(async () => {
  kube = await startKubeApiServer();
  await kube.ensureNamespace(NS);
  ds = new kdd.KubeDatastore({ kubeconfigPath: kube.kubeconfigPath, listPageSize: 2 });
  await pod('a', '10.5.0.1');
  await pod('b', '10.5.0.2');
  await pod('c', '10.5.0.3');
});

after(async () => {
  await ds?.close();
  await kube?.stop();
});

const summary = (pods: readonly PodAddresses[] | undefined) => (pods ?? []).map((p) => `${p.name}@${p.node}=${p.ips.join(',')}`).sort();

test('the cache follows the pods; a deletion kicks; pods() is answered from it', async () => {
  let kicks = 0;
  const errors: Error[] = [];
  const cache = new WatchedPods(ds, { onDelete: () => kicks++, onError: (err) => errors.push(err) });
  let listed = 0;
  const base: ClusterView = {
    nodeNames: async () => new Set(['node-1']),
    pods: async () => {
      listed++;
      return [];
    },
    pod: async () => undefined,
  };
  const view = cachedClusterView(base, cache);
  assert.deepEqual(await view.pods(), [], 'before the first list: the listing view');
  assert.equal(listed, 1);

  cache.start();
  await until(
    () => cache.list()?.length === 3,
    () => `the first list: ${JSON.stringify(cache.list())}`,
  );
  assert.deepEqual(summary(await view.pods()), ['a@node-1=10.5.0.1', 'b@node-1=10.5.0.2', 'c@node-1=10.5.0.3']);
  assert.equal(listed, 1, 'answered from the cache');

  await pod('d', '10.5.0.4');
  await kube.kubectl(['annotate', 'pod', '-n', NS, 'a', '--overwrite', 'cni.projectcalico.org/podIP=10.5.0.9/32']);
  await kube.kubectl(['delete', 'pod', '-n', NS, 'b', '--grace-period=0', '--force']);
  await until(
    () => summary(cache.list()).join(' ') === 'a@node-1=10.5.0.9 c@node-1=10.5.0.3 d@node-1=10.5.0.4',
    () => `the watch: ${summary(cache.list()).join(' ')}`,
  );
  assert.ok(kicks >= 1, 'the deletion kicked');
  assert.deepEqual(errors, []);
  cache.stop();
  assert.equal(cache.list(), undefined, 'stopped: no cache');
});
